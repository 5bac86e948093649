/*  metrics.c: the snapshot, its text, and libmicrohttpd serving it.

    Two copies of the values: staging, the role's alone (no lock), and
    published, read by the HTTP thread under the mutex. The listen socket is
    opened here rather than by libmicrohttpd, so that a busy or foreign
    address is one clear line with its errno, before anything runs.
*/
#include "metrics.h"
#include "exit_codes.h"
#include "log.h"
#include "protocol.h"
#include "version.h"

#include <czmq.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define S_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define S_HOST_MAX     256

typedef struct {
    uint64_t *values;   //  family_count
    char *labels;       //  label_max slots of label_length_max + 1 bytes
    uint64_t *by_label; //  label_max
    size_t label_count;
} s_snapshot_t;

struct dv_metrics_t {
    dv_metrics_config_t config;
    s_snapshot_t staging;
    s_snapshot_t published;
    pthread_mutex_t mutex;
    struct MHD_Daemon *daemon;
    int port;
    double started_s; //  the process's start, Unix time
};

//  Splits "[ADDRESS:]PORT" into host (empty: none) and port text. -1 when
//  malformed.
static int
s_split (const char *listen, char host[S_HOST_MAX], char port[8])
{
    if (!listen || !*listen)
        return -1;
    const char *colon = strrchr (listen, ':');
    const char *port_text = colon ? colon + 1 : listen;
    size_t host_length = colon ? (size_t) (colon - listen) : 0;
    const char *host_text = listen;
    if (host_length >= 2 && listen[0] == '[' && listen[host_length - 1] == ']') {
        host_text++;
        host_length -= 2;
    } else if (colon && memchr (listen, ':', host_length))
        return -1; //  an IPv6 address needs brackets
    if ((colon && !host_length) || host_length >= S_HOST_MAX)
        return -1;
    size_t port_length = strlen (port_text);
    if (port_length < 1 || port_length > 5 ||
        strspn (port_text, "0123456789") != port_length || atoi (port_text) > 65535)
        return -1;
    memcpy (host, host_text, host_length);
    host[host_length] = '\0';
    memcpy (port, port_text, port_length + 1);
    return 0;
}

int
dv_metrics_check_address (const char *listen)
{
    char host[S_HOST_MAX], port[8];
    return s_split (listen, host, port);
}

