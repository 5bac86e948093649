/*  options.c: getopt_long over a table, with environment variables first.

    The table drives everything: the getopt_long array, the variable names and
    the --help text, so an option cannot exist in one and be missing in another.
*/
#include "options.h"
#include "log.h"
#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

extern char **environ;

//  getopt_long returns an option's val: table entries are S_FIRST_INDEX + index,
//  clear of the characters it returns for errors (':' and '?').
#define S_FIRST_INDEX   256
#define S_HELP_INDEX    -2
#define S_VERSION_INDEX -3
#define S_NAME_MAX      64

int
dv_parse_int64 (const char *text, int64_t *value)
{
    if (!text || !*text || isspace ((unsigned char) *text))
        return -1;
    char *end;
    errno = 0;
    long long parsed = strtoll (text, &end, 10);
    if (*end || (errno && errno != ERANGE))
        return -1;
    if (errno == ERANGE)
        return DV_PARSE_RANGE;
    *value = (int64_t) parsed;
    return 0;
}

int
dv_parse_uint64 (const char *text, uint64_t *value)
{
    if (!text || !isdigit ((unsigned char) *text))
        return -1;
    bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    if (hex && !isxdigit ((unsigned char) text[2]))
        return -1;
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull (text, &end, hex ? 16 : 10);
    if (*end || (errno && errno != ERANGE))
        return -1;
    if (errno == ERANGE)
        return DV_PARSE_RANGE;
    *value = (uint64_t) parsed;
    return 0;
}

//  DIVVY_MIN_WORKERS for "min-workers".
static void
s_variable_name (const char *option_name, char *variable)
{
    size_t length = strlen ("DIVVY_");
    memcpy (variable, "DIVVY_", length);
    for (const char *c = option_name; *c && length < S_NAME_MAX - 1; c++)
        variable[length++] = *c == '-' ? '_' : (char) toupper ((unsigned char) *c);
    variable[length] = '\0';
}

//  Sets one option from text; source names where the text came from.
static int
s_set (const dv_command_t *command, const dv_option_t *option, const char *text,
       const char *source)
{
    if (command->given)
        command->given[option - command->options] = true;
    switch (option->type) {
        case DV_OPTION_TEXT:
            if (!*text) {
                dv_log ("--%s (%s) must not be empty", option->name, source);
                return -1;
            }
            *(const char **) option->value = text;
            return 0;
        case DV_OPTION_INTEGER: {
            int64_t parsed = 0;
            int rc = dv_parse_int64 (text, &parsed);
            if (rc && rc != DV_PARSE_RANGE) {
                dv_log ("--%s (%s): '%s' is not an integer", option->name, source, text);
                return -1;
            }
            if (rc == DV_PARSE_RANGE || parsed < option->minimum ||
                parsed > option->maximum) {
                dv_log ("--%s (%s): %s is out of range %" PRId64 "..%" PRId64,
                        option->name, source, text, option->minimum, option->maximum);
                return -1;
            }
            *(int64_t *) option->value = parsed;
            return 0;
        }
        case DV_OPTION_FLAG:
            if (!strcmp (text, "1") || !strcasecmp (text, "true") ||
                !strcasecmp (text, "yes"))
                *(bool *) option->value = true;
            else if (!strcmp (text, "0") || !strcasecmp (text, "false") ||
                     !strcasecmp (text, "no") || !*text)
                *(bool *) option->value = false;
            else {
                dv_log ("%s: '%s' is not one of 1, 0, true, false, yes, no", source,
                        text);
                return -1;
            }
            return 0;
    }
    return -1;
}

