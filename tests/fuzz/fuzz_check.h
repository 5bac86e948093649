/*  fuzz_check.h: the fuzzers' invariant check: a breach prints the rule
    broken and aborts, which libFuzzer reports with the input.
*/
#ifndef DV_FUZZ_CHECK_H_INCLUDED
#define DV_FUZZ_CHECK_H_INCLUDED

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(condition)                                                            \
    do {                                                                                 \
        if (!(condition)) {                                                              \
            fprintf (stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,        \
                     #condition);                                                        \
            abort ();                                                                    \
        }                                                                                \
    } while (0)

#endif
