/*  security.h: CURVE on every socket, when keys are given.

    The ventilator and the sink are CURVE servers and share one server
    certificate; workers are clients, each with a certificate of its own (or
    one shared by a pool). A server accepts only clients whose public
    certificate is in its allow-list directory (CZMQ's zauth: without it a
    CURVE server would accept any key). The ventilator is also a client of
    the sink, so the sink's allow-list holds the server's public certificate
    too. Certificates are CZMQ zcert files; `divvy-keygen` makes them.

    zauth checks a key at the handshake only. A server also checks each
    message against the current allow-list and the sender's role (roles.h):
    only the servers' own key may act as the ventilator; the other allowed
    keys are workers'.
*/
#ifndef DV_SECURITY_H_INCLUDED
#define DV_SECURITY_H_INCLUDED

#include "roles.h"

#include <czmq.h>
#include <stdbool.h>

typedef struct dv_security_t dv_security_t;

typedef struct {
    const char *cert_path;   //  our certificate: PATH (public) and PATH_secret
    const char *server_path; //  the servers' public certificate (clients)
    const char *allow_dir;   //  allowed client certificates (servers)
} dv_security_options_t;

//  The three options, the same in every program's table (options.h), so that
//  one environment serves them all; each program uses those its role needs.
// clang-format off
#define DV_SECURITY_OPTIONS(security_options)                                         \
    {"curve-cert", DV_OPTION_TEXT, "FILE",                                            \
     "CURVE: this program's certificate (FILE and FILE_secret)",                      \
     NULL, 0, 0, &(security_options)->cert_path},                                     \
    {"curve-server", DV_OPTION_TEXT, "FILE",                                          \
     "CURVE: the servers' public certificate (to connect)",                           \
     NULL, 0, 0, &(security_options)->server_path},                                   \
    {"curve-allow", DV_OPTION_TEXT, "DIR",                                            \
     "CURVE: directory of the client certificates to accept (to bind)",               \
     NULL, 0, 0, &(security_options)->allow_dir}
// clang-format on

//  Loads the keys named in options, if any. With none given, *self_p is NULL
//  and sockets stay plaintext. needs_server: this program connects to a
//  server (--curve-server required); needs_allow: it accepts clients
//  (--curve-allow required, and zauth starts). Returns -1 after logging when
//  the options are incomplete or a file cannot be read. Caller owns *self_p.
int dv_security_new (dv_security_t **self_p, const dv_security_options_t *options,
                     bool needs_server, bool needs_allow);

void dv_security_destroy (dv_security_t **self_p);

//  Makes socket a CURVE server or client. Call before binding or connecting.
//  A NULL self does nothing.
void dv_security_apply (dv_security_t *self, zsock_t *socket, bool as_server);

//  The per-message checks of a program that accepts clients: the roles of
//  the keys in --curve-allow, the ventilator's being our own certificate's
//  public key. NULL without CURVE or for a program that accepts none (then
//  every dv_roles_* call allows everything). Owned by self.
dv_roles_t *dv_security_roles (dv_security_t *self);

#endif
