/*  divvy-keygen: makes CURVE certificates for divvy, since Debian ships no
    zmakecert. Each PATH gets a public certificate PATH and its secret
    PATH_secret (mode 0600), in CZMQ's zcert format: what --curve-cert,
    --curve-server and the --curve-allow directory take.
*/
#include "keygen.h"
#include "log.h"
#include "process.h"
#include "exit_codes.h"
#include "options.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

static int
s_make (const char *path, bool force)
{
    char secret_path[4096];
    snprintf (secret_path, sizeof secret_path, "%s_secret", path);
    if (!force && (access (path, F_OK) == 0 || access (secret_path, F_OK) == 0)) {
        dv_log ("'%s' exists: not overwriting it (use --force)", path);
        return -1;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        dv_log ("cannot make a key pair");
        return -1;
    }
    zcert_set_meta (cert, "name", "%s", path);
    //  Nobody else may read the secret, even for a moment.
    mode_t mask = umask (077);
    int rc = zcert_save (cert, path);
    umask (mask);
    if (rc == 0)
        rc = chmod (path, 0644);
    if (rc)
        dv_log ("cannot write '%s' or '%s': %s", path, secret_path, strerror (errno));
    else
        printf ("%s %s\n", path, zcert_public_txt (cert));
    zcert_destroy (&cert);
    return rc ? -1 : 0;
}

//  keygen's command over force (default false), handed to use: the one
//  definition of its options, for parsing and for dv_keygen_describe.
static int
s_command (bool *force, dv_command_use_fn *use, void *context)
{
    *force = false;
    const dv_option_t table[] = {
        {"force", DV_OPTION_FLAG, NULL, "overwrite existing certificates", "off", 0, 0,
         force},
    };
    const dv_command_t command = {
        "keygen",
        "Make CURVE certificates: for each PATH, PATH (public) and PATH_secret\n"
        "(mode 0600), in CZMQ's zcert format. Prints each PATH with its public key.\n"
        "Existing certificates are kept unless --force.",
        table,
        sizeof table / sizeof table[0],
        "Exit status:\n"
        "  0    written\n"
        "  1    a certificate exists (without --force) or cannot be written\n"
        "  2    bad usage: no PATH, or an unknown option\n",
        true,
        NULL,
        "PATH...",
    };
    return use (&command, context);
}

int
dv_keygen_describe (dv_command_use_fn *use, void *context)
{
    bool force;
    return s_command (&force, use, context);
}

int
dv_keygen_main (int argc, char **argv)
{
    dv_process_init ("keygen");
    bool force;
    dv_arguments_t arguments = {argc, argv};
    int parsed = s_command (&force, dv_options_parse_use, &arguments);
    if (parsed != DV_OPTIONS_RUN)
        return parsed == DV_OPTIONS_DONE ? DV_EXIT_OK : DV_EXIT_USAGE;
    if (optind >= argc) {
        dv_log ("name at least one PATH to write (try --help)");
        return DV_EXIT_USAGE;
    }
    for (int index = optind; index < argc; index++)
        if (s_make (argv[index], force))
            return DV_EXIT_RUNTIME;
    return DV_EXIT_OK;
}
