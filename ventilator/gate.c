/*  gate.c: counting connected workers (dv_peers_t on the task socket)
    against the number required. */
#include "gate.h"
#include "log.h"
#include "peers.h"
#include "clock.h"
#include "options.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#define S_DNS_PREFIX       "dns:"
#define S_RESOLVE_EVERY_MS 500
#define S_ADDRESSES_MAX    1024

struct dv_gate_t {
    dv_peers_t *peers;   //  handshaken connections on the task socket
    int64_t fixed_count; //  required workers, or 0 with dns_name
    char *dns_name;      //  the service whose addresses are counted
    int64_t resolved;    //  addresses found at the last resolution
    int64_t resolved_ms; //  when
};

int
dv_gate_check (const char *spec, int64_t *fixed_count)
{
    *fixed_count = 0;
    if (!strncmp (spec, S_DNS_PREFIX, strlen (S_DNS_PREFIX))) {
        if (spec[strlen (S_DNS_PREFIX)])
            return 0;
        dv_log ("--min-workers: dns: needs a name, as in dns:worker");
        return -1;
    }
    int rc = dv_parse_int64 (spec, fixed_count);
    if (rc == DV_PARSE_RANGE || (!rc && (*fixed_count < 1 || *fixed_count > 1000000))) {
        dv_log ("--min-workers: %s is out of range 1..1000000", spec);
        return -1;
    }
    if (rc) {
        dv_log ("--min-workers: '%s' is neither a number from 1 to 1000000 nor dns:NAME",
                spec);
        return -1;
    }
    return 0;
}

dv_gate_t *
dv_gate_new (zsock_t *tasks, const char *spec)
{
    dv_gate_t *self = calloc (1, sizeof *self);
    if (!self || dv_gate_check (spec, &self->fixed_count)) {
        free (self);
        return NULL;
    }
    if (!self->fixed_count)
        self->dns_name = strdup (spec + strlen (S_DNS_PREFIX));
    if (!(self->peers = dv_peers_new (tasks, "task"))) {
        dv_gate_destroy (&self);
        return NULL;
    }
    return self;
}

void
dv_gate_destroy (dv_gate_t **self_p)
{
    dv_gate_t *self = *self_p;
    if (!self)
        return;
    dv_peers_destroy (&self->peers);
    free (self->dns_name);
    free (self);
    *self_p = NULL;
}

zsock_t *
dv_gate_monitor (dv_gate_t *self)
{
    return dv_peers_monitor (self->peers);
}

void
dv_gate_on_event (dv_gate_t *self)
{
    dv_peers_on_events (self->peers);
}

int64_t
dv_gate_connected (dv_gate_t *self)
{
    return dv_peers_connected (self->peers);
}

uint64_t
dv_gate_silent_closes (dv_gate_t *self)
{
    return dv_peers_silent_closes (self->peers);
}

//  Distinct addresses name resolves to, or 0.
static int64_t
s_count_addresses (const char *name)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *found = NULL;
    if (getaddrinfo (name, NULL, &hints, &found))
        return 0;
    struct sockaddr_storage seen[S_ADDRESSES_MAX];
    int64_t distinct = 0;
    for (struct addrinfo *entry = found; entry && distinct < S_ADDRESSES_MAX;
         entry = entry->ai_next) {
        bool duplicate = false;
        for (int64_t index = 0; index < distinct && !duplicate; index++)
            duplicate = !memcmp (&seen[index], entry->ai_addr, entry->ai_addrlen);
        if (!duplicate) {
            memset (&seen[distinct], 0, sizeof seen[distinct]);
            memcpy (&seen[distinct++], entry->ai_addr, entry->ai_addrlen);
        }
    }
    freeaddrinfo (found);
    return distinct;
}

int64_t
dv_gate_required (dv_gate_t *self)
{
    if (self->fixed_count)
        return self->fixed_count;
    int64_t now = dv_now_ms ();
    if (!self->resolved_ms || now - self->resolved_ms >= S_RESOLVE_EVERY_MS) {
        self->resolved = s_count_addresses (self->dns_name);
        self->resolved_ms = now;
    }
    return self->resolved > 0 ? self->resolved : 1;
}