static void
s_print_help (const dv_command_t *command)
{
    const char *arguments = command->arguments ? command->arguments : "";
    const char *space = command->arguments ? " " : "";
    //  help2man reads this: "Usage:" and "or:" lines make the SYNOPSIS,
    //  "Options:" and "Exit status:" their sections.
    printf ("Usage: divvy %s [OPTION]...%s%s\n  or:  divvy-%s [OPTION]...%s%s\n%s\n\n"
            "Every option is also read from the variable in brackets after it (DIVVY_\n"
            "and its name); a flag wins, an empty variable counts as unset.\n\n"
            "Options:\n",
            command->program, space, arguments, command->program, space, arguments,
            command->summary);
    for (size_t index = 0; index < command->option_count; index++) {
        const dv_option_t *option = &command->options[index];
        char variable[S_NAME_MAX];
        char left[96];
        s_variable_name (option->name, variable);
        snprintf (left, sizeof left, "--%s%s%s", option->name,
                  option->argument ? " " : "", option->argument ? option->argument : "");
        printf ("  %-24s %s\n  %-24s [%s", left, option->help, "", variable);
        if (option->default_text)
            printf ("; default: %s", option->default_text);
        printf ("]\n");
    }
    printf ("  %-24s %s\n  %-24s %s\n\n%s", "-h, --help", "show this help and exit",
            "--version",
            "show the versions of divvy, its protocol and libraries, and exit",
            command->epilogue ? command->epilogue : "");
}

bool
dv_options_given (const dv_command_t *command, const char *name)
{
    for (size_t index = 0; command->given && index < command->option_count; index++)
        if (!strcmp (command->options[index].name, name))
            return command->given[index];
    return false;
}

//  Edit distance (Levenshtein) between a and b, each cut at S_NAME_MAX.
static size_t
s_distance (const char *a, size_t a_length, const char *b)
{
    size_t b_length = strlen (b);
    a_length = a_length < S_NAME_MAX ? a_length : S_NAME_MAX;
    b_length = b_length < S_NAME_MAX ? b_length : S_NAME_MAX;
    size_t row[S_NAME_MAX + 1];
    for (size_t column = 0; column <= b_length; column++)
        row[column] = column;
    for (size_t line = 1; line <= a_length; line++) {
        size_t diagonal = row[0];
        row[0] = line;
        for (size_t column = 1; column <= b_length; column++) {
            size_t above = row[column];
            size_t cost = a[line - 1] == b[column - 1] ? 0 : 1;
            size_t best = diagonal + cost;
            if (above + 1 < best)
                best = above + 1;
            if (row[column - 1] + 1 < best)
                best = row[column - 1] + 1;
            row[column] = best;
            diagonal = above;
        }
    }
    return row[b_length];
}

int
dv_options_parse_use (const dv_command_t *command, void *arguments)
{
    dv_arguments_t *parsed = arguments;
    return dv_options_parse (command, parsed->argc, parsed->argv);
}

static dv_command_describe_fn *const *s_known;
static size_t s_known_count;

void
dv_options_know (dv_command_describe_fn *const *describe, size_t count)
{
    s_known = describe;
    s_known_count = count;
}

//  What the search for one variable found so far in the tables it saw.
typedef struct {
    const char *name;            //  the variable, "DIVVY_..."
    size_t length;               //  of name, up to '='
    const dv_command_t *running; //  the command being parsed
    bool known;
    //  The closest option so far, and whether it is the running command's.
    //  Names and program are string constants: they outlive the tables.
    const char *closest;
    const char *closest_program;
    bool closest_own;
    size_t closest_distance;
} s_lookup_t;

//  Looks the variable up in one command's table (a dv_command_use_fn). A
//  later table's option is closer only when strictly so: the running
//  command, looked at first, wins a tie.
static int
s_look_up (const dv_command_t *command, void *context)
{
    s_lookup_t *lookup = context;
    size_t prefix = strlen ("DIVVY_");
    for (size_t index = 0; index < command->option_count && !lookup->known; index++) {
        char variable[S_NAME_MAX];
        s_variable_name (command->options[index].name, variable);
        if (strlen (variable) == lookup->length &&
            !strncmp (variable, lookup->name, lookup->length))
            lookup->known = true;
        size_t distance = s_distance (lookup->name + prefix, lookup->length - prefix,
                                      variable + prefix);
        if (distance < lookup->closest_distance) {
            lookup->closest = command->options[index].name;
            lookup->closest_program = command->program;
            lookup->closest_own = command == lookup->running;
            lookup->closest_distance = distance;
        }
    }
    return 0;
}

