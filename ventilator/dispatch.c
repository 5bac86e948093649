/*  dispatch.c: credit-based dispatch over a ROUTER socket.

    ROUTER_MANDATORY makes a send to a worker that has gone fail with
    EHOSTUNREACH instead of vanishing, so its entry is dropped at once.

    Trust is judged on the clock of the last read of credit (once per drain,
    not once per batch: the clock shows in profiles), and which workers are
    trusted is counted again whenever that can change.
*/
#include "dispatch.h"
#include "clock.h"
#include "ledger.h"
#include "protocol.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ROUTING_ID_MAX 255
//  How long a batch waits for a worker under its share before one at its
//  share takes it: a few credit round trips.
#define S_SHARE_GRACE_US 2000
//  Messages read per call at most, so that a flood of them cannot keep the
//  caller from its other duties (a signal among them).
#define S_CREDIT_READS_MAX 1000
#define S_KEY_SIZE         41 //  a Z85 CURVE key and its NUL
//  A live worker restates its credit at least every DV_CREDIT_REFRESH_MS
//  while dry; one silent twice that long is likely dead (a killed worker
//  stays here until a send to it fails, and a send needs its credit), and
//  no longer counts as trusted: suspects are not kept waiting for it.
#define S_SILENT_MS (2 * DV_CREDIT_REFRESH_MS)

typedef struct {
    uint8_t routing_id[S_ROUTING_ID_MAX];
    size_t routing_id_size;
    int64_t credit;     //  batches this worker will still take
    int64_t heard_ms;   //  its last credit message
    uint64_t taken;     //  batches sent since its last credit message
    dv_ledger_t ledger; //  what it holds unconfirmed; how far it is trusted
    //  Its CURVE key, "" without (dv_dispatch_set_admit).
    char key[S_KEY_SIZE];
} s_worker_t;

struct dv_dispatch_t {
    void *tasks;         //  the ROUTER's libzmq handle
    s_worker_t *workers; //  every worker heard from and not known gone
    size_t worker_count;
    size_t capacity;
    size_t next;           //  where the round robin goes on
    int64_t held_since_us; //  since when workers at their share were passed over
    dv_dispatch_admit_fn *admit;
    void *admit_context;
    uint32_t worker_cap;  //  batches a trusted worker may hold and have credit for
    uint32_t share_min;   //  credit a trusted worker may have, however many share
    int64_t now_ms;       //  the clock at the last read of credit
    size_t trusted_count; //  workers neither suspect nor silent at now_ms
    bool any_lost;        //  some worker has lost tasks not confirmed since
    dv_dispatch_mode_t mode;
    bool push_blocked; //  push: the last send found no pipe with room
};

