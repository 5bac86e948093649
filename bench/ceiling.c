/*  ceiling.c: the raw libzmq ceiling for divvy's benchmark

    How fast can libzmq itself move messages through a pipeline shaped like
    divvy's when nobody does any work? A source binds a PUSH socket (tasks)
    and sends M messages the size of a divvy task batch; W relays each PULL
    from it and PUSH, per task, a message the size of a divvy result batch to
    a sink, which binds a PULL socket (results) and counts them. The clock
    runs from the source's first send to the sink's last receive, so divvy's
    own figure can be read against this one.

    Each of the W + 2 nodes has its own context and runs in its own process
    (the default, like divvy's binaries) or its own thread. The conductor,
    main, starts them, learns their endpoints, times and outcomes through one
    report pipe per node, and ends the run by closing the control pipe that
    every node watches. Sockets close only once the sink holds all M
    messages, so none can be lost on the way out; every wait is bounded by
    --timeout, so a run never hangs.
*/

#define _GNU_SOURCE
#include <zmq.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_PROGRAM           "divvy-ceiling"
#define S_DEFAULT_MESSAGES  1000000
#define S_DEFAULT_VALUES    16
#define S_DEFAULT_WORKERS   1
#define S_DEFAULT_HWM       1000
#define S_DEFAULT_TIMEOUT_S 60
#define S_MAX_WORKERS       256
#define S_MAX_MESSAGES      1000000000000ULL
#define S_MAX_TIMEOUT_S     86400
#define S_MAX_VALUES        (1 << 20)
#define S_MAX_BYTES         (1 << 30)
#define S_ENDPOINT_MAX      256
#define S_TEXT_MAX          256
#define S_MONITOR_ENDPOINT  "inproc://ceiling-tasks-monitor"
//  The conductor waits this much longer than a node, so a node that times
//  out is the one that says what it was waiting for
#define S_GRACE_MS 5000
//  How often the sink tells the conductor it is still receiving
#define S_PROGRESS_NS 1000000000LL

//  Sizes of divvy's messages for K int64 values (DV_TASKS_SIZE and
//  DV_RESULTS_SIZE in lib/protocol.h): a task batch carries a 32-byte
//  header (with its tag) and the values; a result batch a 33-byte header,
//  an 8-byte worker id and 24 bytes per value
#define S_TASK_BYTES(k)   (32 + 8 * (k))
#define S_RESULT_BYTES(k) (33 + 8 + 24 * (k))

typedef struct {
    uint64_t message_count; //  --messages
    uint64_t value_count;   //  --values, per message
    size_t task_bytes;      //  --task-bytes
    size_t result_bytes;    //  --result-bytes
    int worker_count;       //  --workers: relays
    bool use_ipc;           //  --transport ipc, else tcp
    bool use_processes;     //  --mode processes, else threads
    int hwm;                //  --hwm, on every socket both ways
    int timeout_ms;         //  --timeout, for every wait
    bool csv;               //  --csv
    bool verbose;           //  --verbose
    char ipc_dir[128];      //  temp dir for ipc endpoints, removed at the end
    char tasks_bind[S_ENDPOINT_MAX];
    char results_bind[S_ENDPOINT_MAX];
    char tasks_connect[S_ENDPOINT_MAX];   //  learnt from the source
    char results_connect[S_ENDPOINT_MAX]; //  learnt from the sink
} s_config_t;

//  What a node tells the conductor; one record is one write () of less than
//  PIPE_BUF bytes, so records never interleave or split
typedef enum {
    S_REPORT_BOUND,    //  text: the endpoint the node's socket is bound to
    S_REPORT_PROGRESS, //  count: the sink is still receiving
    S_REPORT_SENT,     //  time_ns: when the source sent its first task
    S_REPORT_DONE,     //  count, time_ns: the sink has the last result
    S_REPORT_EXIT      //  status, text: why it failed; count: tasks relayed
} s_report_kind_t;

typedef struct {
    int kind;
    int status;
    uint64_t count;
    int64_t time_ns;
    char text[S_TEXT_MAX]; //  BOUND: the endpoint; EXIT: why it failed
} s_report_t;

//  How a node's run ended: what it counted, and why it failed if it did
typedef struct {
    uint64_t count;
    char text[S_TEXT_MAX];
} s_outcome_t;

typedef enum { S_ROLE_SINK, S_ROLE_SOURCE, S_ROLE_RELAY } s_role_t;

typedef struct {
    //  Set before the node starts; the node reads them
    s_role_t role;
    char name[32];
    const s_config_t *config;
    int control_fd; //  read end of the control pipe: EOF ends the run
    int report_fd;  //  write end of this node's report pipe
    //  The conductor's side
    int report_read_fd;
    bool started;
    bool reaped;
    pthread_t thread;
    pid_t pid;
    bool exited; //  got its EXIT report
    bool closed; //  got EOF on its report pipe
    bool done;   //  source: sent all; sink: received all
    int exit_status;
    uint64_t count;
    int64_t time_ns;
    char endpoint[S_ENDPOINT_MAX];
} s_node_t;

typedef struct {
    s_config_t config;
    s_node_t *nodes; //  sink, source, then the relays
    int node_count;
    int control_fds[2];
    sigset_t wait_mask; //  signal mask while the conductor waits
    struct pollfd *pollfds;
    int *poll_nodes;
} s_run_t;

