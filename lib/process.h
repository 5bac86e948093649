/*  process.h: setting up a divvy program, and the signals that stop it.

    SIGINT and SIGTERM set a flag (and CZMQ's zsys_interrupted, so that its
    blocking calls return); every loop checks dv_interrupted and the program
    exits with 128 + the signal's number after a clean shutdown.
*/
#ifndef DV_PROCESS_H_INCLUDED
#define DV_PROCESS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

//  Sets up CZMQ (logging to stderr), signal handling and the descriptor
//  limit (dv_process_raise_fd_limit) for program. Call first in main.
void dv_process_init (const char *program);

//  Raises the soft limit on open descriptors (RLIMIT_NOFILE) to the hard
//  limit: each connection holds one, and libzmq cannot accept past the
//  limit (it retries at once, and spins). Returns 0, or -1 if the limit
//  could not be read or set (it is then unchanged).
int dv_process_raise_fd_limit (void);

//  When dv_process_init ran, on dv_now_ms's clock (0 before).
int64_t dv_process_started_ms (void);

//  True once SIGINT or SIGTERM has arrived.
bool dv_interrupted (void);

//  The exit code for the signal that interrupted us (128 + number).
int dv_interrupted_exit_code (void);

#endif
