/*  options.h: long options with DIVVY_<OPTION> environment variables.

    Every option of every program is read first from its environment variable
    (DIVVY_ and the option name upper-cased, '-' as '_'), then from the command
    line, so a flag wins. An empty variable counts as unset (Compose's
    ${DIVVY_BATCH:-} passes one). Values are checked while parsing: a bad one gives one
    line on stderr naming the option and where it came from, and exit code 2.
*/
#ifndef DV_OPTIONS_H_INCLUDED
#define DV_OPTIONS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    DV_OPTION_TEXT,    //  value: const char **
    DV_OPTION_INTEGER, //  value: int64_t *, within [minimum, maximum]
    DV_OPTION_FLAG,    //  value: bool *; the variable takes 1/0, true/false, yes/no
} dv_option_type_t;

//  A numeric constant as the default_text of its option, so that --help
//  shows the one definition: DV_OPTION_DEFAULT (DV_PREFETCH_DEFAULT) is "4096".
#define DV_OPTION_DEFAULT(constant)      DV_OPTION_DEFAULT_TEXT (constant)
#define DV_OPTION_DEFAULT_TEXT(expanded) #expanded

typedef struct {
    const char *name; //  long name without dashes: "min-workers"
    dv_option_type_t type;
    const char *argument;     //  placeholder in --help: "N"; NULL for flags
    const char *help;         //  what it does, one line
    const char *default_text; //  the default as --help shows it, or NULL
    int64_t minimum;          //  INTEGER only
    int64_t maximum;          //  INTEGER only
    void *value;              //  where the parsed value goes; holds the default
} dv_option_t;

typedef struct {
    const char *program; //  "sink": the subcommand, `divvy sink` or divvy-sink
    const char *summary; //  one sentence: what the program does
    const dv_option_t *options;
    size_t option_count;
    const char *epilogue;  //  --help text after the options (exit codes)
    bool takes_arguments;  //  positional arguments follow; optind is the first
    bool *given;           //  or NULL: option_count flags, set for each option that
                           //  a flag or a variable gave a value (defaults are not)
    const char *arguments; //  or NULL: the positional arguments in the usage line
                           //  of --help, as "PATH..."
} dv_command_t;

#define DV_OPTIONS_RUN  0  //  parsed: run the program
#define DV_OPTIONS_DONE 1  //  --help or --version printed: exit 0
#define DV_OPTIONS_BAD  -1 //  an error was printed: exit DV_EXIT_USAGE

//  Parses the environment, then argv. Positional arguments are errors unless
//  the command takes_arguments. -h is --help. A DIVVY_* variable that names
//  no option of any known command (dv_options_know; without it, of this
//  command) gets one warning line on stderr naming the closest option, and
//  is otherwise ignored: one environment may serve every role (Compose runs
//  divvy status in the sink's), so another role's variable is no typo. The
//  names come from the tables, nothing else.
int dv_options_parse (const dv_command_t *command, int argc, char **argv);

//  A role's command with its option table (over a default options struct),
//  handed to use: dv_ROLE_describe (use, context) returns use's result. The
//  same table the role parses with, so that the known names cannot drift.
typedef int dv_command_use_fn (const dv_command_t *command, void *context);
typedef int dv_command_describe_fn (dv_command_use_fn *use, void *context);

//  A dv_command_use_fn that parses: context is a dv_arguments_t.
typedef struct {
    int argc;
    char **argv;
} dv_arguments_t;
int dv_options_parse_use (const dv_command_t *command, void *arguments);

//  The commands whose variables count as known to dv_options_parse, besides
//  the one it parses: every divvy command, in a program that has them all
//  (divvy/commands.c). describe stays the caller's; NULL, 0 forgets them.
void dv_options_know (dv_command_describe_fn *const *describe, size_t count);

//  After dv_options_parse of a command with given: whether the option name
//  had a value from a flag or a variable, not only its default.
bool dv_options_given (const dv_command_t *command, const char *name);

//  Parses text as a whole int64 / uint64 in decimal (uint64 also 0x hex):
//  no sign for unsigned, no spaces, no trailing characters, no overflow.
//  Returns 0 and sets *value; DV_PARSE_RANGE when text is a well-formed
//  number outside the type's range; -1 when it is no such number at all.
#define DV_PARSE_RANGE -2
int dv_parse_int64 (const char *text, int64_t *value);
int dv_parse_uint64 (const char *text, uint64_t *value);

#endif