typedef enum { S_WANT_BOUND, S_WANT_DONE, S_WANT_CLOSED } s_want_t;

static volatile sig_atomic_t s_interrupted = 0;

static void
s_signal_handler (int signum)
{
    (void) signum;
    s_interrupted = 1;
}

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

//  ---------------------------------------------------------------------
//  The nodes

//  Sends one report to the conductor. Returns 0, or -1 if the conductor
//  is gone.
static int
s_report (const s_node_t *self, s_report_kind_t kind, int status, uint64_t count,
          int64_t time_ns, const char *text)
{
    s_report_t report;
    memset (&report, 0, sizeof report);
    report.kind = kind;
    report.status = status;
    report.count = count;
    report.time_ns = time_ns;
    if (text)
        snprintf (report.text, sizeof report.text, "%s", text);
    ssize_t rc;
    do
        rc = write (self->report_fd, &report, sizeof report);
    while (rc == -1 && errno == EINTR);
    return rc == (ssize_t) sizeof report ? 0 : -1;
}

//  Records why a node failed, the node's name first.
static void s_fail (const s_node_t *self, s_outcome_t *outcome, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_fail (const s_node_t *self, s_outcome_t *outcome, const char *format, ...)
{
    int length = snprintf (outcome->text, sizeof outcome->text, "%s: ", self->name);
    if (length < 0 || (size_t) length >= sizeof outcome->text)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (outcome->text + length, sizeof outcome->text - (size_t) length, format,
               args);
    va_end (args);
}

//  Creates a socket with the run's high-water marks, bounded waits both
//  ways, and linger 0: by the time any socket closes, the sink holds every
//  message, so nothing is left to deliver. Returns NULL on failure.
static void *
s_socket_new (void *context, int type, const s_config_t *config)
{
    void *socket = zmq_socket (context, type);
    if (!socket)
        return NULL;
    int linger = 0;
    if (zmq_setsockopt (socket, ZMQ_SNDHWM, &config->hwm, sizeof (int)) ||
        zmq_setsockopt (socket, ZMQ_RCVHWM, &config->hwm, sizeof (int)) ||
        zmq_setsockopt (socket, ZMQ_SNDTIMEO, &config->timeout_ms, sizeof (int)) ||
        zmq_setsockopt (socket, ZMQ_RCVTIMEO, &config->timeout_ms, sizeof (int)) ||
        zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof (int))) {
        int saved_errno = errno;
        zmq_close (socket);
        errno = saved_errno;
        return NULL;
    }
    return socket;
}

//  Binds a socket and reports where. Returns 0 or -1 (said in outcome).
static int
s_bind_and_report (const s_node_t *self, void *socket, const char *endpoint,
                   s_outcome_t *outcome)
{
    if (zmq_bind (socket, endpoint)) {
        s_fail (self, outcome, "cannot bind %s: %s", endpoint, zmq_strerror (errno));
        return -1;
    }
    char bound[S_ENDPOINT_MAX];
    size_t bound_size = sizeof bound;
    if (zmq_getsockopt (socket, ZMQ_LAST_ENDPOINT, bound, &bound_size)) {
        s_fail (self, outcome, "cannot read the bound endpoint: %s",
                zmq_strerror (errno));
        return -1;
    }
    return s_report (self, S_REPORT_BOUND, 0, 0, 0, bound);
}

//  Waits until the conductor closes the control pipe. Returns 0, or -1
//  after timeout_ms.
static int
s_control_wait (int control_fd, int timeout_ms)
{
    int64_t deadline_ns = s_now_ns () + (int64_t) timeout_ms * 1000000;
    while (true) {
        int64_t remaining_ms = (deadline_ns - s_now_ns ()) / 1000000;
        if (remaining_ms <= 0)
            return -1;
        struct pollfd pollfd = {.fd = control_fd, .events = POLLIN};
        int rc = poll (&pollfd, 1, (int) remaining_ms);
        if (rc > 0)
            return 0; //  EOF shows as POLLHUP
        if (rc == -1 && errno != EINTR)
            return -1;
    }
}

//  Waits until a socket can give (ZMQ_POLLIN) or take (ZMQ_POLLOUT) a
//  message, or the control pipe closes. Returns 0 when the socket is ready,
//  1 when the control pipe has closed, -1 after timeout_ms (errno EAGAIN)
//  or on error.
static int
s_socket_wait (void *socket, short events, int control_fd, int timeout_ms)
{
    //  A closed pipe polls as POLLHUP, which zmq_poll reports as ZMQ_POLLERR
    zmq_pollitem_t items[] = {{socket, 0, events, 0}, {NULL, control_fd, ZMQ_POLLIN, 0}};
    int64_t deadline_ns = s_now_ns () + (int64_t) timeout_ms * 1000000;
    while (true) {
        int64_t remaining_ms = (deadline_ns - s_now_ns ()) / 1000000;
        if (remaining_ms <= 0) {
            errno = EAGAIN;
            return -1;
        }
        int rc = zmq_poll (items, 2, (long) remaining_ms);
        if (rc == -1 && errno != EINTR)
            return -1;
        if (rc > 0 && items[1].revents)
            return 1;
        if (rc > 0 && items[0].revents)
            return 0;
    }
}

