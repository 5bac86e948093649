/*  standalone_main.c: replays a fixed corpus through a fuzz target, no engine.

    libFuzzer brings its own main(); without it (gcc, or clang without
    -fsanitize=fuzzer) this one stands in, as libzmq's fuzzers do: every file
    named on the command line, and every file under every directory named
    there (in name order, recursively, skipping names that start with a dot),
    goes once through LLVMFuzzerTestOneInput. The target aborts on a finding,
    so the replay is a regression test over the seeds and every saved crash.

    Exit codes: 0 when every input ran, 1 when a path cannot be read or no
    input was found (an empty corpus proves nothing), 2 on usage.
*/
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int s_replay_path (const char *path, size_t *input_count);

//  Reads the file at path into an exactly-sized heap buffer and runs the
//  target on it. Returns 0, or -1 (with a message) when it cannot be read.
static int
s_replay_file (const char *path, size_t *input_count)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        fprintf (stderr, "replay: %s: %s\n", path, strerror (errno));
        return -1;
    }
    struct stat status;
    if (fstat (fileno (file), &status) || status.st_size < 0) {
        fprintf (stderr, "replay: %s: %s\n", path, strerror (errno));
        fclose (file);
        return -1;
    }
    size_t size = (size_t) status.st_size;
    uint8_t *data = malloc (size ? size : 1);
    if (!data || (size && fread (data, 1, size, file) != size)) {
        fprintf (stderr, "replay: %s: cannot read %zu bytes\n", path, size);
        free (data);
        fclose (file);
        return -1;
    }
    fclose (file);
    LLVMFuzzerTestOneInput (data, size);
    free (data);
    (*input_count)++;
    return 0;
}

static int
s_replay_directory (const char *path, size_t *input_count)
{
    struct dirent **entries;
    int entry_count = scandir (path, &entries, NULL, alphasort);
    if (entry_count < 0) {
        fprintf (stderr, "replay: %s: %s\n", path, strerror (errno));
        return -1;
    }
    int rc = 0;
    for (int index = 0; index < entry_count; index++) {
        const char *name = entries[index]->d_name;
        if (rc == 0 && name[0] != '.') {
            size_t length = strlen (path) + 1 + strlen (name) + 1;
            char *child = malloc (length);
            if (!child) {
                fprintf (stderr, "replay: out of memory\n");
                rc = -1;
            } else {
                snprintf (child, length, "%s/%s", path, name);
                rc = s_replay_path (child, input_count);
                free (child);
            }
        }
        free (entries[index]);
    }
    free (entries);
    return rc;
}

static int
s_replay_path (const char *path, size_t *input_count)
{
    struct stat status;
    if (stat (path, &status)) {
        fprintf (stderr, "replay: %s: %s\n", path, strerror (errno));
        return -1;
    }
    if (S_ISDIR (status.st_mode))
        return s_replay_directory (path, input_count);
    return s_replay_file (path, input_count);
}

int
main (int argc, char *argv[])
{
    if (argc < 2) {
        fprintf (stderr, "usage: %s FILE|DIRECTORY...\n", argv[0]);
        return 2;
    }
    size_t input_count = 0;
    for (int index = 1; index < argc; index++)
        if (s_replay_path (argv[index], &input_count))
            return 1;
    if (input_count == 0) {
        fprintf (stderr, "replay: no inputs found\n");
        return 1;
    }
    printf ("%zu inputs replayed, no finding\n", input_count);
    return 0;
}
