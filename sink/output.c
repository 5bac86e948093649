/*  output.c: the sink's stdout through a writer thread (see output.h).

    The main thread fills self->current by hand; a full chunk goes to the
    tail of the queue. The writer takes chunks from the head, writes each
    whole, and returns them to a small free list. queued_bytes counts what is
    in the queue or being written; the main thread reads it for has_room.
    Everything shared is under self->mutex; the write itself is not.
*/
#include "output.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_CHUNK_SIZE ((size_t) 1 << 20)
#define S_LINE_MAX   (DV_I64_TEXT_MAX + 1 + DV_U128_TEXT_MAX + 1)
#define S_FREE_MAX   2 //  chunks kept for reuse

typedef struct s_chunk_t {
    struct s_chunk_t *next;
    size_t used;
    size_t size;
    bool summary; //  the summary text, counted apart from result lines
    char data[];
} s_chunk_t;

struct dv_output_t {
    int fd;
    s_chunk_t *current; //  being filled by the main thread (never NULL)
    pthread_t writer;
    bool writer_running;
    pthread_mutex_t mutex;
    pthread_cond_t work; //  a chunk was queued, or stop
    pthread_cond_t done; //  a chunk was written or lost
    //  Under mutex:
    s_chunk_t *head;
    s_chunk_t *tail;
    s_chunk_t *writing; //  taken by the writer, not yet accounted
    size_t writing_offset;
    s_chunk_t *spare;
    size_t spare_count;
    size_t queued_bytes;
    bool stop;
    bool broken;
    int error;
    uint64_t lost_lines;
    bool lost_summary;
};

static s_chunk_t *
s_chunk_new (size_t size)
{
    s_chunk_t *chunk = malloc (sizeof *chunk + size);
    if (chunk) {
        chunk->next = NULL;
        chunk->used = 0;
        chunk->size = size;
        chunk->summary = false;
    }
    return chunk;
}

//  Counts what from offset on is lost. Under mutex.
static void
s_lose (dv_output_t *self, const s_chunk_t *chunk, size_t offset)
{
    if (chunk->summary) {
        self->lost_summary = true;
        return;
    }
    const char *end = chunk->data + chunk->used;
    for (const char *at = chunk->data + offset; at < end; at++) {
        at = memchr (at, '\n', (size_t) (end - at));
        if (!at)
            break;
        self->lost_lines++;
    }
}

//  Takes a written or lost chunk back. Under mutex.
static void
s_recycle (dv_output_t *self, s_chunk_t *chunk)
{
    self->queued_bytes -= chunk->used;
    if (chunk->size == S_CHUNK_SIZE && self->spare_count < S_FREE_MAX) {
        chunk->used = 0;
        chunk->next = self->spare;
        self->spare = chunk;
        self->spare_count++;
    } else
        free (chunk);
}

static void *
s_writer (void *context)
{
    dv_output_t *self = context;
    pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, NULL);
    pthread_mutex_lock (&self->mutex);
    while (true) {
        while (!self->head && !self->stop)
            pthread_cond_wait (&self->work, &self->mutex);
        s_chunk_t *chunk = self->head;
        if (!chunk)
            break;
        self->head = chunk->next;
        if (!self->head)
            self->tail = NULL;
        self->writing = chunk;
        self->writing_offset = 0;
        while (!self->broken && self->writing_offset < chunk->used) {
            size_t offset = self->writing_offset;
            pthread_mutex_unlock (&self->mutex);
            //  Only here may dv_output_abandon cancel us: no lock is held.
            pthread_setcancelstate (PTHREAD_CANCEL_ENABLE, NULL);
            ssize_t rc = write (self->fd, chunk->data + offset, chunk->used - offset);
            int error = errno;
            pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, NULL);
            pthread_mutex_lock (&self->mutex);
            if (rc > 0)
                self->writing_offset += (size_t) rc;
            else if (rc == 0 || error != EINTR) {
                self->broken = true;
                self->error = rc == 0 ? EIO : error;
            }
        }
        if (self->writing_offset < chunk->used)
            s_lose (self, chunk, self->writing_offset);
        self->writing = NULL;
        s_recycle (self, chunk);
        pthread_cond_broadcast (&self->done);
    }
    pthread_mutex_unlock (&self->mutex);
    return NULL;
}

dv_output_t *
dv_output_new (int fd)
{
    dv_output_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->fd = fd;
    self->current = s_chunk_new (S_CHUNK_SIZE);
    if (!self->current) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->mutex, NULL);
    pthread_cond_init (&self->work, NULL);
    pthread_cond_init (&self->done, NULL);
    //  SIGINT and SIGTERM belong to the main thread, whose poll they end.
    sigset_t blocked, previous;
    sigemptyset (&blocked);
    sigaddset (&blocked, SIGINT);
    sigaddset (&blocked, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &blocked, &previous);
    int rc = pthread_create (&self->writer, NULL, s_writer, self);
    pthread_sigmask (SIG_SETMASK, &previous, NULL);
    if (rc) {
        pthread_cond_destroy (&self->done);
        pthread_cond_destroy (&self->work);
        pthread_mutex_destroy (&self->mutex);
        free (self->current);
        free (self);
        return NULL;
    }
    self->writer_running = true;
    return self;
}

//  Queues chunk, or counts it lost at once when the output is broken.
static void
s_queue (dv_output_t *self, s_chunk_t *chunk)
{
    pthread_mutex_lock (&self->mutex);
    self->queued_bytes += chunk->used;
    if (self->broken) {
        s_lose (self, chunk, 0);
        s_recycle (self, chunk);
    } else {
        chunk->next = NULL;
        if (self->tail)
            self->tail->next = chunk;
        else
            self->head = chunk;
        self->tail = chunk;
        pthread_cond_signal (&self->work);
    }
    pthread_mutex_unlock (&self->mutex);
}

