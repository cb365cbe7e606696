/* test_registry.c - kinds offered, refused types, the capability report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "jobs/job.h"
#include "jobs/registry.h"

static void test_capability_report_has_no_empty_names(void **state)
{
    (void)state;
    struct config cfg = { 0 };
    json_t *caps = registry_capabilities(&cfg);
    char *text = json_dumps(caps, JSON_COMPACT);
    assert_string_equal(text, "{\"telemetry\":[\"telemetry\"],\"tiktok\":[\"transcription\"],"
                             "\"web\":[\"scraper\"]}");
    free(text);
    json_decref(caps);
}

static void test_check_refuses_unknown_and_empty_types(void **state)
{
    (void)state;
    struct config cfg = { 0 };
    struct job j = { .type = "foo" };
    struct err e = { 0 };
    assert_null(registry_check(&cfg, &j, &e));
    assert_int_equal(e.http, 400);
    assert_string_equal(e.msg, "unknown job type: foo");
    j.type = "";
    assert_null(registry_check(&cfg, &j, &e));
    assert_string_equal(e.msg, "job type is required");
    j.type = "telemetry";
    err_clear(&e);
    const struct job_kind *k = registry_check(&cfg, &j, &e);
    assert_non_null(k);
    assert_string_equal(k->type, "telemetry");
    assert_ptr_equal(registry_find(&cfg, "telemetry"), k);
    assert_null(registry_find(&cfg, "Telemetry"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capability_report_has_no_empty_names),
        cmocka_unit_test(test_check_refuses_unknown_and_empty_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
