/*  commands.h: every divvy command's option table, known to each program.

    One environment may serve several roles (Compose runs `divvy status` as
    the sink's healthcheck, in the sink's environment), so a program warns
    only about DIVVY_* variables that no divvy command knows. Each program
    (divvy and every divvy-ROLE) links every role's table for this and calls
    dv_commands_know first.
*/
#ifndef DV_COMMANDS_H_INCLUDED
#define DV_COMMANDS_H_INCLUDED

//  Makes every command's options known to dv_options_parse (options.h).
void dv_commands_know (void);

#endif