//  Receives one message. While messages flow this is one non-blocking
//  call; only an empty queue costs a poll. Returns 0, or as s_socket_wait.
static int
s_msg_recv (zmq_msg_t *msg, void *socket, int control_fd, int timeout_ms)
{
    while (zmq_msg_recv (msg, socket, ZMQ_DONTWAIT) == -1) {
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        int rc = s_socket_wait (socket, ZMQ_POLLIN, control_fd, timeout_ms);
        if (rc)
            return rc;
    }
    return 0;
}

//  Sends one message, copying size bytes from data; likewise.
static int
s_send (void *socket, const void *data, size_t size, int control_fd, int timeout_ms)
{
    while (zmq_send (socket, data, size, ZMQ_DONTWAIT) == -1) {
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        int rc = s_socket_wait (socket, ZMQ_POLLOUT, control_fd, timeout_ms);
        if (rc)
            return rc;
    }
    return 0;
}

//  Receives one event from a socket monitor into *event_p. Returns 0, or
//  as s_socket_wait.
static int
s_event_recv (void *monitor, int control_fd, int timeout_ms, int *event_p)
{
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    int rc = s_msg_recv (&frame, monitor, control_fd, timeout_ms);
    if (rc == 0) {
        *event_p = 0;
        if (zmq_msg_size (&frame) >= sizeof (uint16_t)) {
            uint16_t number;
            memcpy (&number, zmq_msg_data (&frame), sizeof number);
            *event_p = number;
        }
        //  The second frame names the peer, and is already here
        while (zmq_msg_more (&frame))
            if (zmq_msg_recv (&frame, monitor, 0) == -1)
                break;
    }
    int saved_errno = errno;
    zmq_msg_close (&frame);
    errno = saved_errno;
    return rc;
}

//  Every node stops, without a word, when the control pipe closes while it
//  still has work: the conductor has then given up and said why, or died.

//  The sink: binds results, receives exactly M messages and reports when
//  the last one came.
static int
s_sink_run (const s_node_t *self, s_outcome_t *outcome)
{
    const s_config_t *config = self->config;
    int status = 1;
    void *results = NULL;
    zmq_msg_t result;
    zmq_msg_init (&result);

    void *context = zmq_ctx_new ();
    if (context)
        results = s_socket_new (context, ZMQ_PULL, config);
    if (!results) {
        s_fail (self, outcome, "cannot create a socket: %s", zmq_strerror (errno));
        goto cleanup;
    }
    if (s_bind_and_report (self, results, config->results_bind, outcome))
        goto cleanup;

    uint64_t received = 0;
    int64_t progress_ns = s_now_ns ();
    while (received < config->message_count) {
        int rc = s_msg_recv (&result, results, self->control_fd, config->timeout_ms);
        if (rc == 1)
            goto cleanup;
        if (rc == -1) {
            if (errno == EAGAIN)
                s_fail (self, outcome, "no result for %d s after %" PRIu64 " of %" PRIu64,
                        config->timeout_ms / 1000, received, config->message_count);
            else
                s_fail (self, outcome, "cannot receive: %s", zmq_strerror (errno));
            goto cleanup;
        }
        if (zmq_msg_size (&result) != config->result_bytes) {
            s_fail (self, outcome, "result %" PRIu64 " has %zu bytes, not %zu",
                    received + 1, zmq_msg_size (&result), config->result_bytes);
            goto cleanup;
        }
        received++;
        if ((received & 1023) == 0) {
            int64_t now_ns = s_now_ns ();
            if (now_ns - progress_ns >= S_PROGRESS_NS) {
                if (s_report (self, S_REPORT_PROGRESS, 0, received, now_ns, NULL))
                    goto cleanup;
                progress_ns = now_ns;
            }
        }
    }
    int64_t done_ns = s_now_ns ();
    outcome->count = received;
    if (s_report (self, S_REPORT_DONE, 0, received, done_ns, NULL))
        goto cleanup;
    status = 0;

cleanup:
    zmq_msg_close (&result);
    if (results)
        zmq_close (results);
    if (context)
        zmq_ctx_term (context);
    return status;
}

