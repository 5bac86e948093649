/*  commands.c: the list of divvy's commands, for dv_options_know. */
#include "commands.h"
#include "keygen.h"
#include "sink.h"
#include "status.h"
#include "ventilator.h"
#include "worker.h"

#include "options.h"

static dv_command_describe_fn *const s_commands[] = {
    dv_sink_describe,   dv_worker_describe, dv_ventilator_describe,
    dv_status_describe, dv_keygen_describe,
};

void
dv_commands_know (void)
{
    dv_options_know (s_commands, sizeof s_commands / sizeof s_commands[0]);
}
