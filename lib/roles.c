/*  roles.c: the allow-list as a hash set, reloaded when its directory
    changes; worker ids bound to keys; refusals counted and logged once.

    The reload follows CZMQ's zcertstore disk loader, which zauth uses at
    every handshake, so that a key is allowed per message exactly when a
    new connection with it would be: the same files, the same test for a
    change (zdir's newest mtime, count and total size).
*/
#include "roles.h"
#include "log.h"
#include "protocol.h"

#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#define S_ID_MAX DV_WORKER_ID_MAX

struct dv_roles_t {
    char *allow_dir;
    char *ventilator_key;
    zhashx_t *allowed; //  Z85 key -> (marker): the allow-list as last loaded
    zhashx_t *owners;  //  worker id -> Z85 key (owned string)
    zhashx_t *logged;  //  "verdict role key" of every line logged
    int64_t checked_ms;
    //  The directory as last loaded (zauth's test for a change).
    time_t modified;
    size_t count;
    off_t size;
    bool loaded;
    uint64_t refused;
    dv_rate_limit_t overflow_limit; //  lines past DV_ROLES_LOGGED_MAX
};

static char s_marker; //  the item of every key in allowed

static bool
s_ends_with (const char *text, const char *suffix)
{
    size_t length = strlen (text), suffix_length = strlen (suffix);
    return length >= suffix_length && !strcmp (text + length - suffix_length, suffix);
}

//  Loads the directory when it changed since the last load (or never was).
//  A directory that cannot be read is an empty list.
static bool
s_load (dv_roles_t *self)
{
    zdir_t *dir = zdir_new (self->allow_dir, NULL);
    time_t modified = dir ? zdir_modified (dir) : 0;
    size_t count = dir ? zdir_count (dir) : 0;
    off_t size = dir ? zdir_cursize (dir) : 0;
    if (self->loaded && modified == self->modified && count == self->count &&
        size == self->size) {
        zdir_destroy (&dir);
        return false;
    }
    zhashx_purge (self->allowed);
    zfile_t **files = dir ? zdir_flatten (dir) : NULL;
    for (size_t index = 0; files && files[index]; index++) {
        const char *path = zfile_filename (files[index], NULL);
        if (!zfile_is_regular (files[index]) || s_ends_with (path, "_secret"))
            continue;
        zcert_t *cert = zcert_load (path);
        if (cert)
            zhashx_update (self->allowed, zcert_public_txt (cert), &s_marker);
        zcert_destroy (&cert);
    }
    if (files)
        zdir_flatten_free (&files);
    zdir_destroy (&dir);
    self->modified = modified;
    self->count = count;
    self->size = size;
    self->loaded = true;
    return true;
}

dv_roles_t *
dv_roles_new (const char *allow_dir, const char *ventilator_key)
{
    dv_roles_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->allow_dir = strdup (allow_dir);
    self->ventilator_key = strdup (ventilator_key);
    self->allowed = zhashx_new ();
    self->owners = zhashx_new ();
    self->logged = zhashx_new ();
    if (!self->allow_dir || !self->ventilator_key || !self->allowed || !self->owners ||
        !self->logged) {
        dv_roles_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->owners, (zhashx_destructor_fn *) zstr_free);
    s_load (self);
    return self;
}

void
dv_roles_destroy (dv_roles_t **self_p)
{
    dv_roles_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->allowed);
    zhashx_destroy (&self->owners);
    zhashx_destroy (&self->logged);
    free (self->allow_dir);
    free (self->ventilator_key);
    free (self);
    *self_p = NULL;
}

bool
dv_roles_refresh (dv_roles_t *self, int64_t now_ms)
{
    if (!self || (self->checked_ms && now_ms - self->checked_ms < DV_ROLES_RELOAD_MS))
        return false;
    self->checked_ms = now_ms;
    return s_load (self);
}

