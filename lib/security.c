/*  security.c: loading certificates and starting zauth. */
#include "security.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dv_security_t {
    zcert_t *cert;       //  ours, with its secret key
    char *server_key;    //  Z85 public key of the servers, or NULL
    zactor_t *authority; //  zauth, when we accept clients
    dv_roles_t *roles;   //  per-message checks, when we accept clients
};

//  Loads a certificate file; with_secret requires the secret key too.
static zcert_t *
s_load (const char *option, const char *path, bool with_secret)
{
    //  zcert_load says nothing of why; name the file that is missing or
    //  unreadable, and the reason. (It reads PATH_secret when there is one.)
    char secret_path[4096];
    snprintf (secret_path, sizeof secret_path, "%s_secret", path);
    if (access (path, R_OK)) {
        dv_log ("%s: cannot read the certificate '%s': %s", option, path,
                strerror (errno));
        return NULL;
    }
    if (with_secret && access (secret_path, R_OK) && errno != ENOENT) {
        dv_log ("%s: cannot read the secret key '%s': %s", option, secret_path,
                strerror (errno));
        return NULL;
    }
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        dv_log ("%s: '%s' is not a CZMQ certificate", option, path);
        return NULL;
    }
    if (with_secret &&
        !strcmp (zcert_secret_txt (cert), "0000000000000000000000000000000000000000")) {
        dv_log ("%s: '%s' has no secret key (expected '%s_secret' beside it)", option,
                path, path);
        zcert_destroy (&cert);
        return NULL;
    }
    return cert;
}

int
dv_security_new (dv_security_t **self_p, const dv_security_options_t *options,
                 bool needs_server, bool needs_allow)
{
    *self_p = NULL;
    if (!options->cert_path && !options->server_path && !options->allow_dir)
        return 0;
    if (!zsys_has_curve ()) {
        dv_log ("CURVE options given, but this libzmq has no CURVE support");
        return -1;
    }
    if (!options->cert_path || (needs_server && !options->server_path) ||
        (needs_allow && !options->allow_dir)) {
        dv_log ("CURVE needs --curve-cert%s%s", needs_server ? ", --curve-server" : "",
                needs_allow ? ", --curve-allow" : "");
        return -1;
    }
    struct stat status;
    if (needs_allow && stat (options->allow_dir, &status)) {
        dv_log ("--curve-allow: cannot read the directory '%s': %s", options->allow_dir,
                strerror (errno));
        return -1;
    }
    if (needs_allow && !S_ISDIR (status.st_mode)) {
        dv_log ("--curve-allow: '%s' is not a directory", options->allow_dir);
        return -1;
    }
    dv_security_t *self = calloc (1, sizeof *self);
    if (!self)
        return -1;
    self->cert = s_load ("--curve-cert", options->cert_path, true);
    if (!self->cert) {
        dv_security_destroy (&self);
        return -1;
    }
    if (needs_server) {
        zcert_t *server = s_load ("--curve-server", options->server_path, false);
        if (!server) {
            dv_security_destroy (&self);
            return -1;
        }
        self->server_key = strdup (zcert_public_txt (server));
        zcert_destroy (&server);
    }
    if (needs_allow) {
        //  Before any bind: connections must meet the handler from the start.
        self->authority = zactor_new (zauth, NULL);
        if (!self->authority) {
            dv_log ("cannot start the CURVE authenticator");
            dv_security_destroy (&self);
            return -1;
        }
        zstr_sendx (self->authority, "CURVE", options->allow_dir, NULL);
        zsock_wait (self->authority);
        //  The servers share one certificate: ours is the ventilator's.
        self->roles = dv_roles_new (options->allow_dir, zcert_public_txt (self->cert));
        if (!self->roles) {
            dv_log ("out of memory");
            dv_security_destroy (&self);
            return -1;
        }
    }
    *self_p = self;
    return 0;
}

void
dv_security_destroy (dv_security_t **self_p)
{
    dv_security_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->authority);
    dv_roles_destroy (&self->roles);
    zcert_destroy (&self->cert);
    free (self->server_key);
    free (self);
    *self_p = NULL;
}

void
dv_security_apply (dv_security_t *self, zsock_t *socket, bool as_server)
{
    if (!self)
        return;
    zcert_apply (self->cert, socket);
    if (as_server)
        zsock_set_curve_server (socket, 1);
    else
        zsock_set_curve_serverkey (socket, self->server_key);
}

dv_roles_t *
dv_security_roles (dv_security_t *self)
{
    return self ? self->roles : NULL;
}
