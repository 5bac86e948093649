/*  exec.c: one run of a user's command through /bin/sh -c (see exec.h). */
#define _GNU_SOURCE //  pipe2
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void
s_close (int *fd)
{
    if (*fd >= 0)
        close (*fd);
    *fd = -1;
}

static void
s_set_nonblocking (int fd)
{
    fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
}

int
dv_exec_start (dv_exec_t *self, const char *command, const char *input, size_t input_size,
               size_t output_max)
{
    *self = (dv_exec_t){.stdin_fd = -1,
                        .stdout_fd = -1,
                        .stderr_fd = -1,
                        .pid_fd = -1,
                        .input = input,
                        .input_size = input_size,
                        .output_max = output_max};
    //  A command that exits without reading its input: EPIPE, not a signal.
    signal (SIGPIPE, SIG_IGN);
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2 (in, O_CLOEXEC) || pipe2 (out, O_CLOEXEC) || pipe2 (err, O_CLOEXEC)) {
        snprintf (self->error_line, sizeof self->error_line, "cannot make pipes: %s",
                  strerror (errno));
        for (int index = 0; index < 2; index++) {
            s_close (&in[index]);
            s_close (&out[index]);
            s_close (&err[index]);
        }
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_adddup2 (&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2 (&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2 (&actions, err[1], STDERR_FILENO);
    posix_spawnattr_t attributes;
    posix_spawnattr_init (&attributes);
    sigset_t defaults, none;
    sigemptyset (&defaults);
    sigaddset (&defaults, SIGPIPE);
    sigaddset (&defaults, SIGINT);
    sigaddset (&defaults, SIGTERM);
    sigemptyset (&none);
    posix_spawnattr_setsigdefault (&attributes, &defaults);
    posix_spawnattr_setsigmask (&attributes, &none);
    //  A group of its own: a kill reaches a pipeline's every process.
    posix_spawnattr_setpgroup (&attributes, 0);
    posix_spawnattr_setflags (&attributes, POSIX_SPAWN_SETSIGDEF |
                                               POSIX_SPAWN_SETSIGMASK |
                                               POSIX_SPAWN_SETPGROUP);
    char *argv[] = {"sh", "-c", (char *) command, NULL};
    int rc = posix_spawn (&self->pid, "/bin/sh", &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy (&actions);
    posix_spawnattr_destroy (&attributes);
    s_close (&in[0]);
    s_close (&out[1]);
    s_close (&err[1]);
    self->stdin_fd = in[1];
    self->stdout_fd = out[0];
    self->stderr_fd = err[0];
    if (rc) {
        self->pid = 0;
        snprintf (self->error_line, sizeof self->error_line, "cannot run /bin/sh: %s",
                  strerror (rc));
        dv_exec_free (self);
        return -1;
    }
    //  Its exit is an event to poll, not a state to look at every few ms.
    self->pid_fd = (int) syscall (SYS_pidfd_open, self->pid, 0);
    s_set_nonblocking (self->stdin_fd);
    s_set_nonblocking (self->stdout_fd);
    s_set_nonblocking (self->stderr_fd);
    if (!input_size)
        s_close (&self->stdin_fd);
    return 0;
}

int
dv_exec_poll_items (dv_exec_t *self, zmq_pollitem_t *items)
{
    int count = 0;
    if (self->stdin_fd >= 0)
        items[count++] = (zmq_pollitem_t){NULL, self->stdin_fd, ZMQ_POLLOUT, 0};
    if (self->stdout_fd >= 0)
        items[count++] = (zmq_pollitem_t){NULL, self->stdout_fd, ZMQ_POLLIN, 0};
    if (self->stderr_fd >= 0)
        items[count++] = (zmq_pollitem_t){NULL, self->stderr_fd, ZMQ_POLLIN, 0};
    if (self->stdout_fd < 0 && self->stderr_fd < 0 && self->pid_fd >= 0 && !self->reaped)
        items[count++] = (zmq_pollitem_t){NULL, self->pid_fd, ZMQ_POLLIN, 0};
    return count;
}

static void
s_write_input (dv_exec_t *self)
{
    while (self->stdin_fd >= 0 && self->input_written < self->input_size) {
        ssize_t wrote = write (self->stdin_fd, self->input + self->input_written,
                               self->input_size - self->input_written);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote < 0 && errno == EAGAIN)
            return;
        if (wrote <= 0) {
            s_close (&self->stdin_fd); //  EPIPE: it reads no more
            return;
        }
        self->input_written += (size_t) wrote;
    }
    s_close (&self->stdin_fd); //  all written: EOF for the command
}

static void
s_read_output (dv_exec_t *self)
{
    char buffer[65536];
    while (self->stdout_fd >= 0) {
        ssize_t got = read (self->stdout_fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && errno == EAGAIN)
            return;
        if (got <= 0) {
            s_close (&self->stdout_fd);
            return;
        }
        size_t keep = (size_t) got;
        if (self->output_size + keep > self->output_max) {
            self->output_over = true;
            keep = self->output_max - self->output_size;
        }
        if (self->output_size + keep > self->output_capacity) {
            size_t capacity = self->output_capacity ? self->output_capacity : 65536;
            while (capacity < self->output_size + keep)
                capacity *= 2;
            char *grown = realloc (self->output, capacity);
            if (!grown) {
                self->output_over = true;
                continue;
            }
            self->output = grown;
            self->output_capacity = capacity;
        }
        memcpy (self->output + self->output_size, buffer, keep);
        self->output_size += keep;
    }
}

//  Keeps the last non-empty line of stderr (cut at DV_EXEC_REASON_MAX).
static void
s_end_error_line (dv_exec_t *self)
{
    if (self->error_partial_length) {
        memcpy (self->error_line, self->error_partial, self->error_partial_length);
        self->error_line[self->error_partial_length] = '\0';
    }
    self->error_partial_length = 0;
}

static void
s_read_error (dv_exec_t *self)
{
    char buffer[4096];
    while (self->stderr_fd >= 0) {
        ssize_t got = read (self->stderr_fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && errno == EAGAIN)
            return;
        if (got <= 0) {
            s_end_error_line (self);
            s_close (&self->stderr_fd);
            return;
        }
        for (ssize_t index = 0; index < got; index++) {
            char c = buffer[index];
            if (c == '\n')
                s_end_error_line (self);
            else if (self->error_partial_length < DV_EXEC_REASON_MAX)
                //  No NUL in a reason: it travels as a line.
                self->error_partial[self->error_partial_length++] = c ? c : '?';
        }
    }
}

void
dv_exec_step (dv_exec_t *self)
{
    s_write_input (self);
    s_read_output (self);
    s_read_error (self);
    if (self->pid && !self->reaped && self->stdout_fd < 0 && self->stderr_fd < 0) {
        pid_t done = waitpid (self->pid, &self->status, WNOHANG);
        if (done == self->pid || (done < 0 && errno == ECHILD)) {
            self->reaped = true;
            s_close (&self->pid_fd);
        }
    }
}

bool
dv_exec_done (const dv_exec_t *self)
{
    return self->reaped;
}

void
dv_exec_kill (dv_exec_t *self)
{
    if (self->pid && !self->reaped) {
        kill (-self->pid, SIGKILL);
        while (waitpid (self->pid, &self->status, 0) < 0 && errno == EINTR)
            ;
        self->reaped = true;
    }
}

bool
dv_exec_failure (const dv_exec_t *self, char *reason)
{
    reason[0] = '\0';
    if (WIFEXITED (self->status) && WEXITSTATUS (self->status) == 0)
        return false;
    if (self->error_line[0])
        snprintf (reason, DV_EXEC_REASON_MAX + 1, "%s", self->error_line);
    else if (WIFSIGNALED (self->status))
        snprintf (reason, DV_EXEC_REASON_MAX + 1, "killed by signal %d",
                  WTERMSIG (self->status));
    else
        snprintf (reason, DV_EXEC_REASON_MAX + 1, "exit status %d",
                  WEXITSTATUS (self->status));
    return true;
}

void
dv_exec_free (dv_exec_t *self)
{
    s_close (&self->stdin_fd);
    s_close (&self->stdout_fd);
    s_close (&self->stderr_fd);
    dv_exec_kill (self);
    s_close (&self->pid_fd);
    free (self->output);
    self->output = NULL;
    self->output_size = self->output_capacity = 0;
}