//  Hands over the current chunk, if it holds anything, and takes a fresh
//  one. Returns -1 (keeping the current chunk, emptied and counted lost)
//  when no memory.
static int
s_hand_over (dv_output_t *self)
{
    if (!self->current->used)
        return 0;
    pthread_mutex_lock (&self->mutex);
    s_chunk_t *fresh = self->spare;
    if (fresh) {
        self->spare = fresh->next;
        self->spare_count--;
    }
    pthread_mutex_unlock (&self->mutex);
    if (!fresh)
        fresh = s_chunk_new (S_CHUNK_SIZE);
    if (!fresh) {
        pthread_mutex_lock (&self->mutex);
        s_lose (self, self->current, 0);
        pthread_mutex_unlock (&self->mutex);
        self->current->used = 0;
        return -1;
    }
    s_queue (self, self->current);
    self->current = fresh;
    return 0;
}

void
dv_output_result (void *context, int64_t value, dv_u128_t square)
{
    dv_output_t *self = context;
    if (self->current->used + S_LINE_MAX > S_CHUNK_SIZE)
        s_hand_over (self);
    char *line = self->current->data + self->current->used;
    size_t length = dv_i64_format (value, line);
    line[length++] = ' ';
    length += dv_u128_format (square, line + length);
    line[length++] = '\n';
    self->current->used += length;
}

void
dv_output_line (void *context, uint64_t task_id, dv_line_status_t status,
                const char *bytes, size_t length)
{
    dv_output_t *self = context;
    if (status != DV_LINE_OK)
        return;
    //  A line (at most DV_LINE_MAX bytes, protocol.h) always fits a chunk.
    if (self->current->used + DV_I64_TEXT_MAX + 2 + length > S_CHUNK_SIZE)
        s_hand_over (self);
    char *line = self->current->data + self->current->used;
    size_t used = dv_u64_format (task_id, line);
    line[used++] = '\t';
    memcpy (line + used, bytes, length);
    used += length;
    line[used++] = '\n';
    self->current->used += used;
}

int
dv_output_summary (dv_output_t *self, const char *text, size_t length)
{
    s_hand_over (self);
    s_chunk_t *chunk = text ? s_chunk_new (length) : NULL;
    if (!chunk) {
        pthread_mutex_lock (&self->mutex);
        self->lost_summary = true;
        pthread_mutex_unlock (&self->mutex);
        return -1;
    }
    memcpy (chunk->data, text, length);
    chunk->used = length;
    chunk->summary = true;
    s_queue (self, chunk);
    return 0;
}

bool
dv_output_has_room (dv_output_t *self)
{
    pthread_mutex_lock (&self->mutex);
    bool room = self->queued_bytes < DV_OUTPUT_QUEUED_MAX;
    pthread_mutex_unlock (&self->mutex);
    return room;
}

int
dv_output_finish (dv_output_t *self, int timeout_ms)
{
    s_hand_over (self);
    struct timespec deadline;
    clock_gettime (CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock (&self->mutex);
    while (self->queued_bytes && timeout_ms > 0 &&
           pthread_cond_timedwait (&self->done, &self->mutex, &deadline) == 0)
        ;
    int rc = self->queued_bytes ? 1 : 0;
    pthread_mutex_unlock (&self->mutex);
    return rc;
}

static void
s_stop (dv_output_t *self, bool cancel)
{
    pthread_mutex_lock (&self->mutex);
    self->stop = true;
    pthread_cond_signal (&self->work);
    pthread_mutex_unlock (&self->mutex);
    if (cancel)
        pthread_cancel (self->writer);
    pthread_join (self->writer, NULL);
    self->writer_running = false;
}

void
dv_output_abandon (dv_output_t *self)
{
    s_hand_over (self);
    if (!self->writer_running)
        return;
    s_stop (self, true);
    //  The writer is gone: what it held or had queued is lost.
    if (self->writing) {
        s_lose (self, self->writing, self->writing_offset);
        s_recycle (self, self->writing);
        self->writing = NULL;
    }
    while (self->head) {
        s_chunk_t *chunk = self->head;
        self->head = chunk->next;
        s_lose (self, chunk, 0);
        s_recycle (self, chunk);
    }
    self->tail = NULL;
    if (!self->error)
        self->error = ECANCELED;
    self->broken = true;
}

void
dv_output_destroy (dv_output_t **self_p)
{
    dv_output_t *self = *self_p;
    if (!self)
        return;
    s_hand_over (self);
    if (self->writer_running)
        s_stop (self, false);
    while (self->spare) {
        s_chunk_t *chunk = self->spare;
        self->spare = chunk->next;
        free (chunk);
    }
    free (self->current);
    pthread_cond_destroy (&self->done);
    pthread_cond_destroy (&self->work);
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}

uint64_t
dv_output_lost_lines (dv_output_t *self)
{
    pthread_mutex_lock (&self->mutex);
    uint64_t lost = self->lost_lines;
    pthread_mutex_unlock (&self->mutex);
    return lost;
}

bool
dv_output_lost_summary (dv_output_t *self)
{
    pthread_mutex_lock (&self->mutex);
    bool lost = self->lost_summary;
    pthread_mutex_unlock (&self->mutex);
    return lost;
}

const char *
dv_output_error (dv_output_t *self)
{
    pthread_mutex_lock (&self->mutex);
    int error = self->error;
    pthread_mutex_unlock (&self->mutex);
    return error ? strerror (error) : NULL;
}
