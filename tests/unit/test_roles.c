/*  test_roles.c: keys and their roles, the allow-list reloaded as its
    directory changes, worker ids bound to keys, refusals counted and logged
    once per kind and key.

    Each test makes certificates with zcert in a fresh temporary directory
    and drives the reload clock by hand (dv_roles_refresh takes the time),
    so nothing sleeps. Log lines are counted by pointing stderr at a file.
*/
#include "roles.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    char directory[64]; //  the allow-list
    char server[40 + 1];
    char worker[40 + 1];
    char other[40 + 1];    //  in a subdirectory of the allow-list
    char stranger[40 + 1]; //  only its _secret file is there: not allowed
} s_fixture_t;

//  Saves a new certificate at directory/name (and its name_secret), or with
//  public_file false its name_secret only; copies its Z85 public key to key.
static void
s_certificate (const char *directory, const char *name, bool public_file, char *key)
{
    zcert_t *cert = zcert_new ();
    assert_non_null (cert);
    char *path = zsys_sprintf ("%s/%s%s", directory, name, public_file ? "" : "_secret");
    assert_int_equal (
        public_file ? zcert_save (cert, path) : zcert_save_secret (cert, path), 0);
    strcpy (key, zcert_public_txt (cert));
    zstr_free (&path);
    zcert_destroy (&cert);
}

static int
s_setup (void **state)
{
    s_fixture_t *fixture = calloc (1, sizeof *fixture);
    strcpy (fixture->directory, "/tmp/dv-roles-XXXXXX");
    assert_non_null (mkdtemp (fixture->directory));
    s_certificate (fixture->directory, "server", true, fixture->server);
    s_certificate (fixture->directory, "worker", true, fixture->worker);
    char *sub = zsys_sprintf ("%s/pool", fixture->directory);
    assert_int_equal (zsys_dir_create ("%s", sub), 0);
    s_certificate (sub, "other", true, fixture->other);
    zstr_free (&sub);
    s_certificate (fixture->directory, "stranger", false, fixture->stranger);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *fixture = *state;
    char *command = zsys_sprintf ("rm -rf '%s'", fixture->directory);
    assert_int_equal (system (command), 0);
    zstr_free (&command);
    free (fixture);
    return 0;
}

static void
s_remove (s_fixture_t *fixture, const char *name)
{
    char *path = zsys_sprintf ("%s/%s", fixture->directory, name);
    assert_int_equal (unlink (path), 0);
    zstr_free (&path);
}

//  Without CURVE there are no roles: a NULL dv_roles_t allows everything.
static void
test_no_roles (void **state)
{
    (void) state;
    assert_int_equal (dv_roles_check (NULL, NULL, DV_ROLE_VENTILATOR), DV_ROLES_OK);
    assert_int_equal (dv_roles_check (NULL, "x", DV_ROLE_WORKER), DV_ROLES_OK);
    assert_int_equal (dv_roles_check_id (NULL, NULL, "w1", 2), DV_ROLES_OK);
    dv_roles_bind_id (NULL, "x", "w1", 2);
    dv_roles_refuse (NULL, DV_ROLES_NOT_ALLOWED, "x", DV_ROLE_WORKER, "refused", "");
    assert_int_equal (dv_roles_refused (NULL), 0);
    assert_false (dv_roles_refresh (NULL, 5000));
}

