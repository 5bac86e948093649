/*  dispatch.c: credit-based dispatch over a ROUTER socket.

    ROUTER_MANDATORY makes a send to a worker that has gone fail with
    EHOSTUNREACH instead of vanishing, so its entry is dropped at once.
*/
#include "dispatch.h"
#include "clock.h"
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

typedef struct {
    uint8_t routing_id[S_ROUTING_ID_MAX];
    size_t routing_id_size;
    int64_t credit; //  batches this worker will still take
    uint64_t taken; //  batches sent since its last credit message
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
};

dv_dispatch_t *
dv_dispatch_new (zsock_t *tasks)
{
    dv_dispatch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->tasks = zsock_resolve (tasks);
    int mandatory = 1;
    zmq_setsockopt (self->tasks, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    return self;
}

void
dv_dispatch_destroy (dv_dispatch_t **self_p)
{
    if (!*self_p)
        return;
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
    s_worker_t *worker = &self->workers[self->worker_count++];
    memcpy (worker->routing_id, routing_id, size);
    worker->routing_id_size = size;
    worker->credit = 0;
    worker->taken = 0;
    return worker;
}

static void
s_remove (dv_dispatch_t *self, size_t index)
{
    self->workers[index] = self->workers[--self->worker_count];
    if (self->next >= self->worker_count)
        self->next = 0;
}

uint64_t
dv_dispatch_take_credit (dv_dispatch_t *self)
{
    uint64_t malformed = 0;
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
            worker->credit = want.is_reset ? want.batches : worker->credit + want.batches;
            worker->taken = 0;
        }
    }
    zmq_msg_close (&routing_id);
    zmq_msg_close (&body);
    return malformed;
}

//  One round of the round robin, skipping workers over share (0: none).
static int
s_send_round (dv_dispatch_t *self, const void *data, size_t size, uint64_t share)
{
    for (size_t tried = 0; tried < self->worker_count;) {
        if (self->next >= self->worker_count)
            self->next = 0;
        s_worker_t *worker = &self->workers[self->next];
        if (worker->credit <= 0 || (share && worker->taken >= share)) {
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
        self->next++;
        return 0;
    }
    return -1;
}

int
dv_dispatch_send (dv_dispatch_t *self, const void *data, size_t size, uint64_t share)
{
    if (s_send_round (self, data, size, share) == 0) {
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
    return s_send_round (self, data, size, 0);
}

size_t
dv_dispatch_worker_count (dv_dispatch_t *self)
{
    return self->worker_count;
}

bool
dv_dispatch_holding (dv_dispatch_t *self)
{
    return self->held_since_us != 0;
}
