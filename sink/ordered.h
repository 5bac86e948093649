/*  ordered.h: a line job's results printed in task order (sink --ordered).

    Results arrive in any order; the one for the next task to print goes to
    the output at once, with every held one that follows it; any other is
    held (a failed task with its reason: the sink's printer prints nothing
    for it).
    What is held is bounded by a byte budget: a LINE_RESULTS message that
    does not begin at or before the next task to print is taken only while
    its bytes fit what is left of the budget (dv_ordered_fits). One that
    does not fit is dropped uncounted, before the job sees it: its tasks
    stay missing, the sink's RESEND brings them again later, and the job's
    exactness is unchanged. The message holding the next task is always
    taken, so the order always advances; what it brings past that task may
    take the held bytes past the budget by one message (DV_LINE_RESULTS_BYTES)
    at most. Held tasks are at most the window's span (protocol.h) past the
    next one. One owner: the sink's main thread.
*/
#ifndef DV_ORDERED_H_INCLUDED
#define DV_ORDERED_H_INCLUDED

#include "protocol.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  --ordered-budget's default, in bytes.
#define DV_ORDERED_BUDGET_DEFAULT ((size_t) 64 << 20)
//  What one held result costs besides its bytes (counted in the budget).
#define DV_ORDERED_ENTRY_COST 48
//  The bytes of a result guessed before any came.
#define DV_ORDERED_MEAN_GUESS 64

typedef struct dv_ordered_t dv_ordered_t;

//  Where results go once in order (the sink's: dv_output_line).
typedef void (dv_ordered_print_fn) (void *context, uint64_t task_id,
                                    dv_line_status_t status, const char *bytes,
                                    size_t length);

//  Prints through print (with context, not owned) within budget bytes. NULL
//  when no memory. Caller owns the return value.
dv_ordered_t *dv_ordered_new (dv_ordered_print_fn *print, void *context, size_t budget);

void dv_ordered_destroy (dv_ordered_t **self_p);

//  Whether the sink may take results now: it begins at or before the next
//  task to print, or its entries fit the budget left.
bool dv_ordered_fits (const dv_ordered_t *self, const dv_line_results_t *results);

//  The most tasks a RESEND should ask for: what the budget holds at the
//  mean size of the results so far (at least 1). Asked for more, the
//  workers bring them back at once, out of order, and past the budget they
//  are dropped again; asked for this many, they are taken, and the next
//  RESEND follows at once (the sink's recovery goes on as each is in).
uint64_t dv_ordered_resend_tasks (const dv_ordered_t *self);

//  Takes one new result (dv_job_line_fn, with the ordered output as
//  context): prints it and what follows it when it is the next, else holds
//  a copy. Out of memory, the result is printed at once, out of order, and
//  counted (dv_ordered_unordered).
void dv_ordered_line (void *self, uint64_t task_id, dv_line_status_t status,
                      const char *bytes, size_t length);

//  The next task to print, the bytes held now and at most, and the results
//  printed out of order for want of memory.
uint64_t dv_ordered_next (const dv_ordered_t *self);
size_t dv_ordered_held (const dv_ordered_t *self);
size_t dv_ordered_held_max (const dv_ordered_t *self);
uint64_t dv_ordered_unordered (const dv_ordered_t *self);

#endif