//  zauth's files: below the directory, not *_secret.
static void
test_what_is_allowed (void **state)
{
    s_fixture_t *fixture = *state;
    dv_roles_t *roles = dv_roles_new (fixture->directory, fixture->server);
    assert_non_null (roles);
    assert_int_equal (dv_roles_allowed_count (roles), 3);
    assert_int_equal (dv_roles_check (roles, fixture->worker, DV_ROLE_WORKER),
                      DV_ROLES_OK);
    assert_int_equal (dv_roles_check (roles, fixture->other, DV_ROLE_WORKER),
                      DV_ROLES_OK);
    assert_int_equal (dv_roles_check (roles, fixture->stranger, DV_ROLE_WORKER),
                      DV_ROLES_NOT_ALLOWED);
    assert_int_equal (dv_roles_check (roles, NULL, DV_ROLE_WORKER), DV_ROLES_NO_KEY);
    assert_int_equal (dv_roles_check (roles, "", DV_ROLE_VENTILATOR), DV_ROLES_NO_KEY);
    dv_roles_destroy (&roles);
    assert_null (roles);
}

//  Only the servers' key announces; it delivers no results.
static void
test_roles_of_keys (void **state)
{
    s_fixture_t *fixture = *state;
    dv_roles_t *roles = dv_roles_new (fixture->directory, fixture->server);
    assert_int_equal (dv_roles_check (roles, fixture->server, DV_ROLE_VENTILATOR),
                      DV_ROLES_OK);
    assert_int_equal (dv_roles_check (roles, fixture->server, DV_ROLE_WORKER),
                      DV_ROLES_NOT_WORKER);
    assert_int_equal (dv_roles_check (roles, fixture->worker, DV_ROLE_VENTILATOR),
                      DV_ROLES_NOT_VENTILATOR);
    assert_int_equal (dv_roles_check (roles, fixture->stranger, DV_ROLE_VENTILATOR),
                      DV_ROLES_NOT_ALLOWED);
    dv_roles_destroy (&roles);
}

//  A removed certificate is refused from the first reload after it, and
//  reloads come at most once per DV_ROLES_RELOAD_MS.
static void
test_revocation (void **state)
{
    s_fixture_t *fixture = *state;
    dv_roles_t *roles = dv_roles_new (fixture->directory, fixture->server);
    int64_t now = 100000;
    assert_false (dv_roles_refresh (roles, now)); //  unchanged since new
    s_remove (fixture, "worker");
    assert_false (dv_roles_refresh (roles, now + DV_ROLES_RELOAD_MS - 1));
    assert_int_equal (dv_roles_check (roles, fixture->worker, DV_ROLE_WORKER),
                      DV_ROLES_OK); //  not looked yet
    now += DV_ROLES_RELOAD_MS;
    assert_true (dv_roles_refresh (roles, now));
    assert_int_equal (dv_roles_check (roles, fixture->worker, DV_ROLE_WORKER),
                      DV_ROLES_NOT_ALLOWED);
    assert_int_equal (dv_roles_check (roles, fixture->other, DV_ROLE_WORKER),
                      DV_ROLES_OK);
    assert_int_equal (dv_roles_allowed_count (roles), 2);
    //  Nothing changed: no reload.
    now += DV_ROLES_RELOAD_MS;
    assert_false (dv_roles_refresh (roles, now));
    //  Allowed again once its certificate is back.
    char key[41];
    s_certificate (fixture->directory, "worker2", true, key);
    now += DV_ROLES_RELOAD_MS;
    assert_true (dv_roles_refresh (roles, now));
    assert_int_equal (dv_roles_check (roles, key, DV_ROLE_WORKER), DV_ROLES_OK);
    dv_roles_destroy (&roles);
}

//  A directory that is gone allows nobody (as zauth).
static void
test_directory_gone (void **state)
{
    s_fixture_t *fixture = *state;
    dv_roles_t *roles = dv_roles_new (fixture->directory, fixture->server);
    char *command = zsys_sprintf ("rm -rf '%s'", fixture->directory);
    assert_int_equal (system (command), 0);
    zstr_free (&command);
    assert_true (dv_roles_refresh (roles, 5000));
    assert_int_equal (dv_roles_allowed_count (roles), 0);
    assert_int_equal (dv_roles_check (roles, fixture->server, DV_ROLE_VENTILATOR),
                      DV_ROLES_NOT_ALLOWED);
    assert_int_equal (mkdir (fixture->directory, 0700), 0); //  for the teardown
    dv_roles_destroy (&roles);
}

