/* test_metrics.c - the process-wide counters: request series, the overflow bound, job outcomes,
 * the latency histogram and label escaping in the Prometheus text output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static char *render(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    metrics_write_counters(out);
    assert_int_equal(fclose(out), 0);
    return text;
}

static size_t count_lines_starting(const char *text, const char *prefix)
{
    size_t n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    return n;
}

static void test_requests_by_route_and_status(void **state)
{
    (void)state;
    metrics_reset();
    metrics_count_request("/job/add", 200);
    metrics_count_request("/job/add", 200);
    metrics_count_request("/job/add", 503);
    metrics_count_request(NULL, 404);
    metrics_count_request("/x", 42);          /* not an HTTP status: folded to "other" */
    char *text = render();
    assert_non_null(strstr(text, "# TYPE tee_worker_http_requests_total counter\n"));
    assert_non_null(strstr(text, "tee_worker_http_requests_total{route=\"/job/add\",status=\"200\"} 2\n"));
    assert_non_null(strstr(text, "tee_worker_http_requests_total{route=\"/job/add\",status=\"503\"} 1\n"));
    assert_non_null(strstr(text, "tee_worker_http_requests_total{route=\"other\",status=\"404\"} 1\n"));
    assert_non_null(strstr(text, "tee_worker_http_requests_total{route=\"/x\",status=\"other\"} 1\n"));
    free(text);
}

static void test_series_are_bounded(void **state)
{
    (void)state;
    metrics_reset();
    for (unsigned s = 100; s < 600; s++)
        metrics_count_request("/r", s);
    char *text = render();
    assert_int_equal(count_lines_starting(text, "tee_worker_http_requests_total{"),
                     METRICS_MAX_REQUEST_SERIES);
    /* 500 statuses, 255 own series, the rest in one overflow series */
    assert_non_null(strstr(text, "{route=\"other\",status=\"other\"} 245\n"));
    free(text);

    metrics_reset();
    char kind[32];
    for (int i = 0; i < 2 * METRICS_MAX_KINDS; i++) {
        snprintf(kind, sizeof kind, "kind%d", i);
        metrics_job_finished(kind, 0, 0);
    }
    text = render();
    assert_int_equal(count_lines_starting(text, "tee_worker_jobs_total{"), 3 * METRICS_MAX_KINDS);
    assert_non_null(strstr(text, "tee_worker_jobs_total{kind=\"other\",outcome=\"success\"} 33\n"));
    free(text);
}

static void test_jobs_outcomes_and_histogram(void **state)
{
    (void)state;
    metrics_reset();
    metrics_job_finished("web", 0, 0.001);
    metrics_job_finished("web", 500, -1);        /* a clock read backwards counts as 0 */
    metrics_job_finished("web", 504, 3);
    char *text = render();
    assert_non_null(strstr(text, "tee_worker_jobs_total{kind=\"web\",outcome=\"success\"} 1\n"));
    assert_non_null(strstr(text, "tee_worker_jobs_total{kind=\"web\",outcome=\"error\"} 1\n"));
    assert_non_null(strstr(text, "tee_worker_jobs_total{kind=\"web\",outcome=\"timeout\"} 1\n"));
    assert_non_null(strstr(text, "tee_worker_job_duration_seconds_bucket{kind=\"web\",le=\"0.005\"} 2\n"));
    assert_non_null(strstr(text, "tee_worker_job_duration_seconds_bucket{kind=\"web\",le=\"2.5\"} 2\n"));
    assert_non_null(strstr(text, "tee_worker_job_duration_seconds_bucket{kind=\"web\",le=\"5\"} 3\n"));
    assert_non_null(strstr(text, "tee_worker_job_duration_seconds_bucket{kind=\"web\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(text, "tee_worker_job_duration_seconds_count{kind=\"web\"} 3\n"));
    const char *sum = strstr(text, "tee_worker_job_duration_seconds_sum{kind=\"web\"} ");
    assert_non_null(sum);
    double seconds = strtod(strchr(sum, '}') + 2, NULL);
    assert_true(seconds >= 2.9 && seconds < 4);
    free(text);
}

static void test_label_values_are_escaped(void **state)
{
    (void)state;
    metrics_reset();
    metrics_job_finished("a\"b\\c\nd", 0, 0);
    metrics_job_finished("", 0, 0);
    char *text = render();
    assert_non_null(strstr(text, "{kind=\"a\\\"b\\\\c\\nd\",outcome=\"success\"} 1\n"));
    assert_non_null(strstr(text, "{kind=\"unknown\",outcome=\"success\"} 1\n"));
    free(text);
    metrics_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_by_route_and_status),
        cmocka_unit_test(test_series_are_bounded),
        cmocka_unit_test(test_jobs_outcomes_and_histogram),
        cmocka_unit_test(test_label_values_are_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
