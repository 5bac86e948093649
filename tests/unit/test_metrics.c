/*  test_metrics.c: unit tests for lib/metrics.h: addresses, the text of a
    snapshot (families, labels escaped and bounded, only what was
    published), a scrape over loopback, and a busy port. */
#include "metrics.h"
#include "exit_codes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

static const dv_metric_family_t s_families[] = {
    {"divvy_test_total", DV_METRIC_COUNTER, "a counter"},
    {"divvy_test_level", DV_METRIC_GAUGE, "a gauge"},
};
static const dv_metric_family_t s_labelled = {"divvy_test_by_total", DV_METRIC_COUNTER,
                                              "per label"};
static const dv_metrics_config_t s_config = {
    .role = "test",
    .families = s_families,
    .family_count = 2,
    .labelled = &s_labelled,
    .label_name = "worker",
    .label_max = 2,
    .label_length_max = 8,
};

static void
test_addresses (void **state)
{
    (void) state;
    assert_int_equal (dv_metrics_check_address ("9100"), 0);
    assert_int_equal (dv_metrics_check_address ("0"), 0);
    assert_int_equal (dv_metrics_check_address ("127.0.0.1:9100"), 0);
    assert_int_equal (dv_metrics_check_address ("localhost:65535"), 0);
    assert_int_equal (dv_metrics_check_address ("[::1]:9100"), 0);
    assert_int_equal (dv_metrics_check_address (""), -1);
    assert_int_equal (dv_metrics_check_address ("65536"), -1);
    assert_int_equal (dv_metrics_check_address ("abc"), -1);
    assert_int_equal (dv_metrics_check_address (":9100"), -1);
    assert_int_equal (dv_metrics_check_address ("::1:9100"), -1);
    assert_int_equal (dv_metrics_check_address ("127.0.0.1:"), -1);
    assert_int_equal (dv_metrics_check_address ("-1"), -1);
    int exit_code = 0;
    assert_null (dv_metrics_new ("99999", &s_config, &exit_code));
    assert_int_equal (exit_code, DV_EXIT_USAGE);
}

static void
test_null_does_nothing (void **state)
{
    (void) state;
    dv_metrics_set (NULL, 0, 1);
    dv_metrics_set_label (NULL, "a", 1, 1);
    dv_metrics_clear_labels (NULL);
    dv_metrics_publish (NULL);
    dv_metrics_destroy (NULL);
    assert_int_equal (dv_metrics_port (NULL), 0);
}

//  GET path over loopback; returns the whole response (caller frees).
static char *
s_get (int port, const char *path)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert_true (fd >= 0);
    struct timeval timeout = {10, 0};
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons ((uint16_t) port)};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    assert_int_equal (connect (fd, (struct sockaddr *) &address, sizeof address), 0);
    char request[128];
    int length = snprintf (request, sizeof request,
                           "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
    assert_int_equal (write (fd, request, (size_t) length), length);
    size_t size = 0;
    char *text = malloc (1);
    ssize_t rc;
    char buffer[4096];
    while ((rc = read (fd, buffer, sizeof buffer)) > 0) {
        text = realloc (text, size + (size_t) rc + 1);
        memcpy (text + size, buffer, (size_t) rc);
        size += (size_t) rc;
    }
    text[size] = '\0';
    close (fd);
    return text;
}

static void
test_snapshot (void **state)
{
    (void) state;
    int exit_code = -1;
    dv_metrics_t *metrics = dv_metrics_new ("127.0.0.1:0", &s_config, &exit_code);
    assert_non_null (metrics);
    assert_true (dv_metrics_port (metrics) > 0);
    size_t length = 0;
    //  Nothing published yet: zeros, and no labels.
    dv_metrics_set (metrics, 0, 7);
    char *text = dv_metrics_format (metrics, &length);
    assert_non_null (strstr (text, "\ndivvy_test_total 0\n"));
    assert_null (strstr (text, "divvy_test_by_total{"));
    free (text);
    dv_metrics_set (metrics, 1, 3);
    dv_metrics_set_label (metrics, "w\"1\\", 4, 5);
    dv_metrics_set_label (metrics, "a-very-long-id", 14, 6);
    dv_metrics_set_label (metrics, "third", 5, 7); //  past label_max: dropped
    dv_metrics_publish (metrics);
    text = dv_metrics_format (metrics, &length);
    assert_int_equal (strlen (text), length);
    assert_non_null (
        strstr (text, "# TYPE divvy_test_total counter\ndivvy_test_total 7\n"));
    assert_non_null (
        strstr (text, "# TYPE divvy_test_level gauge\ndivvy_test_level 3\n"));
    assert_non_null (strstr (text, "divvy_test_by_total{worker=\"w\\\"1\\\\\"} 5\n"));
    assert_non_null (strstr (text, "divvy_test_by_total{worker=\"a-very-l\"} 6\n"));
    assert_null (strstr (text, "third"));
    assert_non_null (strstr (text, "divvy_build_info{version=\""));
    assert_non_null (strstr (text, "role=\"test\""));
    free (text);
    //  The same over HTTP; other paths are 404.
    char *response = s_get (dv_metrics_port (metrics), "/metrics");
    assert_non_null (
        strstr (response, "HTTP/1.0 200") ? response : strstr (response, "HTTP/1.1 200"));
    assert_non_null (strstr (response, "text/plain; version=0.0.4"));
    assert_non_null (strstr (response, "\ndivvy_test_total 7\n"));
    free (response);
    response = s_get (dv_metrics_port (metrics), "/");
    assert_non_null (strstr (response, " 404 "));
    free (response);
    //  A second server on the same port: busy, a runtime failure.
    char busy[32];
    snprintf (busy, sizeof busy, "127.0.0.1:%d", dv_metrics_port (metrics));
    assert_null (dv_metrics_new (busy, &s_config, &exit_code));
    assert_int_equal (exit_code, DV_EXIT_RUNTIME);
    dv_metrics_clear_labels (metrics);
    dv_metrics_publish (metrics);
    text = dv_metrics_format (metrics, &length);
    assert_null (strstr (text, "divvy_test_by_total{"));
    free (text);
    dv_metrics_destroy (&metrics);
    assert_null (metrics);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_addresses),
        cmocka_unit_test (test_null_does_nothing),
        cmocka_unit_test (test_snapshot),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