//  One warning line for each DIVVY_* variable that is no option of the
//  command nor of any known command (a typo in a Compose file must not pass
//  silently), naming the closest option of them all.
static void
s_warn_unknown_variables (const dv_command_t *command)
{
    size_t prefix = strlen ("DIVVY_");
    for (char **entry = environ; entry && *entry; entry++) {
        if (strncmp (*entry, "DIVVY_", prefix))
            continue;
        const char *equals = strchr (*entry, '=');
        s_lookup_t lookup = {
            .name = *entry,
            .length = equals ? (size_t) (equals - *entry) : strlen (*entry),
            .running = command,
            .closest_distance = SIZE_MAX,
        };
        s_look_up (command, &lookup);
        for (size_t index = 0; index < s_known_count && !lookup.known; index++)
            s_known[index](s_look_up, &lookup);
        if (lookup.known)
            continue;
        const char *scope = s_known_count ? "any divvy command" : "divvy ";
        const char *program = s_known_count ? "" : command->program;
        if (lookup.closest) {
            char variable[S_NAME_MAX];
            s_variable_name (lookup.closest, variable);
            dv_log ("warning: %.*s is not a variable of %s%s, ignored; "
                    "the closest is %s (--%s%s%s)",
                    (int) lookup.length, *entry, scope, program, variable, lookup.closest,
                    lookup.closest_own ? "" : " of divvy ",
                    lookup.closest_own ? "" : lookup.closest_program);
        } else
            dv_log ("warning: %.*s is not a variable of %s%s (it has none), ignored",
                    (int) lookup.length, *entry, scope, program);
    }
}

int
dv_options_parse (const dv_command_t *command, int argc, char **argv)
{
    s_warn_unknown_variables (command);
    for (size_t index = 0; index < command->option_count; index++) {
        const dv_option_t *option = &command->options[index];
        char variable[S_NAME_MAX];
        s_variable_name (option->name, variable);
        const char *text = getenv (variable);
        if (text && *text && s_set (command, option, text, variable))
            return DV_OPTIONS_BAD;
    }
    struct option *long_options =
        calloc (command->option_count + 3, sizeof *long_options);
    if (!long_options) {
        dv_log ("out of memory");
        return DV_OPTIONS_BAD;
    }
    for (size_t index = 0; index < command->option_count; index++) {
        const dv_option_t *option = &command->options[index];
        long_options[index].name = option->name;
        long_options[index].has_arg =
            option->type == DV_OPTION_FLAG ? no_argument : required_argument;
        long_options[index].val = S_FIRST_INDEX + (int) index;
    }
    long_options[command->option_count] =
        (struct option){"help", no_argument, NULL, S_HELP_INDEX};
    long_options[command->option_count + 1] =
        (struct option){"version", no_argument, NULL, S_VERSION_INDEX};

    int outcome = DV_OPTIONS_RUN;
    opterr = 0;
    //  0, not 1: glibc resets its internal state only then. '+': stop at the
    //  first positional argument, so that errors name the argument at fault.
    optind = 0;
    while (outcome == DV_OPTIONS_RUN) {
        int previous = optind ? optind : 1;
        int found = getopt_long (argc, argv, "+:h", long_options, NULL);
        if (found == -1)
            break;
        if (found == S_HELP_INDEX || found == 'h') {
            s_print_help (command);
            outcome = DV_OPTIONS_DONE;
        } else if (found == S_VERSION_INDEX) {
            dv_version_print (command->program, stdout);
            outcome = DV_OPTIONS_DONE;
        } else if (found == ':') {
            dv_log ("option %s needs a value (try --help)", argv[previous]);
            outcome = DV_OPTIONS_BAD;
        } else if (found < S_FIRST_INDEX ||
                   (size_t) (found - S_FIRST_INDEX) >= command->option_count) {
            dv_log ("unknown option '%s' (try --help)", argv[previous]);
            outcome = DV_OPTIONS_BAD;
        } else {
            const dv_option_t *option = &command->options[found - S_FIRST_INDEX];
            if (s_set (command, option, option->type == DV_OPTION_FLAG ? "1" : optarg,
                       "command line"))
                outcome = DV_OPTIONS_BAD;
        }
    }
    if (outcome == DV_OPTIONS_RUN && optind < argc && !command->takes_arguments) {
        dv_log ("unexpected argument '%s' (try --help)", argv[optind]);
        outcome = DV_OPTIONS_BAD;
    }
    free (long_options);
    return outcome;
}
