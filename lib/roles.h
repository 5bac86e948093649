/*  roles.h: what each CURVE key may do, checked per message.

    zauth checks a client's key once, at its handshake: a key removed from
    the allow-list directory later is refused new connections only, and any
    allowed key may send any kind of message. This class is the per-message
    check. The receiver reads the sender's key from the message (the
    "User-Id" property: libzmq sets it to the client's Z85 public key on a
    CURVE connection that zauth accepted) and asks:

    - membership: is the key in the allow-list directory *now*? The list is
      reloaded at most once per DV_ROLES_RELOAD_MS, and only when the
      directory changed, by zauth's own rule (CZMQ's zcertstore): every
      regular file below it whose name does not end in "_secret" and that
      zcert_load reads; changed means another newest mtime, file count or
      total size. Between reloads a check is one hash lookup.
    - role: the ventilator's key is the servers' own (the ventilator and the
      sink share one server certificate: workers have a single
      --curve-server for both), so only it may announce a job (and repeat
      the announcement, the ventilator's heartbeat); every other allowed key
      is a worker's, and only those deliver results or ask for tasks.
    - worker ids: the first key whose results under an id counted owns the
      id; results under it from another key are refused. One key may own
      several ids (a pool of workers sharing one certificate).

    A refusal is counted, and logged once per kind of message, reason and
    key (past DV_ROLES_LOGGED_MAX such lines, at most once a second).

    Without CURVE there are no keys and no roles: a NULL dv_roles_t allows
    everything, and every function takes NULL.
*/
#ifndef DV_ROLES_H_INCLUDED
#define DV_ROLES_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DV_ROLES_RELOAD_MS  1000
#define DV_ROLES_LOGGED_MAX 1024

typedef struct dv_roles_t dv_roles_t;

typedef enum {
    DV_ROLE_VENTILATOR, //  announces a job, repeats the announcement
    DV_ROLE_WORKER,     //  asks for tasks, delivers results
} dv_role_t;

typedef enum {
    DV_ROLES_OK,
    DV_ROLES_NO_KEY,         //  the message carries no CURVE key
    DV_ROLES_NOT_ALLOWED,    //  the key is not in the allow-list (revoked?)
    DV_ROLES_NOT_VENTILATOR, //  a ventilator's message from another key
    DV_ROLES_NOT_WORKER,     //  a worker's message from the ventilator's key
    DV_ROLES_OTHER_OWNER,    //  a worker id that another key owns
} dv_roles_verdict_t;

//  Reads the allow-list directory allow_dir now; ventilator_key is the Z85
//  public key of the servers' certificate. Returns NULL when out of memory.
//  A directory that cannot be read allows no key (as zauth). Caller owns
//  the return value.
dv_roles_t *dv_roles_new (const char *allow_dir, const char *ventilator_key);

void dv_roles_destroy (dv_roles_t **self_p);

//  Reloads the allow-list when DV_ROLES_RELOAD_MS have passed since the
//  last look (now_ms: dv_now_ms) and the directory changed. Call once per
//  loop, not per message. Returns true when the list was reloaded.
bool dv_roles_refresh (dv_roles_t *self, int64_t now_ms);

//  May key (Z85, or NULL when the message had none) send a message of
//  role's now? DV_ROLES_OK, or why not.
dv_roles_verdict_t dv_roles_check (dv_roles_t *self, const char *key, dv_role_t role);

//  May key deliver results under the worker id (id_length bytes)? OK when
//  nobody owns the id yet or key does.
dv_roles_verdict_t dv_roles_check_id (dv_roles_t *self, const char *key, const char *id,
                                      size_t id_length);

//  Binds the id to key, unless the id is owned already (by any key). Call
//  when results under the id counted.
void dv_roles_bind_id (dv_roles_t *self, const char *key, const char *id,
                       size_t id_length);

//  Counts a refused message and logs, once per (verdict, role, key),
//  "WHAT CURVE key KEY: REASON DETAIL" (what: "refused results as 'w1'
//  from"; detail: "" or more words, from "; ").
void dv_roles_refuse (dv_roles_t *self, dv_roles_verdict_t verdict, const char *key,
                      dv_role_t role, const char *what, const char *detail);

//  The same line, once per (verdict, role, key), counting nothing: for what
//  is not a message (a worker no longer sent tasks).
void dv_roles_say (dv_roles_t *self, dv_roles_verdict_t verdict, const char *key,
                   dv_role_t role, const char *what, const char *detail);

//  Messages refused so far (dv_roles_refuse calls).
uint64_t dv_roles_refused (dv_roles_t *self);

//  Keys in the allow-list as last loaded.
size_t dv_roles_allowed_count (dv_roles_t *self);

//  Why, in words ("the key is not in --curve-allow (revoked?)").
const char *dv_roles_reason (dv_roles_verdict_t verdict);

#endif
