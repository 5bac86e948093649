/*  exit_codes.h: the exit codes every divvy program shares, and their text
    for --help (the README's table says the same).
*/
#ifndef DV_EXIT_CODES_H_INCLUDED
#define DV_EXIT_CODES_H_INCLUDED

#define DV_EXIT_OK           0 //  the job completed (or --help, --version)
#define DV_EXIT_RUNTIME      1 //  a runtime failure: bind, lost peer, refused job, wrong sum
#define DV_EXIT_USAGE        2 //  bad option, endpoint or input; nothing was sent
#define DV_EXIT_OUTPUT       3 //  (sink) results or summary could not be written to stdout
#define DV_EXIT_DISPATCH     4 //  (worker) the ventilator runs the other --dispatch mode
#define DV_EXIT_FAILED_TASKS 5 //  (sink) a line job completed, but some tasks failed
//  Stopped by a signal: 128 + the signal number (130 SIGINT, 143 SIGTERM).

//  Exit-code text for --help, the same in every program.
#define DV_EXIT_CODES_HELP                                                               \
    "Exit status:\n"                                                                     \
    "  0    the job completed (also --help, --version)\n"                                \
    "  1    runtime failure: cannot bind, peer gone, job refused, sum wrong\n"           \
    "  2    bad option, endpoint or input; nothing was sent\n"                           \
    "  3    (sink) the job completed, but result lines or the JSON summary could\n"      \
    "       not be written to stdout (full, closed by the reader); stderr says\n"        \
    "       how many\n"                                                                  \
    "  4    (worker) the ventilator runs the other --dispatch mode (credit, push)\n"     \
    "  5    (sink) a line job completed, but some of its tasks failed (--retries\n"      \
    "       runs each); the summary names the first, with their reasons\n"               \
    "  130  stopped by SIGINT, 143 by SIGTERM (after a clean shutdown)\n"

#endif
