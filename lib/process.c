/*  process.c: process set-up and signals.

    CZMQ would log to stdout and hide which signal stopped us; we point its log
    at stderr and install our own handler, which still sets zsys_interrupted so
    that CZMQ's calls return as they would. Every connection costs a
    descriptor: the soft limit is raised to the hard one at start.
*/
#include "process.h"
#include "clock.h"
#include "log.h"

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>

static volatile sig_atomic_t s_signal_number;
static int64_t s_started_ms;

static void
s_on_signal (int signal_number)
{
    s_signal_number = signal_number;
    zsys_interrupted = 1;
    zctx_interrupted = 1;
}

int
dv_process_raise_fd_limit (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit))
        return -1;
    if (limit.rlim_cur == limit.rlim_max)
        return 0;
    limit.rlim_cur = limit.rlim_max;
    return setrlimit (RLIMIT_NOFILE, &limit);
}

void
dv_process_init (const char *program)
{
    s_started_ms = dv_now_ms ();
    dv_log_set_program (program);
    //  Before libzmq starts its threads. Raising a soft limit up to the hard
    //  one is always allowed; should it fail, the old limit stays.
    dv_process_raise_fd_limit ();
    zsys_init ();
    zsys_set_logstream (stderr);
    zsys_set_logident (program);
    zsys_handler_set (s_on_signal);
    //  A closed peer must be an error return, never a process-killing signal.
    signal (SIGPIPE, SIG_IGN);
}

int64_t
dv_process_started_ms (void)
{
    return s_started_ms;
}

bool
dv_interrupted (void)
{
    return zsys_interrupted != 0;
}

int
dv_interrupted_exit_code (void)
{
    return 128 + (s_signal_number ? (int) s_signal_number : SIGINT);
}
