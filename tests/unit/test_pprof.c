/* test_pprof.c - the profiling switch in enclave mode: refused with 400 and the JSON error body
 * every error has (DECISIONS.md "Errors": {"error":"pprof not supported"}),
 * ENABLE_PPROF ignored, dump routes not served. (Standalone toggling and the profile itself are
 * covered end to end by tests/e2e/test_pprof.py, which loads the real profiler.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/ops_api.h"
#include "app.h"

static void expect_refused(struct app *app, api_handler handler)
{
    struct http_response resp = { 0 };
    struct http_request req = { .method = "POST", .path = "/debug/pprof/enable" };
    handler(app, &req, &resp);
    assert_int_equal(resp.status, 400);
    static const char body[] = "{\"error\":\"pprof not supported\"}\n";
    assert_string_equal(resp.content_type, "application/json");
    assert_int_equal(resp.body_len, strlen(body));
    assert_memory_equal(resp.body, body, resp.body_len);
    http_response_clear(&resp);
}

static void test_enclave_mode_refuses(void **state)
{
    (void)state;
    struct app app;
    memset(&app, 0, sizeof app);
    app.cfg.standalone = false;
    app.cfg.enable_pprof = true;           /* ignored in enclave mode */
    app.pprof = pprof_open(&app.cfg);
    assert_non_null(app.pprof);
    assert_false(pprof_served(&app));
    expect_refused(&app, api_pprof_enable);
    expect_refused(&app, api_pprof_disable);
    assert_false(pprof_served(&app));
    pprof_close(app.pprof);
}

static void test_no_switch_is_not_served(void **state)
{
    (void)state;
    struct app app;
    memset(&app, 0, sizeof app);
    app.cfg.standalone = true;
    assert_false(pprof_served(&app));
    expect_refused(&app, api_pprof_enable);   /* no switch (out of memory at start): refused */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enclave_mode_refuses),
        cmocka_unit_test(test_no_switch_is_not_served),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
