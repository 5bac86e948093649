/*  rot13: a divvy worker in C on libdivvy (divvy.h), for line jobs.

        divvy sink > out.tsv &
        ./divvy-rot13 --tasks tcp://vent:5557 --results tcp://sink:5558 \
                      --control tcp://sink:5559 &
        divvy ventilator --lines --input words.txt

    Each task line comes back with its ASCII letters rotated by 13; a line
    that starts with '!' fails (to show the error path).

    Build: cc rot13.c $(pkg-config --cflags --libs divvy) -o divvy-rot13
*/
#include <divvy.h>

static int
s_rot13 (const char *task, size_t length, divvy_result_t *result, void *user)
{
    (void) user;
    if (length && task[0] == '!') {
        divvy_result_fail (result, "a line starting with '!' is refused");
        return 1;
    }
    char line[DIVVY_LINE_MAX];
    for (size_t index = 0; index < length; index++) {
        char c = task[index];
        if (c >= 'a' && c <= 'z')
            c = (char) ('a' + (c - 'a' + 13) % 26);
        else if (c >= 'A' && c <= 'Z')
            c = (char) ('A' + (c - 'A' + 13) % 26);
        line[index] = c;
    }
    return divvy_result_set (result, line, length);
}

int
main (int argc, char **argv)
{
    return divvy_worker_main (argc, argv, s_rot13, NULL);
}