dv_dispatch_t *
dv_dispatch_new (zsock_t *tasks, uint32_t worker_cap, uint32_t share_min,
                 dv_dispatch_mode_t mode)
{
    dv_dispatch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->tasks = zsock_resolve (tasks);
    self->worker_cap = worker_cap ? worker_cap : 1;
    self->share_min = share_min < 2 ? 2 : share_min;
    self->now_ms = dv_now_ms ();
    self->mode = mode;
    if (mode == DV_DISPATCH_PUSH)
        return self;
    int mandatory = 1;
    zmq_setsockopt (self->tasks, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    return self;
}

void
dv_dispatch_destroy (dv_dispatch_t **self_p)
{
    if (!*self_p)
        return;
    for (size_t index = 0; index < (*self_p)->worker_count; index++)
        dv_ledger_free (&(*self_p)->workers[index].ledger);
    free ((*self_p)->workers);
    free (*self_p);
    *self_p = NULL;
}

void
dv_dispatch_set_admit (dv_dispatch_t *self, dv_dispatch_admit_fn *admit, void *context)
{
    self->admit = admit;
    self->admit_context = context;
}

static s_worker_t *
s_find_or_add (dv_dispatch_t *self, const void *routing_id, size_t size)
{
    for (size_t index = 0; index < self->worker_count; index++) {
        s_worker_t *worker = &self->workers[index];
        if (worker->routing_id_size == size &&
            !memcmp (worker->routing_id, routing_id, size))
            return worker;
    }
    if (self->worker_count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        s_worker_t *grown = realloc (self->workers, capacity * sizeof *grown);
        if (!grown)
            return NULL;
        self->workers = grown;
        self->capacity = capacity;
    }
    s_worker_t *worker = &self->workers[self->worker_count];
    if (dv_ledger_init (&worker->ledger, self->worker_cap))
        return NULL;
    self->worker_count++;
    memcpy (worker->routing_id, routing_id, size);
    worker->routing_id_size = size;
    worker->credit = 0;
    worker->taken = 0;
    worker->heard_ms = self->now_ms;
    return worker;
}

//  Counts the workers not suspect now, and not silent (S_SILENT_MS).
static void
s_count_trusted (dv_dispatch_t *self)
{
    self->trusted_count = 0;
    self->any_lost = false;
    for (size_t index = 0; index < self->worker_count; index++) {
        const dv_ledger_t *ledger = &self->workers[index].ledger;
        if (!dv_ledger_suspect (ledger, self->now_ms) &&
            self->now_ms - self->workers[index].heard_ms <= S_SILENT_MS)
            self->trusted_count++;
        self->any_lost |= ledger->lost_count != 0;
    }
}

static void
s_remove (dv_dispatch_t *self, size_t index)
{
    dv_ledger_free (&self->workers[index].ledger);
    self->workers[index] = self->workers[--self->worker_count];
    s_count_trusted (self);
    if (self->next >= self->worker_count)
        self->next = 0;
}

//  The most credit a worker may have: its share of the window (the cap over
//  the workers known), at least share_min (what a real worker asks for by
//  default), and no more than its ledger allows (halved per failure). A
//  greedy one asking for everything gets what a real worker gets, not the
//  others' part: the window bounds what all of them hold together.
static int64_t
s_credit_cap (dv_dispatch_t *self, const s_worker_t *worker)
{
    int64_t share =
        (int64_t) (self->worker_cap / (self->worker_count ? self->worker_count : 1));
    int64_t cap = dv_ledger_cap (&worker->ledger);
    share = share < self->share_min ? self->share_min : share;
    return share < cap ? share : cap;
}

uint64_t
dv_dispatch_take_credit (dv_dispatch_t *self)
{
    uint64_t malformed = 0;
    size_t known = self->worker_count;
    self->now_ms = dv_now_ms ();
    if (self->mode == DV_DISPATCH_PUSH)
        return 0; //  a PUSH reads nothing
    zmq_msg_t routing_id, body;
    zmq_msg_init (&routing_id);
    zmq_msg_init (&body);
    for (int reads = 0; reads < S_CREDIT_READS_MAX &&
                        zmq_msg_recv (&routing_id, self->tasks, ZMQ_DONTWAIT) >= 0;
         reads++) {
        //  A ROUTER message is [routing id][body]. Read every frame there is,
        //  so that no further frame can pass for a message of its own.
        int frames = 1;
        bool more = zmq_msg_more (&routing_id);
        while (more && zmq_msg_recv (&body, self->tasks, 0) >= 0) {
            frames++;
            more = zmq_msg_more (&body);
        }
        dv_want_t want;
        if (frames != 2 || zmq_msg_size (&routing_id) > S_ROUTING_ID_MAX ||
            dv_want_decode (zmq_msg_data (&body), zmq_msg_size (&body), &want)) {
            malformed++;
            continue;
        }
        const char *key = self->admit ? zmq_msg_gets (&body, "User-Id") : NULL;
        if (self->admit && !self->admit (self->admit_context, key, true))
            continue;
        s_worker_t *worker =
            s_find_or_add (self, zmq_msg_data (&routing_id), zmq_msg_size (&routing_id));
        if (worker) {
            snprintf (worker->key, sizeof worker->key, "%s", key ? key : "");
            worker->heard_ms = self->now_ms;
            int64_t cap = s_credit_cap (self, worker);
            int64_t credit = worker->credit + want.batches;
            if (want.is_reset) {
                //  A real worker restates its credit only when dry, holding
                //  nothing (worker/credit.h). One
                //  that restates while it may still hold batches, those sent
                //  within that spell, gets only what it lacks of its part (2
                //  at least, so that an idle worker is never starved). Not
                //  every batch still unconfirmed: after a loss, first_missing
                //  stays below the batches delivered since (ledger.h).
                int64_t lacking =
                    cap - (int64_t) dv_ledger_held_since (
                              &worker->ledger, self->now_ms - DV_CREDIT_REFRESH_MS);
                cap = lacking < 2 ? (cap < 2 ? cap : 2) : lacking;
                credit = want.batches;
            }
            worker->credit = credit < cap ? credit : cap;
            worker->taken = 0;
        }
    }
    zmq_msg_close (&routing_id);
    zmq_msg_close (&body);
    //  Newcomers make every share smaller, the credit granted already too:
    //  a fake that asked first must not keep a lone worker's share.
    if (self->worker_count != known)
        for (size_t index = 0; index < self->worker_count; index++) {
            s_worker_t *worker = &self->workers[index];
            int64_t cap = s_credit_cap (self, worker);
            worker->credit = worker->credit < cap ? worker->credit : cap;
        }
    s_count_trusted (self);
    return malformed;
}

//  True when a batch may go to this worker as far as trust goes: a suspect
//  only when no worker is trusted.
static bool
s_trusted_enough (dv_dispatch_t *self, const s_worker_t *worker)
{
    return !self->trusted_count || !dv_ledger_suspect (&worker->ledger, self->now_ms);
}

//  True when some worker that may be trusted with the batch did not lose it.
static bool
s_other_may_take (dv_dispatch_t *self, uint64_t first_task, uint32_t count)
{
    for (size_t index = 0; index < self->worker_count; index++) {
        const s_worker_t *worker = &self->workers[index];
        if (s_trusted_enough (self, worker) &&
            !dv_ledger_lost (&worker->ledger, first_task, count))
            return true;
    }
    return false;
}

//  One round of the round robin, skipping workers over share (0: none), out
//  of credit, not trusted enough, or (avoid) that lost the batch.
static int
s_send_round (dv_dispatch_t *self, const void *data, size_t size, uint64_t share,
              uint64_t first_task, uint32_t count, bool avoid)
{
    for (size_t tried = 0; tried < self->worker_count;) {
        if (self->next >= self->worker_count)
            self->next = 0;
        s_worker_t *worker = &self->workers[self->next];
        if (worker->credit <= 0 || (share && worker->taken >= share) ||
            !s_trusted_enough (self, worker) ||
            (avoid && dv_ledger_lost (&worker->ledger, first_task, count))) {
            self->next++;
            tried++;
            continue;
        }
        if (self->admit && !self->admit (self->admit_context, worker->key, false)) {
            //  No more tasks: its credit goes with it. The count shrinks,
            //  so this is no try: the next worker takes its place.
            s_remove (self, self->next);
            continue;
        }
        if (zmq_send (self->tasks, worker->routing_id, worker->routing_id_size,
                      ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
            if (errno == EHOSTUNREACH)
                s_remove (self, self->next); //  gone: its credit with it
            else
                self->next++; //  its pipe is full for now
            tried++;
            continue;
        }
        //  The first frame went, so the second goes too (atomic delivery).
        zmq_send (self->tasks, data, size, ZMQ_DONTWAIT);
        worker->credit--;
        worker->taken++;
        dv_ledger_sent (&worker->ledger, first_task, count, self->now_ms);
        self->next++;
        return 0;
    }
    return -1;
}

int
dv_dispatch_send (dv_dispatch_t *self, const void *data, size_t size, uint64_t share,
                  uint64_t first_task, uint32_t count)
{
    if (self->mode == DV_DISPATCH_PUSH) {
        //  libzmq picks the next worker whose pipe has room; none: EAGAIN.
        self->push_blocked = zmq_send (self->tasks, data, size, ZMQ_DONTWAIT) < 0;
        return self->push_blocked ? -1 : 0;
    }
    //  Tasks a worker lost go to another while one may take them: the one
    //  that lost them waits until no other is left.
    bool avoid = self->any_lost && s_other_may_take (self, first_task, count);
    if (s_send_round (self, data, size, share, first_task, count, avoid) == 0) {
        self->held_since_us = 0;
        return 0;
    }
    if (!share)
        return -1;
    //  The share is a preference, never a stall: a worker at its share holds
    //  credit it will not restate. Others' credit is usually a round trip
    //  away; past that grace, the worker at its share takes the batch.
    int64_t now = dv_now_us ();
    if (!self->held_since_us)
        self->held_since_us = now;
    if (now - self->held_since_us < S_SHARE_GRACE_US)
        return -1;
    return s_send_round (self, data, size, 0, first_task, count, avoid);
}

void
dv_dispatch_confirm (dv_dispatch_t *self, uint64_t first_missing)
{
    for (size_t index = 0; index < self->worker_count; index++)
        dv_ledger_confirm (&self->workers[index].ledger, first_missing);
    s_count_trusted (self);
}

uint32_t
dv_dispatch_take_back (dv_dispatch_t *self, const dv_resend_t *resend)
{
    dv_range_t ranges[DV_RESEND_RANGES_MAX];
    uint32_t range_count = 0;
    for (; range_count < resend->range_count && range_count < DV_RESEND_RANGES_MAX;
         range_count++)
        ranges[range_count] = dv_resend_range (resend, range_count);
    uint32_t holders = 0;
    self->now_ms = dv_now_ms ();
    for (size_t index = 0; index < self->worker_count; index++) {
        s_worker_t *worker = &self->workers[index];
        if (dv_ledger_take_back (&worker->ledger, ranges, range_count, self->now_ms)) {
            worker->credit = 0; //  it asks again, and gets its halved cap
            holders++;
        }
    }
    s_count_trusted (self);
    return holders;
}

void
dv_dispatch_forget (dv_dispatch_t *self)
{
    for (size_t index = 0; index < self->worker_count; index++)
        dv_ledger_forget (&self->workers[index].ledger);
    s_count_trusted (self);
}

size_t
dv_dispatch_worker_count (dv_dispatch_t *self)
{
    return self->worker_count;
}

size_t
dv_dispatch_eligible_count (dv_dispatch_t *self)
{
    return self->trusted_count ? self->trusted_count : self->worker_count;
}

bool
dv_dispatch_holding (dv_dispatch_t *self)
{
    return self->held_since_us != 0;
}

short
dv_dispatch_poll_events (dv_dispatch_t *self)
{
    if (self->mode == DV_DISPATCH_PUSH)
        return self->push_blocked ? ZMQ_POLLOUT : 0;
    return ZMQ_POLLIN;
}
