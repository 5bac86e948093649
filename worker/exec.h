/*  exec.h: one run of a user's command, driven from the worker's event loop.

    The command runs through /bin/sh -c in a process group of its own, with
    three pipes: its stdin gets the input and is then closed, its stdout is
    read to EOF (at most output_max bytes are kept; more marks the run over
    its limit), and its stderr is read for its last non-empty line, the
    reason a failure gives. Our ends are non-blocking: dv_exec_poll_items
    hands them to the caller's zmq_poll beside its sockets, and dv_exec_step
    moves whatever is ready, so heartbeats, KILL and a silent sink are seen
    while the command runs. dv_exec_kill ends the whole group (SIGKILL).

    SIGPIPE is ignored in the worker (a command that exits without reading
    its input must not kill it) and restored to the default in the child.
    A value type with one owner; dv_exec_free releases what a run holds.
*/
#ifndef DV_EXEC_H_INCLUDED
#define DV_EXEC_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

//  The longest failure reason kept (the last stderr line is cut there).
#define DV_EXEC_REASON_MAX 512

typedef struct {
    pid_t pid; //  0: not running (reaped, or never started)
    int stdin_fd;
    int stdout_fd;
    int stderr_fd; //  our ends, -1 once closed
    int pid_fd;    //  readable once the command exits (pidfd_open), or -1
    const char *input;
    size_t input_size;
    size_t input_written;
    char *output; //  what stdout gave, output_size bytes (owned)
    size_t output_size;
    size_t output_capacity;
    size_t output_max;
    bool output_over;                        //  stdout gave more than output_max
    char error_line[DV_EXEC_REASON_MAX + 1]; //  last non-empty stderr line
    char error_partial[DV_EXEC_REASON_MAX + 1];
    size_t error_partial_length;
    int status; //  the wait status, once reaped
    bool reaped;
} dv_exec_t;

//  Starts command with input (input_size bytes; the caller keeps it alive
//  until the run is done) on its stdin. Returns -1 and sets error_line when
//  the pipes or the process cannot be had.
int dv_exec_start (dv_exec_t *self, const char *command, const char *input,
                   size_t input_size, size_t output_max);

//  Fills up to 3 poll items with our open pipe ends, and once stdout and
//  stderr are closed, the command's pidfd (readable when it exits; none on
//  kernels without pidfd_open, so a caller given no item polls briefly).
//  Returns how many.
int dv_exec_poll_items (dv_exec_t *self, zmq_pollitem_t *items);

//  Writes and reads what the pipes take and give now, without blocking; once
//  stdout and stderr are closed, reaps the command if it has exited.
void dv_exec_step (dv_exec_t *self);

//  True once the command's stdout and stderr are closed and it is reaped.
bool dv_exec_done (const dv_exec_t *self);

//  Kills the command's process group and reaps it.
void dv_exec_kill (dv_exec_t *self);

//  Why a finished run failed, into reason (DV_EXEC_REASON_MAX + 1 bytes):
//  its last stderr line, else "exit status N" or "killed by signal N".
//  Returns false (reason empty) when it exited 0.
bool dv_exec_failure (const dv_exec_t *self, char *reason);

//  Closes the pipes, kills a command still running, frees the output.
void dv_exec_free (dv_exec_t *self);

#endif