dv_roles_verdict_t
dv_roles_check (dv_roles_t *self, const char *key, dv_role_t role)
{
    if (!self)
        return DV_ROLES_OK;
    if (!key || !*key)
        return DV_ROLES_NO_KEY;
    if (!zhashx_lookup (self->allowed, key))
        return DV_ROLES_NOT_ALLOWED;
    bool ventilator = !strcmp (key, self->ventilator_key);
    if (role == DV_ROLE_VENTILATOR && !ventilator)
        return DV_ROLES_NOT_VENTILATOR;
    if (role == DV_ROLE_WORKER && ventilator)
        return DV_ROLES_NOT_WORKER;
    return DV_ROLES_OK;
}

//  The id as a string, in buffer (S_ID_MAX + 1 bytes); longer ids are cut
//  (the decoder allows none).
static const char *
s_id (char *buffer, const char *id, size_t id_length)
{
    if (id_length > S_ID_MAX)
        id_length = S_ID_MAX;
    memcpy (buffer, id, id_length);
    buffer[id_length] = '\0';
    return buffer;
}

dv_roles_verdict_t
dv_roles_check_id (dv_roles_t *self, const char *key, const char *id, size_t id_length)
{
    if (!self)
        return DV_ROLES_OK;
    char buffer[S_ID_MAX + 1];
    const char *owner = zhashx_lookup (self->owners, s_id (buffer, id, id_length));
    return !owner || (key && !strcmp (owner, key)) ? DV_ROLES_OK : DV_ROLES_OTHER_OWNER;
}

void
dv_roles_bind_id (dv_roles_t *self, const char *key, const char *id, size_t id_length)
{
    if (!self || !key)
        return;
    char buffer[S_ID_MAX + 1];
    s_id (buffer, id, id_length);
    if (zhashx_lookup (self->owners, buffer))
        return;
    char *owner = strdup (key);
    if (owner && zhashx_insert (self->owners, buffer, owner))
        free (owner);
}

const char *
dv_roles_reason (dv_roles_verdict_t verdict)
{
    switch (verdict) {
        case DV_ROLES_OK:
            return "allowed";
        case DV_ROLES_NO_KEY:
            return "the message carries no CURVE key";
        case DV_ROLES_NOT_ALLOWED:
            return "the key is not in --curve-allow (revoked?)";
        case DV_ROLES_NOT_VENTILATOR:
            return "not the ventilator's key (the servers' --curve-cert)";
        case DV_ROLES_NOT_WORKER:
            return "the ventilator's key is not a worker's";
        case DV_ROLES_OTHER_OWNER:
            return "the id belongs to another key";
    }
    return "?";
}

void
dv_roles_say (dv_roles_t *self, dv_roles_verdict_t verdict, const char *key,
              dv_role_t role, const char *what, const char *detail)
{
    if (!self)
        return;
    const char *shown = key && *key ? key : "(none)";
    char *seen = zsys_sprintf ("%d %d %s", (int) verdict, (int) role, shown);
    if (seen && zhashx_lookup (self->logged, seen)) {
        zstr_free (&seen);
        return;
    }
    if (seen && zhashx_size (self->logged) < DV_ROLES_LOGGED_MAX) {
        zhashx_insert (self->logged, seen, &s_marker);
        dv_log ("%s CURVE key %s: %s%s", what, shown, dv_roles_reason (verdict), detail);
    } else
        dv_log_limited (&self->overflow_limit, "%s CURVE key %s: %s%s", what, shown,
                        dv_roles_reason (verdict), detail);
    zstr_free (&seen);
}

void
dv_roles_refuse (dv_roles_t *self, dv_roles_verdict_t verdict, const char *key,
                 dv_role_t role, const char *what, const char *detail)
{
    if (!self)
        return;
    self->refused++;
    dv_roles_say (self, verdict, key, role, what, detail);
}

uint64_t
dv_roles_refused (dv_roles_t *self)
{
    return self ? self->refused : 0;
}

size_t
dv_roles_allowed_count (dv_roles_t *self)
{
    return self ? zhashx_size (self->allowed) : 0;
}