//  Opens the listen socket; -1 after logging, with *exit_code set.
static int
s_listen (const char *address, int *exit_code)
{
    char host[S_HOST_MAX], port[8];
    if (s_split (address, host, port)) {
        dv_log ("--metrics: '%s' is not [ADDRESS:]PORT (PORT 0..65535)", address);
        *exit_code = DV_EXIT_USAGE;
        return -1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    hints.ai_family = *host ? AF_UNSPEC : AF_INET;
    struct addrinfo *found = NULL;
    int rc = getaddrinfo (*host ? host : NULL, port, &hints, &found);
    if (rc) {
        dv_log ("--metrics: cannot resolve '%s': %s", host, gai_strerror (rc));
        *exit_code = DV_EXIT_USAGE;
        return -1;
    }
    int fd = socket (found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind (fd, found->ai_addr, found->ai_addrlen) ||
        listen (fd, DV_METRICS_CONNECTIONS)) {
        dv_log ("--metrics: cannot listen on %s: %s", address, strerror (errno));
        if (fd >= 0)
            close (fd);
        freeaddrinfo (found);
        *exit_code = DV_EXIT_RUNTIME;
        return -1;
    }
    freeaddrinfo (found);
    return fd;
}

static int
s_snapshot_init (s_snapshot_t *snapshot, const dv_metrics_config_t *config)
{
    snapshot->values =
        calloc (config->family_count ? config->family_count : 1, sizeof (uint64_t));
    size_t slots = config->labelled ? config->label_max : 0;
    snapshot->labels = calloc (slots ? slots : 1, config->label_length_max + 1);
    snapshot->by_label = calloc (slots ? slots : 1, sizeof (uint64_t));
    return snapshot->values && snapshot->labels && snapshot->by_label ? 0 : -1;
}

static void
s_snapshot_free (s_snapshot_t *snapshot)
{
    free (snapshot->values);
    free (snapshot->labels);
    free (snapshot->by_label);
}

//  A growing text buffer; on no memory it keeps failing and says so at the end.
typedef struct {
    char *text;
    size_t length;
    size_t size;
    bool failed;
} s_text_t;

static void __attribute__ ((format (printf, 2, 3)))
s_append (s_text_t *text, const char *format, ...)
{
    while (!text->failed) {
        va_list arguments;
        va_start (arguments, format);
        int written = vsnprintf (text->text + text->length, text->size - text->length,
                                 format, arguments);
        va_end (arguments);
        if (written < 0) {
            text->failed = true;
            return;
        }
        if ((size_t) written < text->size - text->length) {
            text->length += (size_t) written;
            return;
        }
        size_t size = text->size * 2 + (size_t) written;
        char *grown = realloc (text->text, size);
        if (!grown) {
            text->failed = true;
            return;
        }
        text->text = grown;
        text->size = size;
    }
}

static void
s_append_header (s_text_t *text, const dv_metric_family_t *family)
{
    s_append (text, "# HELP %s %s\n# TYPE %s %s\n", family->name, family->help,
              family->name, family->type == DV_METRIC_COUNTER ? "counter" : "gauge");
}

//  A label value, escaped as the text format says (backslash, quote, newline).
static void
s_append_label (s_text_t *text, const char *label)
{
    for (const char *c = label; *c; c++)
        if (*c == '\\' || *c == '"')
            s_append (text, "\\%c", *c);
        else if (*c == '\n')
            s_append (text, "\\n");
        else
            s_append (text, "%c", *c);
}

char *
dv_metrics_format (dv_metrics_t *self, size_t *length)
{
    if (!self)
        return NULL;
    s_text_t text = {.text = malloc (4096), .size = 4096};
    if (!text.text)
        return NULL;
    text.text[0] = '\0';
    const dv_metrics_config_t *config = &self->config;
    int zmq_major, zmq_minor, zmq_patch;
    zmq_version (&zmq_major, &zmq_minor, &zmq_patch);
    const dv_metric_family_t build_info = {
        "divvy_build_info", DV_METRIC_GAUGE,
        "divvy's version, protocol version, role and libraries; always 1"};
    s_append_header (&text, &build_info);
    s_append (&text,
              "divvy_build_info{version=\"%s\",protocol=\"%d\",role=\"%s\","
              "libzmq=\"%d.%d.%d\",czmq=\"%d.%d.%d\"} 1\n",
              DV_VERSION_TEXT, DV_PROTOCOL_VERSION, config->role, zmq_major, zmq_minor,
              zmq_patch, CZMQ_VERSION_MAJOR, CZMQ_VERSION_MINOR, CZMQ_VERSION_PATCH);
    const dv_metric_family_t start_time = {"process_start_time_seconds", DV_METRIC_GAUGE,
                                           "Start time of the process since the Unix "
                                           "epoch in seconds"};
    s_append_header (&text, &start_time);
    s_append (&text, "process_start_time_seconds %.3f\n", self->started_s);
    pthread_mutex_lock (&self->mutex);
    for (size_t index = 0; index < config->family_count; index++) {
        s_append_header (&text, &config->families[index]);
        s_append (&text, "%s %" PRIu64 "\n", config->families[index].name,
                  self->published.values[index]);
    }
    if (config->labelled) {
        s_append_header (&text, config->labelled);
        for (size_t index = 0; index < self->published.label_count; index++) {
            s_append (&text, "%s{%s=\"", config->labelled->name, config->label_name);
            s_append_label (&text, self->published.labels +
                                       index * (config->label_length_max + 1));
            s_append (&text, "\"} %" PRIu64 "\n", self->published.by_label[index]);
        }
    }
    pthread_mutex_unlock (&self->mutex);
    if (text.failed) {
        free (text.text);
        return NULL;
    }
    *length = text.length;
    return text.text;
}

static enum MHD_Result
s_answer (void *context, struct MHD_Connection *connection, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **connection_context)
{
    (void) version;
    (void) upload_data;
    (void) upload_data_size;
    (void) connection_context;
    dv_metrics_t *self = context;
    bool get = !strcmp (method, "GET") || !strcmp (method, "HEAD");
    unsigned status = MHD_HTTP_OK;
    char *body = NULL;
    size_t length = 0;
    static char not_found[] = "divvy serves /metrics only\n";
    static char not_allowed[] = "GET or HEAD only\n";
    static char no_memory[] = "out of memory\n";
    if (!get)
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    else if (strcmp (url, "/metrics"))
        status = MHD_HTTP_NOT_FOUND;
    else if (!(body = dv_metrics_format (self, &length)))
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    struct MHD_Response *response;
    if (body)
        response = MHD_create_response_from_buffer (length, body, MHD_RESPMEM_MUST_FREE);
    else {
        char *text = status == MHD_HTTP_NOT_FOUND            ? not_found
                     : status == MHD_HTTP_METHOD_NOT_ALLOWED ? not_allowed
                                                             : no_memory;
        response =
            MHD_create_response_from_buffer (strlen (text), text, MHD_RESPMEM_PERSISTENT);
    }
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                             body ? S_CONTENT_TYPE : "text/plain; charset=utf-8");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result result = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return result;
}

