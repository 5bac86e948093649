/*  metrics.h: Prometheus text exposition over HTTP (--metrics), for every role.

    A role describes its metrics once (a table of families: name, type, help)
    and, from its own thread, sets values in a staging copy and publishes it
    now and then (dv_metrics_publish copies it under a mutex). libmicrohttpd's
    thread answers GET /metrics by formatting the last published snapshot: it
    never touches the role's state, and a scrape costs the role nothing but
    the copy. Every function takes NULL for self and then does nothing, so a
    role without --metrics needs no test of its own.

    The listen address is "[ADDRESS:]PORT" (ADDRESS a host name, an IPv4
    address or an IPv6 one in brackets). PORT alone binds all interfaces,
    like the role's ZeroMQ sockets and every Prometheus exporter: a scraper
    runs on another host or container. What it shows is what the sink's
    control socket publishes already (counts, job id) and nothing secret;
    give 127.0.0.1:PORT to keep it on the host. PORT 0 takes a free port
    (tests), logged with the address.

    Bounds: at most DV_METRICS_CONNECTIONS connections at once, each closed
    after DV_METRICS_IDLE_S idle seconds; a labelled family holds at most its
    label_max values (the sink's worker ids are capped already, with the
    others under "*").
*/
#ifndef DV_METRICS_H_INCLUDED
#define DV_METRICS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DV_METRICS_CONNECTIONS 16
#define DV_METRICS_IDLE_S      10
//  How often a role publishes its snapshot, at most: what a scrape may lag.
#define DV_METRICS_PUBLISH_MS 200

//  The option, the same in every role's table (options.h): DIVVY_METRICS.
// clang-format off
#define DV_METRICS_OPTION(listen_p)                                                  \
    {"metrics", DV_OPTION_TEXT, "[ADDR:]PORT",                                        \
     "serve Prometheus metrics on http://ADDR:PORT/metrics (no ADDR: all interfaces)",\
     "off", 0, 0, (listen_p)}
// clang-format on

typedef enum {
    DV_METRIC_COUNTER, //  only goes up; the name ends in _total
    DV_METRIC_GAUGE,
} dv_metric_type_t;

typedef struct {
    const char *name; //  "divvy_results_total"
    dv_metric_type_t type;
    const char *help; //  one line, no backslash or newline
} dv_metric_family_t;

typedef struct {
    const char *role; //  the role label of divvy_build_info
    const dv_metric_family_t *families;
    size_t family_count;
    //  One family with a label, or NULL: values by label, at most label_max
    //  labels of at most label_length_max bytes each.
    const dv_metric_family_t *labelled;
    const char *label_name; //  "worker"
    size_t label_max;
    size_t label_length_max;
} dv_metrics_config_t;

typedef struct dv_metrics_t dv_metrics_t;

//  Checks a listen address without opening anything: 0 when it is
//  [ADDRESS:]PORT with PORT 0..65535, else -1.
int dv_metrics_check_address (const char *listen);

//  Binds listen and serves /metrics from a thread of its own. Returns NULL
//  after logging one line, and only then sets *exit_code: DV_EXIT_USAGE for an address
//  that is malformed or does not resolve, DV_EXIT_RUNTIME when it cannot be bound (in
//  use, not local, no permission). Caller owns the return value.
dv_metrics_t *dv_metrics_new (const char *listen, const dv_metrics_config_t *config,
                              int *exit_code);

//  Stops serving and frees everything.
void dv_metrics_destroy (dv_metrics_t **self_p);

//  The port it listens on (useful with PORT 0); 0 for NULL.
int dv_metrics_port (dv_metrics_t *self);

//  Sets family index (of config->families) in the staging copy.
void dv_metrics_set (dv_metrics_t *self, size_t index, uint64_t value);

//  Labelled values are set whole each time: dv_metrics_clear_labels, then
//  dv_metrics_set_label once per label (length bytes, cut to
//  label_length_max). Labels past label_max are dropped (the caller bounds
//  them: the sink's worker ids are capped with a "*" bucket).
void dv_metrics_set_label (dv_metrics_t *self, const char *label, size_t length,
                           uint64_t value);
void dv_metrics_clear_labels (dv_metrics_t *self);

//  Makes the staging copy what scrapes see.
void dv_metrics_publish (dv_metrics_t *self);

//  The exposition text of the published snapshot, NUL-terminated, length in
//  *length. NULL when no memory. Caller owns the return value (free). What
//  the HTTP thread serves; for tests.
char *dv_metrics_format (dv_metrics_t *self, size_t *length);

#endif
