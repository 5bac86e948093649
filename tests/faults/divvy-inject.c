/*  divvy-inject: a scriptable raw ZeroMQ peer for the fault tests.

    It speaks no divvy protocol of its own: it opens plain libzmq sockets,
    sends whatever frames its script says (hostile ones included) and reports
    what it sees on the sink's control socket. The script comes on stdin, one
    command a line; every report goes to stdout, one line each, flushed.

      curve CERT SERVER             sockets opened from now on are CURVE
                                    clients: CERT (and CERT_secret) is ours,
                                    SERVER the servers' public certificate;
                                    'curve off' goes back to plaintext
      socket NAME TYPE ENDPOINT     TYPE: push, dealer or sub; connects, with
                                    a socket monitor; a sub subscribes to
                                    HEARTBEAT, RESEND, KILL and REFUSE
      send NAME FRAME...            one message; FRAME is hex, '-' is empty;
                                    several frames make a multipart message
      fill NAME SIZE [PREFIX]       one frame of SIZE bytes: PREFIX (hex), then
                                    zero bytes
      wait-event NAME EVENT MS      EVENT: connected (handshake done) or
                                    disconnected; counts since the socket opened
      until NAME STATE RECEIVED MS  on a sub: a heartbeat with this state
                                    (0 idle, 1 running, 2 done, 3 abandoned)
                                    and at least
                                    RECEIVED results; prints it
      watch NAME MS                 on a sub: print every heartbeat, RESEND,
                                    KILL and REFUSE for MS ms (0: until
                                    SIGTERM)
      sleep MS
      close NAME

    Reports: "hb JOB STATE RECEIVED TOTAL", "resend JOB TASKS RANGES",
    "kill JOB", "refuse JOB REASON DETAIL" (REASON: 1 too large, 2 busy,
    3 shape, 4 no memory), "event NAME EVENT", "sent NAME BYTES FRAMES",
    "done COMMAND".
    A wait that times out prints "timeout COMMAND" and exits 1; a bad script
    line prints "error ..." and exits 2.
*/
#include "protocol.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "clock.h"

#define S_SOCKETS_MAX 16
#define S_NAME_MAX    32
#define S_ARGS_MAX    64

typedef struct {
    char name[S_NAME_MAX];
    void *socket;
    void *monitor; //  PAIR that receives the socket's monitor events
    int type;
    unsigned connected;
    unsigned disconnected;
} s_socket_t;

static void *s_context;
static s_socket_t s_sockets[S_SOCKETS_MAX];
static int s_socket_count;
static volatile sig_atomic_t s_stop;
//  The keys of CURVE sockets from now on ('curve'), NULL for plaintext.
static zcert_t *s_curve_cert;
static uint8_t s_curve_server_key[32];

static void
s_on_signal (int number)
{
    (void) number;
    s_stop = 1;
}