//  The source: binds tasks, waits until every relay is attached, sends M
//  messages, then holds its socket open until the sink has them all.
static int
s_source_run (const s_node_t *self, s_outcome_t *outcome)
{
    const s_config_t *config = self->config;
    int status = 1;
    void *tasks = NULL;
    void *monitor = NULL;
    bool monitoring = false;
    char *task = NULL;

    void *context = zmq_ctx_new ();
    if (context)
        tasks = s_socket_new (context, ZMQ_PUSH, config);
    //  Count the relays' handshakes, so the first task goes out only once
    //  every relay is attached; otherwise the first relay to connect takes
    //  the head of the stream and the clock counts connection set-up
    if (tasks && zmq_socket_monitor (tasks, S_MONITOR_ENDPOINT,
                                     ZMQ_EVENT_HANDSHAKE_SUCCEEDED) == 0) {
        monitoring = true;
        monitor = s_socket_new (context, ZMQ_PAIR, config);
    }
    if (!monitor || zmq_connect (monitor, S_MONITOR_ENDPOINT)) {
        s_fail (self, outcome, "cannot create a socket: %s", zmq_strerror (errno));
        goto cleanup;
    }
    if (s_bind_and_report (self, tasks, config->tasks_bind, outcome))
        goto cleanup;

    int attached = 0;
    while (attached < config->worker_count) {
        int event = 0;
        int rc = s_event_recv (monitor, self->control_fd, config->timeout_ms, &event);
        if (rc == 1)
            goto cleanup;
        if (rc == -1) {
            s_fail (self, outcome, "%d of %d relays connected in %d s", attached,
                    config->worker_count, config->timeout_ms / 1000);
            goto cleanup;
        }
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            attached++;
    }

    task = calloc (1, config->task_bytes ? config->task_bytes : 1);
    if (!task) {
        s_fail (self, outcome, "out of memory");
        goto cleanup;
    }
    int64_t first_ns = s_now_ns ();
    uint64_t sent = 0;
    while (sent < config->message_count) {
        int rc = s_send (tasks, task, config->task_bytes, self->control_fd,
                         config->timeout_ms);
        if (rc == 1)
            goto cleanup;
        if (rc == -1) {
            if (errno == EAGAIN)
                s_fail (self, outcome,
                        "tasks blocked for %d s after %" PRIu64 " of %" PRIu64,
                        config->timeout_ms / 1000, sent, config->message_count);
            else
                s_fail (self, outcome, "cannot send: %s", zmq_strerror (errno));
            goto cleanup;
        }
        sent++;
    }
    outcome->count = sent;
    if (s_report (self, S_REPORT_SENT, 0, sent, first_ns, NULL))
        goto cleanup;
    if (s_control_wait (self->control_fd, config->timeout_ms)) {
        s_fail (self, outcome, "no end of run %d s after the last task",
                config->timeout_ms / 1000);
        goto cleanup;
    }
    status = 0;

cleanup:
    free (task);
    if (monitoring)
        zmq_socket_monitor (tasks, NULL, 0);
    if (monitor)
        zmq_close (monitor);
    if (tasks)
        zmq_close (tasks);
    if (context)
        zmq_ctx_term (context);
    return status;
}

//  A relay: for each task, one result, until the control pipe closes.
static int
s_relay_run (const s_node_t *self, s_outcome_t *outcome)
{
    const s_config_t *config = self->config;
    int status = 1;
    void *tasks = NULL;
    void *results = NULL;
    char *result = NULL;
    zmq_msg_t task;
    zmq_msg_init (&task);

    void *context = zmq_ctx_new ();
    if (context)
        results = s_socket_new (context, ZMQ_PUSH, config);
    if (results)
        tasks = s_socket_new (context, ZMQ_PULL, config);
    if (!tasks) {
        s_fail (self, outcome, "cannot create a socket: %s", zmq_strerror (errno));
        goto cleanup;
    }
    if (zmq_connect (results, config->results_connect) ||
        zmq_connect (tasks, config->tasks_connect)) {
        s_fail (self, outcome, "cannot connect: %s", zmq_strerror (errno));
        goto cleanup;
    }
    result = calloc (1, config->result_bytes ? config->result_bytes : 1);
    if (!result) {
        s_fail (self, outcome, "out of memory");
        goto cleanup;
    }

    uint64_t forwarded = 0;
    while (true) {
        int rc = s_msg_recv (&task, tasks, self->control_fd, config->timeout_ms);
        if (rc == 1)
            break; //  the end of the run, or of the conductor
        if (rc == -1) {
            if (errno == EAGAIN)
                s_fail (self, outcome, "idle for %d s after %" PRIu64 " tasks",
                        config->timeout_ms / 1000, forwarded);
            else
                s_fail (self, outcome, "cannot receive: %s", zmq_strerror (errno));
            goto cleanup;
        }
        rc = s_send (results, result, config->result_bytes, self->control_fd,
                     config->timeout_ms);
        if (rc == 1)
            goto cleanup;
        if (rc == -1) {
            if (errno == EAGAIN)
                s_fail (self, outcome, "results blocked for %d s after %" PRIu64,
                        config->timeout_ms / 1000, forwarded);
            else
                s_fail (self, outcome, "cannot send: %s", zmq_strerror (errno));
            goto cleanup;
        }
        forwarded++;
    }
    outcome->count = forwarded;
    status = 0;

cleanup:
    free (result);
    zmq_msg_close (&task);
    if (tasks)
        zmq_close (tasks);
    if (results)
        zmq_close (results);
    if (context)
        zmq_ctx_term (context);
    return status;
}

//  Runs a node to its end and reports how it went, with the reason if it
//  failed, then closes its report pipe. Nodes say nothing on stderr: the
//  conductor prints the first failure it hears of, so a failed run says
//  one line. Returns the node's exit status: 0 or 1.
static int
s_node_main (s_node_t *self)
{
    s_outcome_t outcome;
    memset (&outcome, 0, sizeof outcome);
    int status = 1;
    if (self->role == S_ROLE_SINK)
        status = s_sink_run (self, &outcome);
    else if (self->role == S_ROLE_SOURCE)
        status = s_source_run (self, &outcome);
    else
        status = s_relay_run (self, &outcome);
    s_report (self, S_REPORT_EXIT, status, outcome.count, s_now_ns (), outcome.text);
    close (self->report_fd);
    return status;
}

static void *
s_node_thread (void *args)
{
    s_node_main ((s_node_t *) args);
    return NULL;
}

//  ---------------------------------------------------------------------
//  The conductor

static void
s_ipc_cleanup (s_run_t *run)
{
    if (!run->config.ipc_dir[0])
        return;
    char path[sizeof run->config.ipc_dir + 16];
    snprintf (path, sizeof path, "%s/tasks", run->config.ipc_dir);
    unlink (path);
    snprintf (path, sizeof path, "%s/results", run->config.ipc_dir);
    unlink (path);
    rmdir (run->config.ipc_dir);
    run->config.ipc_dir[0] = 0;
}

