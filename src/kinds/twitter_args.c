/* twitter_args.c - the Twitter family's argument record and operation names (twitter.md 2.1,
 * jobs-and-capabilities.md 2.0 and 2.5).
 *
 * Decoding follows go_args (case-insensitive keys, null = absent, integers through Go's rules);
 * validation order is Go's: member types, count >= 0, max_results >= 0, default capability,
 * capability valid for the job type. On top of Go, ids that become URL path segments are checked
 * here, and every operation but the home timelines and trends needs a query, so such jobs are
 * refused with 400 before they are admitted. */
#include "kinds/twitter_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds/go_args.h"
#include "util/utf8.h"

#define ARGS_PREFIX "error unmarshalling job arguments: "
#define MAX_ID_DIGITS 19

static const char *const op_names[TW_OP_COUNT] = {
    [TW_OP_SEARCHBYQUERY] = "searchbyquery",
    [TW_OP_SEARCHBYFULLARCHIVE] = "searchbyfullarchive",
    [TW_OP_SEARCHBYPROFILE] = "searchbyprofile",
    [TW_OP_GETBYID] = "getbyid",
    [TW_OP_GETREPLIES] = "getreplies",
    [TW_OP_GETRETWEETERS] = "getretweeters",
    [TW_OP_GETTWEETS] = "gettweets",
    [TW_OP_GETMEDIA] = "getmedia",
    [TW_OP_GETHOMETWEETS] = "gethometweets",
    [TW_OP_GETFORYOUTWEETS] = "getforyoutweets",
    [TW_OP_GETPROFILEBYID] = "getprofilebyid",
    [TW_OP_GETTRENDS] = "gettrends",
    [TW_OP_GETFOLLOWING] = "getfollowing",
    [TW_OP_GETFOLLOWERS] = "getfollowers",
    [TW_OP_GETSPACE] = "getspace",
};

/* The operations `twitter-api` accepts by type (twitter.md 2.1). */
static const enum twitter_op api_ops[] = {
    TW_OP_SEARCHBYQUERY, TW_OP_GETBYID, TW_OP_GETPROFILEBYID, TW_OP_SEARCHBYFULLARCHIVE,
};

const char *twitter_op_name(enum twitter_op op)
{
    return (unsigned)op < TW_OP_COUNT ? op_names[op] : "";
}

int twitter_op_parse(const char *name)
{
    for (int i = 0; i < TW_OP_COUNT; i++)
        if (strcmp(op_names[i], name) == 0)
            return i;
    return -1;
}

static bool valid_for_type(const char *job_type, enum twitter_op op)
{
    if (strcmp(job_type, "twitter-api") != 0)
        return true;
    for (size_t i = 0; i < sizeof api_ops / sizeof api_ops[0]; i++)
        if (api_ops[i] == op)
            return true;
    return false;
}

static int invalid_capability(const char *job_type, const char *name, struct err *e)
{
    char list[400] = "";
    size_t used = 0;
    for (int i = 0; i < TW_OP_COUNT; i++) {
        if (!valid_for_type(job_type, (enum twitter_op)i))
            continue;
        int w = snprintf(list + used, sizeof list - used, "%s%s", used ? " " : "", op_names[i]);
        if (w < 0 || (size_t)w >= sizeof list - used)
            break;
        used += (size_t)w;
    }
    return err_set(e, 400, ARGS_PREFIX "capability '%.*s' is not valid for job type '%s'. "
                   "Valid capabilities: [%s]", utf8_print_len(name, 40), name, job_type, list);
}

static int check_id(const struct twitter_request *req, struct err *e)
{
    size_t n = strlen(req->query);
    bool digits = n > 0 && n <= MAX_ID_DIGITS && strspn(req->query, "0123456789") == n;
    if (digits)
        return 0;
    return err_set(e, 400, ARGS_PREFIX "query must be a numeric %s id (1 to %d digits) for %s, "
                   "got '%.*s'", req->op == TW_OP_GETBYID ? "tweet" : "user", MAX_ID_DIGITS,
                   op_names[req->op], utf8_print_len(req->query, 40), req->query);
}

static bool needs_query(enum twitter_op op)
{
    return op != TW_OP_GETHOMETWEETS && op != TW_OP_GETFORYOUTWEETS && op != TW_OP_GETTRENDS;
}

/* query_meaning: what query holds for op (twitter.md 3.1). */
static const char *query_meaning(enum twitter_op op)
{
    switch (op) {
    case TW_OP_SEARCHBYQUERY:
    case TW_OP_SEARCHBYFULLARCHIVE: return "the search text";
    case TW_OP_GETREPLIES:
    case TW_OP_GETRETWEETERS: return "a tweet id";
    case TW_OP_GETSPACE: return "a space id";
    default: return "a screen name";
    }
}

int twitter_args_read(const json_t *args, struct twitter_raw_args *raw, struct err *e)
{
    char msg[GO_ARGS_MSG] = "";
    const char *unused = "";
    int64_t count = 0;
    memset(raw, 0, sizeof *raw);
    raw->type = raw->query = raw->cursor = "";
    if (go_arg_string(args, "type", &raw->type, msg) ||
        go_arg_string(args, "query", &raw->query, msg) || go_arg_int(args, "count", &count, msg) ||
        go_arg_int(args, "max_results", &raw->max_results, msg) ||
        go_arg_string(args, "next_cursor", &raw->cursor, msg) ||
        go_arg_string(args, "start_time", &unused, msg) ||
        go_arg_string(args, "end_time", &unused, msg))
        return err_set(e, 400, ARGS_PREFIX "failed to unmarshal Twitter arguments: %s", msg);
    if (count < 0)
        return err_set(e, 400, ARGS_PREFIX "count must be non-negative, got: %lld",
                       (long long)count);
    if (raw->max_results < 0)
        return err_set(e, 400, ARGS_PREFIX "max_results must be non-negative, got: %lld",
                       (long long)raw->max_results);
    return 0;
}

int twitter_args_parse(const json_t *args, const char *job_type, struct twitter_request *req,
                       struct err *e)
{
    struct twitter_raw_args raw;
    memset(req, 0, sizeof *req);
    req->query = req->cursor = "";
    if (twitter_args_read(args, &raw, e) < 0)
        return -1;
    req->query = raw.query;
    req->cursor = raw.cursor;
    req->max_results = raw.max_results;
    char *lowered = go_lower(raw.type);
    if (!lowered)
        return err_set(e, 500, "out of memory");
    int op = *lowered ? twitter_op_parse(lowered) : TW_OP_SEARCHBYQUERY;
    if (op < 0 || !valid_for_type(job_type, (enum twitter_op)op)) {
        invalid_capability(job_type, lowered, e);
        free(lowered);
        return -1;
    }
    free(lowered);
    req->op = (enum twitter_op)op;
    if (req->op == TW_OP_GETBYID || req->op == TW_OP_GETPROFILEBYID)
        return check_id(req, e);
    if (!*req->query && needs_query(req->op))
        return err_set(e, 400, ARGS_PREFIX "query (%s) is required for %s",
                       query_meaning(req->op), op_names[req->op]);
    return 0;
}