dv_metrics_t *
dv_metrics_new (const char *listen, const dv_metrics_config_t *config, int *exit_code)
{
    int fd = s_listen (listen, exit_code);
    if (fd < 0)
        return NULL;
    dv_metrics_t *self = calloc (1, sizeof *self);
    if (!self || s_snapshot_init (&self->staging, config) ||
        s_snapshot_init (&self->published, config)) {
        dv_log ("--metrics: out of memory");
        *exit_code = DV_EXIT_RUNTIME;
        close (fd);
        if (self) {
            s_snapshot_free (&self->staging);
            s_snapshot_free (&self->published);
        }
        free (self);
        return NULL;
    }
    self->config = *config;
    pthread_mutex_init (&self->mutex, NULL);
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    self->started_s = (double) now.tv_sec + (double) now.tv_nsec / 1e9;
    struct sockaddr_storage address;
    socklen_t address_size = sizeof address;
    if (getsockname (fd, (struct sockaddr *) &address, &address_size) == 0)
        self->port = ntohs (address.ss_family == AF_INET6
                                ? ((struct sockaddr_in6 *) &address)->sin6_port
                                : ((struct sockaddr_in *) &address)->sin_port);
    self->daemon = MHD_start_daemon (
        MHD_USE_INTERNAL_POLLING_THREAD |
            (address.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
        0, NULL, NULL, &s_answer, self, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned) DV_METRICS_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) DV_METRICS_IDLE_S, MHD_OPTION_END);
    if (!self->daemon) {
        dv_log ("--metrics: cannot start the HTTP server on %s", listen);
        *exit_code = DV_EXIT_RUNTIME;
        close (fd);
        dv_metrics_destroy (&self);
        return NULL;
    }
    char host[S_HOST_MAX], port[8];
    s_split (listen, host, port);
    bool v6 = strchr (host, ':') != NULL;
    dv_log ("metrics on http://%s%s%s:%d/metrics", v6 ? "[" : "",
            *host ? host : "0.0.0.0", v6 ? "]" : "", self->port);
    return self;
}

void
dv_metrics_destroy (dv_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dv_metrics_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    pthread_mutex_destroy (&self->mutex);
    s_snapshot_free (&self->staging);
    s_snapshot_free (&self->published);
    free (self);
    *self_p = NULL;
}

int
dv_metrics_port (dv_metrics_t *self)
{
    return self ? self->port : 0;
}

void
dv_metrics_set (dv_metrics_t *self, size_t index, uint64_t value)
{
    if (self && index < self->config.family_count)
        self->staging.values[index] = value;
}

void
dv_metrics_set_label (dv_metrics_t *self, const char *label, size_t length,
                      uint64_t value)
{
    if (!self || !self->config.labelled ||
        self->staging.label_count >= self->config.label_max)
        return;
    size_t slot = self->config.label_length_max + 1;
    char *target = self->staging.labels + self->staging.label_count * slot;
    if (length > self->config.label_length_max)
        length = self->config.label_length_max;
    memcpy (target, label, length);
    target[length] = '\0';
    self->staging.by_label[self->staging.label_count++] = value;
}

void
dv_metrics_clear_labels (dv_metrics_t *self)
{
    if (self)
        self->staging.label_count = 0;
}

void
dv_metrics_publish (dv_metrics_t *self)
{
    if (!self)
        return;
    const dv_metrics_config_t *config = &self->config;
    size_t slot = config->label_length_max + 1;
    pthread_mutex_lock (&self->mutex);
    memcpy (self->published.values, self->staging.values,
            config->family_count * sizeof (uint64_t));
    memcpy (self->published.labels, self->staging.labels,
            self->staging.label_count * slot);
    memcpy (self->published.by_label, self->staging.by_label,
            self->staging.label_count * sizeof (uint64_t));
    self->published.label_count = self->staging.label_count;
    pthread_mutex_unlock (&self->mutex);
}
