/*  divvy: one command for every role, in the style of git and docker.

    `divvy ROLE [OPTION]...` calls the role's entry point (dv_ROLE_main,
    ROLE/ROLE.h; the worker's is libdivvy's divvy_worker_main, api/divvy.h) in this
   process, with argv shifted so that ROLE is argv[0]: no PATH or exec lookup, and the
   role's help, version, log lines ("sink:
    ...") and exit codes are its own. `divvy help [ROLE]` is `divvy ROLE
    --help`; `divvy --version` names divvy's version and the libraries it runs
    on. Each role is also a program of its own, divvy-ROLE.
*/
#include "commands.h"
#include "keygen.h"
#include "sink.h"
#include "status.h"
#include "ventilator.h"
#include "divvy.h"

#include "exit_codes.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

//  `divvy worker` is libdivvy's built-in worker, as divvy-worker is.
static int
s_worker_main (int argc, char **argv)
{
    return divvy_worker_main (argc, argv, NULL, NULL);
}

typedef struct {
    const char *name;
    int (*main) (int argc, char **argv);
    const char *summary; //  one line for divvy --help
} s_subcommand_t;

static const s_subcommand_t s_subcommands[] = {
    {"sink", dv_sink_main, "gather, check and print a job's results; end the job"},
    {"worker", s_worker_main, "square task values and send the results to the sink"},
    {"ventilator", dv_ventilator_main, "hand out a job's tasks to the workers"},
    {"status", dv_status_main,
     "show a running sink's state (idle, running, done; progress)"},
    {"keygen", dv_keygen_main, "make CURVE certificates for the sockets"},
};

#define S_SUBCOMMAND_COUNT (sizeof s_subcommands / sizeof s_subcommands[0])

static void
s_print_help (void)
{
    printf ("Usage: divvy SUBCOMMAND [OPTION]...\n"
            "  or:  divvy help [SUBCOMMAND]\n"
            "  or:  divvy --version\n"
            "Run one part of a divvy job: a ZeroMQ task pipeline in which a ventilator\n"
            "hands out integer tasks, workers square them, and a sink checks that every\n"
            "result arrived exactly once.\n"
            "\n"
            "Subcommands:\n");
    for (size_t index = 0; index < S_SUBCOMMAND_COUNT; index++)
        printf ("  %-12s %s\n", s_subcommands[index].name, s_subcommands[index].summary);
    printf ("  %-12s %s\n", "help", "show a subcommand's help (divvy SUBCOMMAND --help)");
    printf ("\n"
            "Options:\n"
            "  -h, --help     show this help and exit\n"
            "  --version      show divvy's version, its protocol's, and the libzmq and\n"
            "                 CZMQ versions it runs on, and exit\n"
            "\n"
            "Each subcommand is also a program of its own, divvy-SUBCOMMAND, with a\n"
            "manual page divvy-SUBCOMMAND(1). Every option --some-name of a subcommand\n"
            "may also be set as the variable DIVVY_SOME_NAME (a flag wins).\n"
            "\n"
            "%s",
            DV_EXIT_CODES_HELP);
}

static const s_subcommand_t *
s_find (const char *name)
{
    for (size_t index = 0; index < S_SUBCOMMAND_COUNT; index++)
        if (!strcmp (s_subcommands[index].name, name))
            return &s_subcommands[index];
    fprintf (stderr, "divvy: unknown subcommand '%s' (try divvy --help)\n", name);
    return NULL;
}

//  Runs subcommand with argv (argv[0] its name); the exit code.
static int
s_run (const s_subcommand_t *subcommand, int argc, char **argv)
{
    return subcommand->main (argc, argv);
}

int
main (int argc, char **argv)
{
    dv_commands_know ();
    if (argc < 2) {
        fprintf (stderr, "divvy: missing subcommand: sink, worker, ventilator, status or "
                         "keygen (try divvy --help)\n");
        return DV_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (!strcmp (first, "-h") || !strcmp (first, "--help") ||
        (!strcmp (first, "help") && argc == 2)) {
        s_print_help ();
        return DV_EXIT_OK;
    }
    if (!strcmp (first, "--version")) {
        dv_version_print (NULL, stdout);
        return DV_EXIT_OK;
    }
    if (first[0] == '-') {
        fprintf (stderr, "divvy: unknown option '%s' (try divvy --help)\n", first);
        return DV_EXIT_USAGE;
    }
    if (!strcmp (first, "help")) {
        if (argc > 3) {
            fprintf (stderr,
                     "divvy: help takes one SUBCOMMAND, not '%s' (try divvy "
                     "--help)\n",
                     argv[3]);
            return DV_EXIT_USAGE;
        }
        const s_subcommand_t *subcommand = s_find (argv[2]);
        if (!subcommand)
            return DV_EXIT_USAGE;
        char help[] = "--help";
        char *help_argv[] = {argv[2], help, NULL};
        return s_run (subcommand, 2, help_argv);
    }
    const s_subcommand_t *subcommand = s_find (first);
    return subcommand ? s_run (subcommand, argc - 1, argv + 1) : DV_EXIT_USAGE;
}