static void s_report (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

static void
s_report (const char *format, ...)
{
    va_list arguments;
    va_start (arguments, format);
    vprintf (format, arguments);
    va_end (arguments);
    putchar ('\n');
    fflush (stdout);
}

static s_socket_t *
s_find (const char *name)
{
    for (int index = 0; index < s_socket_count; index++)
        if (s_sockets[index].socket && !strcmp (s_sockets[index].name, name))
            return &s_sockets[index];
    return NULL;
}

//  Reads every monitor event waiting on every socket.
static void
s_pump_monitors (void)
{
    for (int index = 0; index < s_socket_count; index++) {
        s_socket_t *self = &s_sockets[index];
        if (!self->monitor)
            continue;
        while (true) {
            zmq_msg_t event, address;
            zmq_msg_init (&event);
            if (zmq_msg_recv (&event, self->monitor, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&event);
                break;
            }
            uint16_t number = 0;
            if (zmq_msg_size (&event) >= 2)
                memcpy (&number, zmq_msg_data (&event), 2);
            //  Monitor events are two frames: the event, then the endpoint.
            zmq_msg_init (&address);
            if (zmq_msg_more (&event))
                zmq_msg_recv (&address, self->monitor, 0);
            zmq_msg_close (&address);
            zmq_msg_close (&event);
            if (number == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
                self->connected++;
                s_report ("event %s connected", self->name);
            } else if (number == ZMQ_EVENT_DISCONNECTED) {
                self->disconnected++;
                s_report ("event %s disconnected", self->name);
            }
        }
    }
}

static int
s_hex_value (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  Decodes hex text into a new buffer; '-' is an empty frame. Returns the
//  size, or -1 when the text is not hex.
static long
s_unhex (const char *text, uint8_t **bytes)
{
    *bytes = NULL;
    if (!strcmp (text, "-"))
        return 0;
    size_t length = strlen (text);
    if (length % 2)
        return -1;
    *bytes = malloc (length / 2 + 1);
    if (!*bytes)
        return -1;
    for (size_t index = 0; index < length / 2; index++) {
        int high = s_hex_value (text[2 * index]);
        int low = s_hex_value (text[2 * index + 1]);
        if (high < 0 || low < 0) {
            free (*bytes);
            *bytes = NULL;
            return -1;
        }
        (*bytes)[index] = (uint8_t) (high << 4 | low);
    }
    return (long) (length / 2);
}

static int
s_open (const char *name, const char *type_name, const char *endpoint)
{
    int type = !strcmp (type_name, "push")     ? ZMQ_PUSH
               : !strcmp (type_name, "dealer") ? ZMQ_DEALER
               : !strcmp (type_name, "sub")    ? ZMQ_SUB
                                               : -1;
    if (type < 0 || strlen (name) >= S_NAME_MAX || s_find (name) ||
        s_socket_count == S_SOCKETS_MAX) {
        s_report ("error socket %s %s: bad type, name taken, or too many sockets", name,
                  type_name);
        return -1;
    }
    s_socket_t *self = &s_sockets[s_socket_count++];
    memset (self, 0, sizeof *self);
    snprintf (self->name, sizeof self->name, "%s", name);
    self->type = type;
    self->socket = zmq_socket (s_context, type);
    //  Whatever was sent must leave before close: the tests count it.
    int linger = 2000;
    zmq_setsockopt (self->socket, ZMQ_LINGER, &linger, sizeof linger);
    char monitor_endpoint[64];
    snprintf (monitor_endpoint, sizeof monitor_endpoint, "inproc://monitor-%d",
              s_socket_count);
    zmq_socket_monitor (self->socket, monitor_endpoint,
                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
    self->monitor = zmq_socket (s_context, ZMQ_PAIR);
    zmq_connect (self->monitor, monitor_endpoint);
    if (s_curve_cert) {
        zmq_setsockopt (self->socket, ZMQ_CURVE_PUBLICKEY,
                        zcert_public_key (s_curve_cert), 32);
        zmq_setsockopt (self->socket, ZMQ_CURVE_SECRETKEY,
                        zcert_secret_key (s_curve_cert), 32);
        zmq_setsockopt (self->socket, ZMQ_CURVE_SERVERKEY, s_curve_server_key, 32);
    }
    if (type == ZMQ_SUB) {
        const dv_kind_t kinds[] = {DV_KIND_HEARTBEAT, DV_KIND_RESEND, DV_KIND_KILL,
                                   DV_KIND_REFUSE};
        for (size_t index = 0; index < sizeof kinds / sizeof kinds[0]; index++) {
            uint8_t topic[2];
            dv_topic (kinds[index], topic);
            zmq_setsockopt (self->socket, ZMQ_SUBSCRIBE, topic, 2);
        }
    }
    if (zmq_connect (self->socket, endpoint)) {
        s_report ("error socket %s: cannot connect to %s: %s", name, endpoint,
                  zmq_strerror (errno));
        return -1;
    }
    s_report ("done socket %s", name);
    return 0;
}

static int
s_send_frames (s_socket_t *self, char **frames, int frame_count)
{
    size_t total = 0;
    for (int index = 0; index < frame_count; index++) {
        uint8_t *bytes;
        long size = s_unhex (frames[index], &bytes);
        if (size < 0) {
            s_report ("error send %s: frame %d is not hex", self->name, index + 1);
            return -1;
        }
        int flags = index + 1 < frame_count ? ZMQ_SNDMORE : 0;
        int rc =
            zmq_send (self->socket, bytes ? bytes : (uint8_t *) "", (size_t) size, flags);
        free (bytes);
        if (rc < 0) {
            s_report ("error send %s: %s", self->name, zmq_strerror (errno));
            return -1;
        }
        total += (size_t) size;
    }
    s_report ("sent %s %zu %d", self->name, total, frame_count);
    return 0;
}

static int
s_fill (s_socket_t *self, const char *size_text, const char *prefix_text)
{
    char *end;
    unsigned long long size = strtoull (size_text, &end, 10);
    uint8_t *prefix = NULL;
    long prefix_size = prefix_text ? s_unhex (prefix_text, &prefix) : 0;
    if (*end || !size || size > (1ULL << 30) || prefix_size < 0 ||
        (unsigned long long) prefix_size > size) {
        free (prefix);
        s_report ("error fill %s: bad size or prefix", self->name);
        return -1;
    }
    uint8_t *bytes = calloc (1, (size_t) size);
    if (!bytes) {
        free (prefix);
        s_report ("error fill %s: out of memory", self->name);
        return -1;
    }
    if (prefix_size)
        memcpy (bytes, prefix, (size_t) prefix_size);
    free (prefix);
    int rc = zmq_send (self->socket, bytes, (size_t) size, 0);
    free (bytes);
    if (rc < 0) {
        s_report ("error fill %s: %s", self->name, zmq_strerror (errno));
        return -1;
    }
    s_report ("sent %s %llu 1", self->name, size);
    return 0;
}

//  Prints one control message; returns its heartbeat in *heartbeat (and true)
//  when it is one.
static bool
s_show_control (const uint8_t *data, size_t size, dv_heartbeat_t *heartbeat)
{
    dv_resend_t resend;
    dv_kill_t kill;
    dv_refuse_t refuse;
    switch (dv_message_kind (data, size)) {
        case DV_KIND_HEARTBEAT:
            if (dv_heartbeat_decode (data, size, heartbeat))
                break;
            s_report ("hb %" PRIu64 " %d %" PRIu64 " %" PRIu64, heartbeat->job_id,
                      (int) heartbeat->state, heartbeat->received, heartbeat->total);
            return true;
        case DV_KIND_RESEND:
            if (dv_resend_decode (data, size, &resend))
                break;
            uint64_t tasks = 0;
            for (uint32_t index = 0; index < resend.range_count; index++)
                tasks += dv_resend_range (&resend, index).task_count;
            s_report ("resend %" PRIu64 " %" PRIu64 " %" PRIu32, resend.job_id, tasks,
                      resend.range_count);
            return false;
        case DV_KIND_KILL:
            if (dv_kill_decode (data, size, &kill))
                break;
            s_report ("kill %" PRIu64, kill.job_id);
            return false;
        case DV_KIND_REFUSE:
            if (dv_refuse_decode (data, size, &refuse))
                break;
            s_report ("refuse %" PRIu64 " %d %" PRIu64, refuse.job_id,
                      (int) refuse.reason, refuse.detail);
            return false;
    }
    s_report ("control %zu bytes, not understood", size);
    return false;
}

//  Shows control messages on a sub for up to ms (0: until stopped); with
//  state >= 0, returns 0 as soon as a heartbeat has that state and at least
//  received results, -1 on timeout.
static int
s_watch (s_socket_t *self, int state, uint64_t received, int64_t ms)
{
    int64_t end = dv_now_ms () + ms;
    zmq_msg_t message;
    zmq_msg_init (&message);
    int rc = -1;
    while (!s_stop && (ms == 0 || dv_now_ms () < end)) {
        zmq_pollitem_t item = {self->socket, 0, ZMQ_POLLIN, 0};
        int64_t wait_ms = ms == 0 ? 100 : end - dv_now_ms ();
        zmq_poll (&item, 1, wait_ms > 100 ? 100 : wait_ms < 0 ? 0 : wait_ms);
        s_pump_monitors ();
        while (zmq_msg_recv (&message, self->socket, ZMQ_DONTWAIT) >= 0) {
            dv_heartbeat_t heartbeat;
            if (s_show_control (zmq_msg_data (&message), zmq_msg_size (&message),
                                &heartbeat) &&
                state >= 0 && (int) heartbeat.state == state &&
                heartbeat.received >= received) {
                rc = 0;
                goto done;
            }
        }
    }
done:
    zmq_msg_close (&message);
    return state < 0 ? 0 : rc;
}

static int
s_wait_event (s_socket_t *self, const char *event, int64_t ms)
{
    bool connected = !strcmp (event, "connected");
    if (!connected && strcmp (event, "disconnected")) {
        s_report ("error wait-event: unknown event %s", event);
        return -2;
    }
    int64_t end = dv_now_ms () + ms;
    while (!s_stop) {
        s_pump_monitors ();
        if (connected ? self->connected : self->disconnected)
            return 0;
        if (dv_now_ms () >= end)
            break;
        zmq_pollitem_t item = {self->monitor, 0, ZMQ_POLLIN, 0};
        zmq_poll (&item, 1, 20);
    }
    return -1;
}

static void
s_close (s_socket_t *self)
{
    s_pump_monitors ();
    zmq_socket_monitor (self->socket, NULL, 0);
    zmq_close (self->monitor);
    zmq_close (self->socket);
    self->socket = self->monitor = NULL;
}

//  Takes the keys of the sockets opened from now on ("off": none).
static int
s_curve (char **arguments, int count)
{
    zcert_destroy (&s_curve_cert);
    if (count == 2 && !strcmp (arguments[1], "off")) {
        s_report ("done curve off");
        return 0;
    }
    zcert_t *server = count == 3 ? zcert_load (arguments[2]) : NULL;
    s_curve_cert = count == 3 ? zcert_load (arguments[1]) : NULL;
    if (!server || !s_curve_cert) {
        zcert_destroy (&server);
        zcert_destroy (&s_curve_cert);
        s_report ("error curve: need CERT SERVER, two readable certificates");
        return 2;
    }
    memcpy (s_curve_server_key, zcert_public_key (server), 32);
    zcert_destroy (&server);
    s_report ("done curve %s", arguments[1]);
    return 0;
}

//  Runs one script line. Returns 0, or the exit code to stop with.
static int
s_run_line (char *line)
{
    char *arguments[S_ARGS_MAX];
    int count = 0;
    for (char *word = strtok (line, " \t\r\n"); word && count < S_ARGS_MAX;
         word = strtok (NULL, " \t\r\n"))
        arguments[count++] = word;
    if (count == 0 || arguments[0][0] == '#')
        return 0;
    const char *command = arguments[0];
    if (!strcmp (command, "curve"))
        return s_curve (arguments, count);
    if (!strcmp (command, "socket") && count == 4)
        return s_open (arguments[1], arguments[2], arguments[3]) ? 2 : 0;
    if (!strcmp (command, "sleep") && count == 2) {
        int64_t end = dv_now_ms () + atoll (arguments[1]);
        while (!s_stop && dv_now_ms () < end) {
            s_pump_monitors ();
            struct timespec pause = {0, 10 * 1000000};
            nanosleep (&pause, NULL);
        }
        s_report ("done sleep");
        return 0;
    }
    s_socket_t *self = count >= 2 ? s_find (arguments[1]) : NULL;
    if (!self) {
        s_report ("error %s: no such socket, or a missing argument", command);
        return 2;
    }
    s_pump_monitors ();
    if (!strcmp (command, "send") && count >= 3)
        return s_send_frames (self, arguments + 2, count - 2) ? 2 : 0;
    if (!strcmp (command, "fill") && (count == 3 || count == 4))
        return s_fill (self, arguments[2], count == 4 ? arguments[3] : NULL) ? 2 : 0;
    if (!strcmp (command, "close") && count == 2) {
        s_close (self);
        s_report ("done close %s", arguments[1]);
        return 0;
    }
    if (!strcmp (command, "wait-event") && count == 4) {
        int rc = s_wait_event (self, arguments[2], atoll (arguments[3]));
        if (rc == -2)
            return 2;
        s_report ("%s wait-event %s %s", rc ? "timeout" : "done", arguments[1],
                  arguments[2]);
        return rc ? 1 : 0;
    }
    if (self->type == ZMQ_SUB && !strcmp (command, "until") && count == 5) {
        int rc = s_watch (self, atoi (arguments[2]), strtoull (arguments[3], NULL, 10),
                          atoll (arguments[4]));
        s_report ("%s until", rc ? "timeout" : "done");
        return rc ? 1 : 0;
    }
    if (self->type == ZMQ_SUB && !strcmp (command, "watch") && count == 3) {
        s_watch (self, -1, 0, atoll (arguments[2]));
        s_report ("done watch");
        return 0;
    }
    s_report ("error: cannot run '%s' with %d arguments on %s", command, count - 1,
              arguments[1]);
    return 2;
}

int
main (void)
{
    struct sigaction action = {.sa_handler = s_on_signal};
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    s_context = zmq_ctx_new ();
    char *line = NULL;
    size_t capacity = 0;
    int exit_code = 0;
    while (!s_stop && !exit_code && getline (&line, &capacity, stdin) >= 0)
        exit_code = s_run_line (line);
    free (line);
    for (int index = 0; index < s_socket_count; index++)
        if (s_sockets[index].socket)
            s_close (&s_sockets[index]);
    zmq_ctx_term (s_context);
    zcert_destroy (&s_curve_cert);
    return exit_code;
}