//  The first key whose results counted owns the id; a pool's key owns
//  several.
static void
test_ids (void **state)
{
    s_fixture_t *fixture = *state;
    dv_roles_t *roles = dv_roles_new (fixture->directory, fixture->server);
    assert_int_equal (dv_roles_check_id (roles, fixture->other, "w1", 2), DV_ROLES_OK);
    dv_roles_bind_id (roles, fixture->worker, "w1 and more", 2);
    assert_int_equal (dv_roles_check_id (roles, fixture->worker, "w1", 2), DV_ROLES_OK);
    assert_int_equal (dv_roles_check_id (roles, fixture->other, "w1", 2),
                      DV_ROLES_OTHER_OWNER);
    assert_int_equal (dv_roles_check_id (roles, NULL, "w1", 2), DV_ROLES_OTHER_OWNER);
    dv_roles_bind_id (roles, fixture->other, "w1", 2); //  taken: no change
    assert_int_equal (dv_roles_check_id (roles, fixture->other, "w1", 2),
                      DV_ROLES_OTHER_OWNER);
    dv_roles_bind_id (roles, fixture->worker, "w2", 2);
    assert_int_equal (dv_roles_check_id (roles, fixture->worker, "w2", 2), DV_ROLES_OK);
    assert_int_equal (dv_roles_check_id (roles, fixture->other, "w11", 3), DV_ROLES_OK);
    dv_roles_destroy (&roles);
}

//  Lines on stderr while run runs, counted.
static int
s_lines_logged (void (*run) (dv_roles_t *, s_fixture_t *), dv_roles_t *roles,
                s_fixture_t *fixture)
{
    fflush (stderr);
    int saved = dup (STDERR_FILENO);
    FILE *capture = tmpfile ();
    assert_non_null (capture);
    dup2 (fileno (capture), STDERR_FILENO);
    run (roles, fixture);
    fflush (stderr);
    dup2 (saved, STDERR_FILENO);
    close (saved);
    rewind (capture);
    int lines = 0;
    for (int c = fgetc (capture); c != EOF; c = fgetc (capture))
        lines += c == '\n';
    fclose (capture);
    return lines;
}

static void
s_refuse_many (dv_roles_t *roles, s_fixture_t *fixture)
{
    for (int index = 0; index < 100; index++) {
        dv_roles_refuse (roles, DV_ROLES_NOT_VENTILATOR, fixture->worker,
                         DV_ROLE_VENTILATOR, "refused a job announcement from", "");
        dv_roles_refuse (roles, DV_ROLES_NOT_ALLOWED, fixture->stranger, DV_ROLE_WORKER,
                         "refused results as 'x' from", "; more");
        dv_roles_refuse (roles, DV_ROLES_NOT_ALLOWED, fixture->stranger,
                         DV_ROLE_VENTILATOR, "refused a job announcement from", "");
        dv_roles_say (roles, DV_ROLES_NOT_ALLOWED, NULL, DV_ROLE_WORKER, "no more for",
                      "");
    }
}

//  Every refusal counts; one line per verdict, role and key.
static void
test_refusals (void **state)
{
    s_fixture_t *fixture = *state;
    dv_roles_t *roles = dv_roles_new (fixture->directory, fixture->server);
    assert_int_equal (s_lines_logged (s_refuse_many, roles, fixture), 4);
    assert_int_equal (dv_roles_refused (roles), 300);
    assert_int_equal (s_lines_logged (s_refuse_many, roles, fixture), 0);
    assert_int_equal (dv_roles_refused (roles), 600);
    dv_roles_destroy (&roles);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (stderr);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_no_roles),
        cmocka_unit_test_setup_teardown (test_what_is_allowed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_roles_of_keys, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_revocation, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_directory_gone, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ids, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refusals, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
