/* test_client.c - libteeworker's answers to bad arguments (no server needed: every call here is
 * refused before a request is made). The exchanges with a worker, a hostile one included, are
 * tested end to end in tests/e2e/test_cli.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "teeworker.h"

static struct tw_client *new_client(void)
{
    struct tw_options o = { .url = "http://127.0.0.1:9" };
    struct tw_error err;
    struct tw_client *c = tw_client_new(&o, &err);
    assert_non_null(c);
    return c;
}

/* A caller clears info after any tw_status, as the header asks: a refused call must leave it
 * cleared, not as the caller's stack had it. */
static void test_status_refusal_leaves_info_clear(void **state)
{
    (void)state;
    struct tw_client *c = new_client();
    const char *uids[] = { NULL, "" };
    for (size_t i = 0; i < 3; i++) {
        struct tw_status_info info;
        memset(&info, 0x5a, sizeof info);
        struct tw_error err;
        int rc = i < 2 ? tw_status(c, uids[i], &info, &err) : tw_status(NULL, "u1", &info, &err);
        assert_int_equal(rc, TW_E_INVALID);
        assert_int_equal(err.code, TW_E_INVALID);
        assert_null(info.sealed_result);
        assert_null(info.sealed_cursor);
        tw_status_info_clear(&info);
    }
    tw_client_free(c);
}

/* dirty_stack leaves a pattern on the stack where the next call's locals will be. */
static __attribute__((noinline)) void dirty_stack(void)
{
    volatile unsigned char junk[4096];
    memset((void *)junk, 0x5a, sizeof junk);
}

static __attribute__((noinline)) int get_result(struct tw_client *c, const char *uid,
                                                struct tw_error *err)
{
    char *result = (char *)"untouched", *next = (char *)"untouched";
    struct tw_wait_options wait = { .max_attempts = 1, .delay_ms = 1 };
    int rc = tw_get_result(c, "sig", uid, &wait, true, &result, &next, err);
    assert_null(next);
    return rc;
}

/* tw_get_result with a missing uid or client is a bad argument (TW_E_INVALID), not a free of
 * whatever its stack held. */
static void test_get_result_refuses_missing_arguments(void **state)
{
    (void)state;
    struct tw_client *c = new_client();
    struct tw_error err;
    dirty_stack();
    assert_int_equal(get_result(c, NULL, &err), TW_E_INVALID);
    dirty_stack();
    assert_int_equal(get_result(c, "", &err), TW_E_INVALID);
    dirty_stack();
    assert_int_equal(get_result(NULL, "u1", &err), TW_E_INVALID);
    assert_int_equal(err.code, TW_E_INVALID);
    tw_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_refusal_leaves_info_clear),
        cmocka_unit_test(test_get_result_refuses_missing_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