//  Ends a failed run: the failing part has said why on stderr. Kills the
//  processes this run started; threads end with the process.
static void
s_run_abort (s_run_t *run)
{
    for (int index = 0; index < run->node_count; index++) {
        s_node_t *node = &run->nodes[index];
        if (node->started && node->pid > 0 && !node->reaped) {
            kill (node->pid, SIGKILL);
            waitpid (node->pid, NULL, 0);
            node->reaped = true;
        }
    }
    s_ipc_cleanup (run);
    fflush (stdout);
    fflush (stderr);
    _exit (1);
}

//  Starts a node in a new process or thread, with a new report pipe.
//  Returns 0 or -1 (said on stderr).
static int
s_node_start (s_run_t *run, s_node_t *node)
{
    int fds[2];
    if (pipe2 (fds, O_CLOEXEC)) {
        fprintf (stderr, S_PROGRAM ": cannot make a pipe: %s\n", strerror (errno));
        return -1;
    }
    node->report_read_fd = fds[0];
    node->report_fd = fds[1];
    node->control_fd = run->control_fds[0];
    node->config = &run->config;

    if (run->config.use_processes) {
        fflush (NULL);
        pid_t pid = fork ();
        if (pid == -1) {
            fprintf (stderr, S_PROGRAM ": cannot fork: %s\n", strerror (errno));
            close (fds[0]);
            close (fds[1]);
            return -1;
        }
        if (pid == 0) {
            //  The child keeps only its control read end and report write
            //  end: the control pipe must reach EOF when the conductor
            //  closes its end, or dies
            close (run->control_fds[1]);
            for (int index = 0; index < run->node_count; index++)
                if (run->nodes[index].report_read_fd >= 0)
                    close (run->nodes[index].report_read_fd);
            signal (SIGINT, SIG_DFL);
            signal (SIGTERM, SIG_DFL);
            sigprocmask (SIG_SETMASK, &run->wait_mask, NULL);
            _exit (s_node_main (node));
        }
        node->pid = pid;
        close (fds[1]);
        node->report_fd = -1;
    } else {
        //  The thread owns report_fd from here on, and inherits the
        //  conductor's blocked SIGINT and SIGTERM
        int rc = pthread_create (&node->thread, NULL, s_node_thread, node);
        if (rc) {
            fprintf (stderr, S_PROGRAM ": cannot start a thread: %s\n", strerror (rc));
            close (fds[0]);
            close (fds[1]);
            return -1;
        }
    }
    node->started = true;
    return 0;
}

