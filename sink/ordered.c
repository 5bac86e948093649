/*  ordered.c: results in task order within a byte budget (see ordered.h).

    The held results are a binary min-heap on task id: the next one to print
    is at its top when it is held at all.
*/
#include "ordered.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t task_id;
    dv_line_status_t status;
    size_t length;
    char bytes[];
} s_held_t;

struct dv_ordered_t {
    dv_ordered_print_fn *print;
    void *context;
    size_t budget;
    uint64_t next; //  the next task to print
    s_held_t **heap;
    size_t heap_size;
    size_t heap_capacity;
    size_t held_bytes;
    size_t held_max;
    uint64_t unordered;
    uint64_t taken;       //  results taken, held or not
    uint64_t taken_bytes; //  and their bytes
};

dv_ordered_t *
dv_ordered_new (dv_ordered_print_fn *print, void *context, size_t budget)
{
    dv_ordered_t *self = calloc (1, sizeof *self);
    if (self) {
        self->print = print;
        self->context = context;
        self->budget = budget;
    }
    return self;
}

void
dv_ordered_destroy (dv_ordered_t **self_p)
{
    dv_ordered_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->heap_size; index++)
        free (self->heap[index]);
    free (self->heap);
    free (self);
    *self_p = NULL;
}

static size_t
s_cost (size_t length)
{
    return length + DV_ORDERED_ENTRY_COST;
}

uint64_t
dv_ordered_resend_tasks (const dv_ordered_t *self)
{
    uint64_t mean = self->taken ? self->taken_bytes / self->taken : DV_ORDERED_MEAN_GUESS;
    uint64_t tasks = self->budget / s_cost ((size_t) mean);
    return tasks ? tasks : 1;
}

bool
dv_ordered_fits (const dv_ordered_t *self, const dv_line_results_t *results)
{
    if (results->first_task <= self->next)
        return true;
    //  Every entry as if new and ok: an upper bound of what it would hold.
    size_t need = results->entries_size + (size_t) results->count * DV_ORDERED_ENTRY_COST;
    return self->held_bytes + need <= self->budget;
}

static void
s_swap (s_held_t **a, s_held_t **b)
{
    s_held_t *swap = *a;
    *a = *b;
    *b = swap;
}

static int
s_push (dv_ordered_t *self, s_held_t *held)
{
    if (self->heap_size == self->heap_capacity) {
        size_t capacity = self->heap_capacity ? self->heap_capacity * 2 : 1024;
        s_held_t **grown = realloc (self->heap, capacity * sizeof *grown);
        if (!grown)
            return -1;
        self->heap = grown;
        self->heap_capacity = capacity;
    }
    size_t at = self->heap_size++;
    self->heap[at] = held;
    while (at && self->heap[(at - 1) / 2]->task_id > self->heap[at]->task_id) {
        s_swap (&self->heap[(at - 1) / 2], &self->heap[at]);
        at = (at - 1) / 2;
    }
    return 0;
}

static s_held_t *
s_pop (dv_ordered_t *self)
{
    s_held_t *top = self->heap[0];
    self->heap[0] = self->heap[--self->heap_size];
    size_t at = 0;
    for (;;) {
        size_t least = at, left = 2 * at + 1, right = left + 1;
        if (left < self->heap_size &&
            self->heap[left]->task_id < self->heap[least]->task_id)
            least = left;
        if (right < self->heap_size &&
            self->heap[right]->task_id < self->heap[least]->task_id)
            least = right;
        if (least == at)
            break;
        s_swap (&self->heap[at], &self->heap[least]);
        at = least;
    }
    return top;
}

void
dv_ordered_line (void *context, uint64_t task_id, dv_line_status_t status,
                 const char *bytes, size_t length)
{
    dv_ordered_t *self = context;
    self->taken++;
    self->taken_bytes += length;
    if (task_id != self->next) {
        //  A failed task's reason is held too: what prints is the same,
        //  early or not.
        size_t kept = length;
        s_held_t *held = malloc (sizeof *held + kept);
        if (held) {
            held->task_id = task_id;
            held->status = status;
            held->length = kept;
            memcpy (held->bytes, bytes, kept);
        }
        if (!held || s_push (self, held)) {
            free (held);
            self->unordered++;
            self->print (self->context, task_id, status, bytes, length);
            return;
        }
        self->held_bytes += s_cost (kept);
        if (self->held_bytes > self->held_max)
            self->held_max = self->held_bytes;
        return;
    }
    self->print (self->context, task_id, status, bytes, length);
    self->next++;
    while (self->heap_size && self->heap[0]->task_id == self->next) {
        s_held_t *held = s_pop (self);
        self->print (self->context, held->task_id, held->status, held->bytes,
                     held->length);
        self->held_bytes -= s_cost (held->length);
        self->next++;
        free (held);
    }
}

uint64_t
dv_ordered_next (const dv_ordered_t *self)
{
    return self->next;
}

size_t
dv_ordered_held (const dv_ordered_t *self)
{
    return self->held_bytes;
}

size_t
dv_ordered_held_max (const dv_ordered_t *self)
{
    return self->held_max;
}

uint64_t
dv_ordered_unordered (const dv_ordered_t *self)
{
    return self->unordered;
}