//  Reads one report from a node. Returns 0, or -1 when the node failed.
static int
s_node_read (s_node_t *node)
{
    s_report_t report;
    size_t have = 0;
    while (have < sizeof report) {
        ssize_t rc =
            read (node->report_read_fd, (char *) &report + have, sizeof report - have);
        if (rc == -1 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        have += (size_t) rc;
    }
    if (have == 0) {
        close (node->report_read_fd);
        node->report_read_fd = -1;
        node->closed = true;
        if (!node->exited) {
            fprintf (stderr, S_PROGRAM ": %s ended without a word\n", node->name);
            return -1;
        }
        return 0;
    }
    if (have < sizeof report) {
        fprintf (stderr, S_PROGRAM ": %s sent a torn report\n", node->name);
        return -1;
    }
    switch (report.kind) {
        case S_REPORT_BOUND:
            report.text[sizeof report.text - 1] = 0;
            snprintf (node->endpoint, sizeof node->endpoint, "%s", report.text);
            break;
        case S_REPORT_PROGRESS:
            node->count = report.count;
            break;
        case S_REPORT_SENT:
        case S_REPORT_DONE:
            node->count = report.count;
            node->time_ns = report.time_ns;
            node->done = true;
            break;
        case S_REPORT_EXIT:
            node->exited = true;
            node->exit_status = report.status;
            node->count = report.count;
            if (report.status) {
                //  Empty when the node stopped because the run had ended
                report.text[sizeof report.text - 1] = 0;
                if (report.text[0])
                    fprintf (stderr, S_PROGRAM ": %s\n", report.text);
                else
                    fprintf (stderr, S_PROGRAM ": %s stopped early\n", node->name);
                return -1;
            }
            break;
        default:
            fprintf (stderr, S_PROGRAM ": %s sent an unknown report\n", node->name);
            return -1;
    }
    return 0;
}

static bool
s_reached (s_run_t *run, s_want_t want, s_node_t *subject)
{
    switch (want) {
        case S_WANT_BOUND:
            return subject->endpoint[0] != 0;
        case S_WANT_DONE:
            return run->nodes[0].done && run->nodes[1].done;
        case S_WANT_CLOSED:
            for (int index = 0; index < run->node_count; index++)
                if (run->nodes[index].started && !run->nodes[index].closed)
                    return false;
            return true;
    }
    return false;
}

//  Reads the nodes' reports until the run reaches what we want. Gives up
//  after the timeout plus grace without a report. Aborts the run on any
//  failure, timeout or interrupt.
static void
s_run_collect (s_run_t *run, s_want_t want, s_node_t *subject)
{
    int64_t idle_ns = ((int64_t) run->config.timeout_ms + S_GRACE_MS) * 1000000;
    int64_t deadline_ns = s_now_ns () + idle_ns;
    while (!s_reached (run, want, subject)) {
        int poll_count = 0;
        for (int index = 0; index < run->node_count; index++) {
            s_node_t *node = &run->nodes[index];
            if (node->started && !node->closed) {
                run->pollfds[poll_count].fd = node->report_read_fd;
                run->pollfds[poll_count].events = POLLIN;
                run->pollfds[poll_count].revents = 0;
                run->poll_nodes[poll_count] = index;
                poll_count++;
            }
        }
        int64_t remaining_ns = deadline_ns - s_now_ns ();
        if (poll_count == 0 || remaining_ns <= 0) {
            const char *what = want == S_WANT_BOUND  ? "a node to bind"
                               : want == S_WANT_DONE ? "the sink to have every message"
                                                     : "the nodes to end";
            fprintf (stderr, S_PROGRAM ": gave up waiting for %s\n", what);
            s_run_abort (run);
        }
        struct timespec timeout = {.tv_sec = remaining_ns / 1000000000,
                                   .tv_nsec = remaining_ns % 1000000000};
        int rc = ppoll (run->pollfds, (nfds_t) poll_count, &timeout, &run->wait_mask);
        if (rc == -1 && errno != EINTR) {
            fprintf (stderr, S_PROGRAM ": cannot poll: %s\n", strerror (errno));
            s_run_abort (run);
        }
        if (s_interrupted) {
            fprintf (stderr, S_PROGRAM ": interrupted\n");
            s_run_abort (run);
        }
        if (rc <= 0)
            continue;
        for (int index = 0; index < poll_count; index++)
            if (run->pollfds[index].revents &&
                s_node_read (&run->nodes[run->poll_nodes[index]]))
                s_run_abort (run);
        deadline_ns = s_now_ns () + idle_ns;
    }
}

//  Collects every node once all have closed their report pipes. Returns 0
//  or -1 (said on stderr).
static int
s_run_reap (s_run_t *run)
{
    int rc = 0;
    for (int index = 0; index < run->node_count; index++) {
        s_node_t *node = &run->nodes[index];
        if (!node->started || node->reaped)
            continue;
        if (node->pid > 0) {
            int wait_status = 0;
            while (waitpid (node->pid, &wait_status, 0) == -1 && errno == EINTR)
                ;
            if (!WIFEXITED (wait_status) || WEXITSTATUS (wait_status) != 0) {
                fprintf (stderr, S_PROGRAM ": %s ended badly (wait status %d)\n",
                         node->name, wait_status);
                rc = -1;
            }
        } else
            pthread_join (node->thread, NULL);
        node->reaped = true;
    }
    return rc;
}

//  ---------------------------------------------------------------------
//  Options

static void
s_usage (FILE *stream)
{
    fprintf (stream,
             "Usage: " S_PROGRAM " [OPTION]...\n"
             "Measure how many messages/s libzmq itself moves through a pipeline shaped\n"
             "like divvy's, doing no work: source PUSH (bind) -> W relays (PULL, PUSH)\n"
             "-> sink PULL (bind). Timed from the first send to the last receive.\n"
             "\n"
             "  --messages M        messages to send (default %d)\n"
             "  --values K          int64 values per message (default %d)\n"
             "  --task-bytes N      bytes per task message (default 32 + 8*K)\n"
             "  --result-bytes N    bytes per result message (default 33 + 8 + 24*K)\n"
             "  --workers W         relays between source and sink (default %d)\n"
             "  --transport T       tcp (127.0.0.1, ephemeral ports) or ipc (temp dir);\n"
             "                      default tcp\n"
             "  --hwm N             send and receive high-water mark on every socket\n"
             "                      (default %d; 0 means none)\n"
             "  --mode M            processes (each node forked, like divvy) or threads\n"
             "                      (one process); default processes\n"
             "  --timeout S         give up when any wait lasts S seconds (default %d)\n"
             "  --csv               print one line: transport,workers,values,messages,\n"
             "                      seconds,msgs_per_s,values_per_s\n"
             "  --verbose           also print how many tasks each relay forwarded\n"
             "  -h, --help          print this help\n"
             "\n"
             "Exit status: 0 all messages arrived, 1 runtime failure or timeout,\n"
             "2 bad usage.\n",
             S_DEFAULT_MESSAGES, S_DEFAULT_VALUES, S_DEFAULT_WORKERS, S_DEFAULT_HWM,
             S_DEFAULT_TIMEOUT_S);
}

//  Parses a whole decimal number within [min, max]. Returns 0, or -1 after
//  saying why on stderr.
static int
s_parse_number (const char *option, const char *text, uint64_t min, uint64_t max,
                uint64_t *value_p)
{
    char *end = NULL;
    errno = 0;
    unsigned long long value = 0;
    if (isdigit ((unsigned char) text[0]))
        value = strtoull (text, &end, 10);
    if (!end || *end || errno || value < min || value > max) {
        fprintf (stderr,
                 S_PROGRAM ": --%s wants a whole number from %" PRIu64 " to %" PRIu64
                           ", not '%s'\n",
                 option, min, max, text);
        return -1;
    }
    *value_p = value;
    return 0;
}

//  Fills the configuration from the command line. Returns 0, 1 when help
//  was printed, or -1 after saying what is wrong.
static int
s_config_parse (s_config_t *config, int argc, char *argv[])
{
    static const struct option options[] = {
        {"messages", required_argument, NULL, 'm'},
        {"values", required_argument, NULL, 'k'},
        {"task-bytes", required_argument, NULL, 'T'},
        {"result-bytes", required_argument, NULL, 'R'},
        {"workers", required_argument, NULL, 'w'},
        {"transport", required_argument, NULL, 't'},
        {"hwm", required_argument, NULL, 'H'},
        {"mode", required_argument, NULL, 'M'},
        {"timeout", required_argument, NULL, 'o'},
        {"csv", no_argument, NULL, 'c'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};

    memset (config, 0, sizeof *config);
    config->message_count = S_DEFAULT_MESSAGES;
    config->value_count = S_DEFAULT_VALUES;
    config->worker_count = S_DEFAULT_WORKERS;
    config->hwm = S_DEFAULT_HWM;
    config->timeout_ms = S_DEFAULT_TIMEOUT_S * 1000;
    config->use_processes = true;
    bool task_bytes_set = false;
    bool result_bytes_set = false;

    opterr = 0;
    int option_index = 0;
    int option;
    while ((option = getopt_long (argc, argv, ":h", options, &option_index)) != -1) {
        const char *name = options[option_index].name;
        uint64_t value = 0;
        switch (option) {
            case 'm':
                if (s_parse_number (name, optarg, 1, S_MAX_MESSAGES, &value))
                    return -1;
                config->message_count = value;
                break;
            case 'k':
                if (s_parse_number (name, optarg, 1, S_MAX_VALUES, &value))
                    return -1;
                config->value_count = value;
                break;
            case 'T':
                if (s_parse_number (name, optarg, 0, S_MAX_BYTES, &value))
                    return -1;
                config->task_bytes = (size_t) value;
                task_bytes_set = true;
                break;
            case 'R':
                if (s_parse_number (name, optarg, 0, S_MAX_BYTES, &value))
                    return -1;
                config->result_bytes = (size_t) value;
                result_bytes_set = true;
                break;
            case 'w':
                if (s_parse_number (name, optarg, 1, S_MAX_WORKERS, &value))
                    return -1;
                config->worker_count = (int) value;
                break;
            case 'H':
                if (s_parse_number (name, optarg, 0, INT_MAX, &value))
                    return -1;
                config->hwm = (int) value;
                break;
            case 'o':
                if (s_parse_number (name, optarg, 1, S_MAX_TIMEOUT_S, &value))
                    return -1;
                config->timeout_ms = (int) value * 1000;
                break;
            case 't':
                if (strcmp (optarg, "tcp") && strcmp (optarg, "ipc")) {
                    fprintf (stderr, S_PROGRAM ": --transport is tcp or ipc, not '%s'\n",
                             optarg);
                    return -1;
                }
                config->use_ipc = strcmp (optarg, "ipc") == 0;
                break;
            case 'M':
                if (strcmp (optarg, "processes") && strcmp (optarg, "threads")) {
                    fprintf (stderr,
                             S_PROGRAM ": --mode is processes or threads, not '%s'\n",
                             optarg);
                    return -1;
                }
                config->use_processes = strcmp (optarg, "processes") == 0;
                break;
            case 'c':
                config->csv = true;
                break;
            case 'v':
                config->verbose = true;
                break;
            case 'h':
                s_usage (stdout);
                return 1;
            case ':':
                fprintf (stderr, S_PROGRAM ": %s wants a value (try --help)\n",
                         argv[optind - 1]);
                return -1;
            default:
                fprintf (stderr, S_PROGRAM ": unknown option '%s' (try --help)\n",
                         argv[optind - 1]);
                return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, S_PROGRAM ": unexpected argument '%s' (try --help)\n",
                 argv[optind]);
        return -1;
    }
    if (!task_bytes_set)
        config->task_bytes = S_TASK_BYTES ((size_t) config->value_count);
    if (!result_bytes_set)
        config->result_bytes = S_RESULT_BYTES ((size_t) config->value_count);
    return 0;
}

//  Prints a rate with an M or k suffix.
static void
s_format_rate (char *text, size_t size, double rate)
{
    if (rate >= 1e6)
        snprintf (text, size, "%.1f M", rate / 1e6);
    else if (rate >= 1e3)
        snprintf (text, size, "%.1f k", rate / 1e3);
    else
        snprintf (text, size, "%.0f", rate);
}

int
main (int argc, char *argv[])
{
    s_run_t run;
    memset (&run, 0, sizeof run);
    run.control_fds[0] = run.control_fds[1] = -1;
    int rc = s_config_parse (&run.config, argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    s_config_t *config = &run.config;

    //  SIGINT and SIGTERM stay blocked except while the conductor waits, so
    //  its ppoll sees them and it can clean up; node threads inherit the block
    sigset_t blocked;
    sigemptyset (&blocked);
    sigaddset (&blocked, SIGINT);
    sigaddset (&blocked, SIGTERM);
    sigprocmask (SIG_BLOCK, &blocked, &run.wait_mask);
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_signal_handler;
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);

    if (config->use_ipc) {
        const char *tmpdir = getenv ("TMPDIR");
        if (!tmpdir || !tmpdir[0])
            tmpdir = "/tmp";
        //  An ipc path must fit in sockaddr_un's 108 bytes
        int length = snprintf (config->ipc_dir, sizeof config->ipc_dir,
                               "%s/divvy-ceiling-XXXXXX", tmpdir);
        if (length < 0 || length > 90) {
            fprintf (stderr, S_PROGRAM ": TMPDIR is too long for ipc paths: %s\n",
                     tmpdir);
            config->ipc_dir[0] = 0;
            return 1;
        }
        if (!mkdtemp (config->ipc_dir)) {
            fprintf (stderr, S_PROGRAM ": cannot make a temp dir in %s: %s\n", tmpdir,
                     strerror (errno));
            config->ipc_dir[0] = 0;
            return 1;
        }
        snprintf (config->tasks_bind, S_ENDPOINT_MAX, "ipc://%s/tasks", config->ipc_dir);
        snprintf (config->results_bind, S_ENDPOINT_MAX, "ipc://%s/results",
                  config->ipc_dir);
    } else {
        snprintf (config->tasks_bind, S_ENDPOINT_MAX, "tcp://127.0.0.1:*");
        snprintf (config->results_bind, S_ENDPOINT_MAX, "tcp://127.0.0.1:*");
    }

    int node_count = config->worker_count + 2;
    run.nodes = calloc ((size_t) node_count, sizeof (s_node_t));
    run.pollfds = calloc ((size_t) node_count, sizeof (struct pollfd));
    run.poll_nodes = calloc ((size_t) node_count, sizeof (int));
    if (!run.nodes || !run.pollfds || !run.poll_nodes) {
        fprintf (stderr, S_PROGRAM ": out of memory\n");
        s_run_abort (&run);
    }
    run.node_count = node_count;
    for (int index = 0; index < run.node_count; index++) {
        s_node_t *node = &run.nodes[index];
        node->report_fd = node->report_read_fd = node->control_fd = -1;
        node->role = index == 0 ? S_ROLE_SINK : index == 1 ? S_ROLE_SOURCE : S_ROLE_RELAY;
        if (node->role == S_ROLE_RELAY)
            snprintf (node->name, sizeof node->name, "relay %d", index - 2);
        else
            snprintf (node->name, sizeof node->name, "%s",
                      node->role == S_ROLE_SINK ? "sink" : "source");
    }
    if (pipe2 (run.control_fds, O_CLOEXEC)) {
        fprintf (stderr, S_PROGRAM ": cannot make a pipe: %s\n", strerror (errno));
        s_run_abort (&run);
    }

    //  The sink binds first, then the source; the relays connect to both
    s_node_t *sink = &run.nodes[0];
    s_node_t *source = &run.nodes[1];
    if (s_node_start (&run, sink))
        s_run_abort (&run);
    s_run_collect (&run, S_WANT_BOUND, sink);
    memcpy (config->results_connect, sink->endpoint, S_ENDPOINT_MAX);
    if (s_node_start (&run, source))
        s_run_abort (&run);
    s_run_collect (&run, S_WANT_BOUND, source);
    memcpy (config->tasks_connect, source->endpoint, S_ENDPOINT_MAX);
    for (int index = 2; index < run.node_count; index++)
        if (s_node_start (&run, &run.nodes[index]))
            s_run_abort (&run);

    //  Only once the sink has every message do sockets close
    s_run_collect (&run, S_WANT_DONE, NULL);
    close (run.control_fds[1]);
    run.control_fds[1] = -1;
    s_run_collect (&run, S_WANT_CLOSED, NULL);
    if (s_run_reap (&run))
        s_run_abort (&run);

    uint64_t forwarded = 0;
    for (int index = 2; index < run.node_count; index++)
        forwarded += run.nodes[index].count;
    if (sink->count != config->message_count || forwarded != config->message_count) {
        fprintf (stderr,
                 S_PROGRAM ": counts disagree: sent %" PRIu64 ", relayed %" PRIu64
                           ", received %" PRIu64 "\n",
                 config->message_count, forwarded, sink->count);
        s_run_abort (&run);
    }

    double seconds = (double) (sink->time_ns - source->time_ns) / 1e9;
    double msgs_per_s = (double) config->message_count / seconds;
    double values_per_s = msgs_per_s * (double) config->value_count;
    const char *transport = config->use_ipc ? "ipc" : "tcp";
    if (config->csv)
        printf ("%s,%d,%" PRIu64 ",%" PRIu64 ",%.6f,%.0f,%.0f\n", transport,
                config->worker_count, config->value_count, config->message_count, seconds,
                msgs_per_s, values_per_s);
    else {
        char msgs_text[32];
        char values_text[32];
        s_format_rate (msgs_text, sizeof msgs_text, msgs_per_s);
        s_format_rate (values_text, sizeof values_text, values_per_s);
        printf ("ceiling: %s W=%d K=%" PRIu64 ": %" PRIu64
                " msgs in %.*f s = %s msgs/s, %s values/s (%s)\n",
                transport, config->worker_count, config->value_count,
                config->message_count, seconds < 0.1 ? 4 : 2, seconds, msgs_text,
                values_text, config->use_processes ? "processes" : "threads");
    }
    fflush (stdout);
    if (config->verbose)
        for (int index = 2; index < run.node_count; index++)
            fprintf (stderr, S_PROGRAM ": %s forwarded %" PRIu64 " tasks\n",
                     run.nodes[index].name, run.nodes[index].count);

    close (run.control_fds[0]);
    s_ipc_cleanup (&run);
    free (run.poll_nodes);
    free (run.pollfds);
    free (run.nodes);
    return 0;
}
