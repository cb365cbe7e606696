#!/usr/bin/env python3
"""test_reddit.py - the `reddit` job kind and the Apify client against a local fake Apify.

tiktok-reddit-apify.md 2 and 3, jobs-and-capabilities.md 2.4, 3.3 and 1.5; DECISIONS.md
(Reddit/Apify): offered only with APIFY_API_KEY (otherwise /job/generate refuses with 400 and no
request goes out); every operation's actor input; decoded items by dataType with null, unknown and
mistyped items skipped; paging through the cursor sealed in X-Next-Cursor (opened with
/job/result); final states FAILED/ABORTED/TIMED-OUT with Apify's statusMessage; 401/429/5xx and
malformed replies reported with Apify's reason (answers too costly to decode refused); an
over-long run or dataset id failing the job rather than a cut URL being requested; the job
deadline aborting a run that never ends (the fake sees the abort); every validation message of 2.1 at /job/generate; reddit_* counters."""
import json
import time

from harness import Worker, check, check_eq, expect_json_error, expect_status, fail
from fakes.apify_fake import ApifyFake, GOOD_TOKEN

ACTOR = "trudax~reddit-scraper"
ZERO = "0001-01-01T00:00:00Z"

USER = {"dataType": "user", "id": "t2_u", "url": "https://reddit.com/user/u", "username": "u",
        "userIcon": "i", "postKarma": 10, "commentKarma": 2, "description": "d", "over18": False,
        "createdAt": "2020-01-02T03:04:05.500Z", "scrapedAt": "2024-05-01T12:00:00+02:00",
        "ignored": "x"}
POST = {"dataType": "post", "id": "t3_p", "parsedId": "p", "title": "T", "html": None,
        "upVotes": 7, "numberOfComments": 3, "isVideo": True,
        "createdAt": "2024-05-01T12:00:00.250000-05:00"}
COMMENT = {"dataType": "comment", "id": "t1_c", "parentId": "t3_p", "body": "b <i>&</i>",
           "numberOfReplies": 4, "upVotes": 1}
COMMUNITY = {"dataType": "community", "id": "t5_c", "name": "golang", "numberOfMembers": 1000,
             "over18": False, "createdAt": "2010-01-01T00:00:00Z"}
UNKNOWN = {"dataType": "video", "id": "v"}
MISTYPED = {"dataType": "post", "id": 12345}
FIXTURE = [USER, POST, COMMENT, COMMUNITY, UNKNOWN, MISTYPED, None]

USER_KEYS = ["id", "url", "username", "userIcon", "postKarma", "commentKarma", "description",
             "over18", "createdAt", "scrapedAt", "dataType"]
POST_KEYS = ["id", "parsedId", "url", "username", "title", "communityName", "parsedCommunityName",
             "body", "html", "numberOfComments", "upVotes", "isVideo", "isAd", "over18",
             "createdAt", "scrapedAt", "dataType"]
COMMENT_KEYS = ["id", "parsedId", "url", "parentId", "username", "category", "communityName",
                "body", "createdAt", "scrapedAt", "upVotes", "numberOfreplies", "html", "dataType"]
COMMUNITY_KEYS = ["id", "name", "title", "headerImage", "description", "over18", "createdAt",
                  "scrapedAt", "numberOfMembers", "url", "dataType"]


def pairs(body):
    return json.loads(body.decode("utf-8"), object_pairs_hook=lambda kv: kv)


def run_ok(w, job):
    """generate/add/status/result; returns (parsed data, clear cursor or None)."""
    sig = w.generate(job)
    uid = w.add(sig)
    st = w.wait_status(uid, timeout=20)
    expect_status(st, 200, "reddit job status")
    r = w.result(st.text, sig)
    expect_status(r, 200, "/job/result")
    cursor = None
    sealed_cursor = st.header("X-Next-Cursor")
    if sealed_cursor:
        check(sealed_cursor != st.text, "X-Next-Cursor should be sealed separately")
        c = w.result(sealed_cursor, sig)
        expect_status(c, 200, "/job/result on X-Next-Cursor")
        cursor = c.text
    return json.loads(r.body.decode("utf-8")), r.body, cursor


def run_fail(w, job, timeout=20):
    """Runs a job that must fail; returns its error text."""
    uid = w.add(w.generate(job))
    st = w.wait_status(uid, timeout=timeout)
    doc = expect_json_error(st, 500, "failed reddit job status")
    return doc["error"]


def telemetry_stats(w):
    _, _, _, body = w.run_job({"type": "telemetry", "arguments": {}})
    doc = json.loads(body.decode("utf-8"))
    return doc, doc["stats"].get(w.worker_id(), {})


def test_not_offered_without_key():
    with ApifyFake() as fake:
        env = fake.worker_env(key="")
        with Worker(env=env) as w:
            r = w.post("/job/generate", json_body={"type": "reddit", "arguments": {
                "type": "searchposts", "queries": ["nasa"]}})
            expect_json_error(r, 400, "reddit without APIFY_API_KEY", message="unknown job type: reddit")
            r = w.post("/job/generate", json_body={"type": "twitter-apify",
                                                   "arguments": {"query": "nasa"}})
            expect_json_error(r, 400, "twitter-apify without APIFY_API_KEY",
                              message="unknown job type: twitter-apify")
            doc, _ = telemetry_stats(w)
            caps = doc["reported_capabilities"]
            check("reddit" not in caps and "twitter-apify" not in caps,
                  "Apify kinds advertised without a key: %r" % caps)
        check_eq(fake.requests, [], "requests to Apify without a key")


def test_capabilities_with_key():
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        doc, _ = telemetry_stats(w)
        caps = doc["reported_capabilities"]
        check_eq(sorted(caps.get("reddit", [])),
                 ["scrapeurls", "searchcommunities", "searchposts", "searchusers"], "reddit caps")
        check_eq(sorted(caps.get("twitter-apify", [])), ["getfollowers", "getfollowing"],
                 "twitter-apify caps")
        for kind, names in caps.items():
            check(all(names), "empty capability name under %s: %r" % (kind, names))


def test_searchposts_items_and_paging():
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[ACTOR] = FIXTURE
        job = {"type": "reddit", "arguments": {"type": "searchposts", "queries": ["NASA"],
                                               "max_results": 4}}
        data, body, cursor = run_ok(w, job)
        check_eq(len(fake.runs), 1, "runs started")
        run = fake.runs[0]
        check_eq(run["actor"], ACTOR, "actor")
        check_eq(run["content_type"], "application/json", "start Content-Type")
        check_eq(list(run["input"].keys()),
                 ["type", "searches", "sort", "postDateLimit", "includeNSFW", "maxItems",
                  "maxPostCount", "maxComments", "maxCommunitiesCount", "maxUserCount",
                  "searchComments", "searchCommunities", "searchPosts", "searchUsers",
                  "skipUserPosts", "skipComments"], "actor input key order")
        check_eq(run["input"], {"type": "posts", "searches": ["NASA"], "sort": "new",
                                "postDateLimit": ZERO, "includeNSFW": False, "maxItems": 10,
                                "maxPostCount": 10, "maxComments": 10, "maxCommunitiesCount": 2,
                                "maxUserCount": 2, "searchComments": False,
                                "searchCommunities": False, "searchPosts": True,
                                "searchUsers": False, "skipUserPosts": False,
                                "skipComments": False}, "actor input")
        check(set(fake.token_places) == {"header"}, "token should travel in the Authorization "
              "header only: %r" % fake.token_places)
        check(all(GOOD_TOKEN not in q for _, _, q in fake.requests), "token in a URL")
        check_eq(fake.dataset_reads[0]["offset"], "0", "first page offset")
        check_eq(fake.dataset_reads[0]["limit"], "4", "page limit = max_results")

        # page 1: the four typed items, keys in record order, zero values filled in
        check_eq([k for k, _ in pairs(body)[0]], USER_KEYS, "user keys")
        check_eq([k for k, _ in pairs(body)[1]], POST_KEYS, "post keys")
        check_eq([k for k, _ in pairs(body)[2]], COMMENT_KEYS, "comment keys")
        check_eq([k for k, _ in pairs(body)[3]], COMMUNITY_KEYS, "community keys")
        check_eq(data[0]["createdAt"], "2020-01-02T03:04:05.5Z", "fraction trimmed")
        check_eq(data[0]["scrapedAt"], "2024-05-01T12:00:00+02:00", "offset kept")
        check(data[1]["html"] is None, "post html null stays null")
        check_eq(data[1]["createdAt"], "2024-05-01T12:00:00.25-05:00", "post createdAt")
        check_eq(data[1]["scrapedAt"], ZERO, "missing time -> zero time")
        check_eq(data[2]["numberOfreplies"], 4, "numberOfReplies -> numberOfreplies")
        check_eq(data[2]["html"], "", "comment html zero is empty string")
        check_eq(data[2]["body"], "b <i>&</i>", "comment body")
        check_eq(data[3]["numberOfMembers"], 1000, "community members")
        check("type" not in data[0], "items carry dataType, not type")

        # the cursor came sealed in X-Next-Cursor: {"offset":4}
        check_eq(cursor, "eyJvZmZzZXQiOjR9", "next cursor for a full page")

        # page 2: the unknown, mistyped and null items are all skipped; short page, no cursor
        job["arguments"]["next_cursor"] = cursor
        data2, body2, cursor2 = run_ok(w, job)
        check_eq(len(fake.runs), 2, "every page starts a new run")
        check_eq(fake.dataset_reads[1]["offset"], "4", "second page offset from the cursor")
        check_eq(data2, [], "page of undecodable items")
        check_eq(body2, b"[]", "empty Reddit data is []")
        check(cursor2 is None, "short page should have no cursor, got %r" % cursor2)

        _, stats = telemetry_stats(w)
        check_eq(stats.get("reddit_queries"), 2, "reddit_queries")
        check_eq(stats.get("reddit_returned_items"), 4, "reddit_returned_items")
        check_eq(stats.get("reddit_errors", 0), 0, "reddit_errors")


def test_every_operation_input():
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[ACTOR] = [COMMUNITY]
        url = "https://www.reddit.com/r/golang/comments/abc/title/"
        run_ok(w, {"type": "reddit", "arguments": {"type": "scrapeurls", "urls": [url],
                                                   "after": "2024-01-02T03:04:05+01:00",
                                                   "max_items": 5}})
        run_ok(w, {"type": "reddit", "arguments": {"type": "searchusers", "queries": ["a", "b"],
                                                   "skip_posts": True, "include_nsfw": True,
                                                   "sort": "TOP", "max_users": 9}})
        data, _, _ = run_ok(w, {"type": "reddit", "arguments": {"type": "searchcommunities",
                                                                "queries": ["go"]}})
        check_eq(data[0]["name"], "golang", "community decoded")
        scrape, users, comms = (r["input"] for r in fake.runs)
        check_eq(scrape["startUrls"], [{"url": url, "method": "GET"}], "startUrls")
        check("type" not in scrape and "searches" not in scrape, "scrapeurls has no type/searches")
        check_eq(scrape["postDateLimit"], "2024-01-02T03:04:05+01:00", "after is sent as given")
        check_eq(scrape["maxItems"], 5, "maxItems")
        check_eq([scrape[k] for k in ("searchComments", "searchCommunities", "searchPosts",
                                      "searchUsers")], [True] * 4, "scrapeurls search flags")
        check_eq(fake.dataset_reads[0]["limit"], "5", "max_results defaults to max_items")
        check_eq(users["type"], "users", "searchusers type")
        check_eq(users["searches"], ["a", "b"], "searches")
        check_eq(users["sort"], "top", "sort lower-cased")
        check(users["skipUserPosts"] is True and users["includeNSFW"] is True, "user flags")
        check_eq(users["maxUserCount"], 9, "maxUserCount")
        check("postDateLimit" not in users, "no postDateLimit for searchusers")
        check_eq(comms["type"], "community", "searchcommunities type")
        check(comms["searchCommunities"] is True and comms["searchPosts"] is False, "comm flags")


def test_validation_messages():
    prefix = "invalid Reddit arguments: "
    cases = [
        ({}, "urls must be provided for scrapeurls query type"),
        ({"type": "bogus", "sort": "best"}, "invalid type\ninvalid sort"),
        ({"type": "searchposts", "queries": ["a"], "after": "2999-01-01T00:00:00Z"},
         "after field is in the future"),
        ({"type": "searchposts"}, "queries must be provided for all query types except scrapeurls"),
        ({"type": "searchusers", "queries": ["a"], "urls": ["https://reddit.com/r/a/comments/1"]},
         "urls can only be provided for the scrapeurls query type"),
        ({"type": "scrapeurls", "queries": ["a"], "urls": ["https://reddit.com/r/a/comments/1"]},
         "the scrapeurls query type does not admit queries"),
        ({"urls": ["https://example.com/r/a/comments/1"]},
         "invalid Reddit URL https://example.com/r/a/comments/1"),
        ({"urls": ["https://reddit.com/user/x/comments/1"]},
         "https://reddit.com/user/x/comments/1 is not a Reddit post or comment URL (missing /r/)"),
        ({"urls": ["https://reddit.com/r/golang"]},
         "https://reddit.com/r/golang is not a Reddit post or comment URL (missing /comments/)"),
        ({"urls": ["https://reddit.com/r/%zz/comments/1"]}, "<nil> is not a valid URL"),
        # hosts Go's url.Parse refuses: an unclosed IPv6 bracket, a character not allowed in a
        # host name, an ASCII %-escape other than %25
        ({"urls": ["https://[::1/r/a/comments/1"]}, "<nil> is not a valid URL"),
        ({"urls": ["https://www.red{dit.com/r/a/comments/1"]}, "<nil> is not a valid URL"),
        ({"urls": ["https://www.re%64dit.com/r/a/comments/1"]}, "<nil> is not a valid URL"),
        ({"type": "searchposts", "queries": ["a"], "max_items": -1},
         "failed to unmarshal Reddit arguments: json: cannot unmarshal number -1 into Go struct "
         "field .max_items of type uint"),
        ({"type": "searchposts", "queries": ["a"], "include_nsfw": "yes"},
         "failed to unmarshal Reddit arguments: json: cannot unmarshal string into Go struct "
         "field .include_nsfw of type bool"),
    ]
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        for args, msg in cases:
            r = w.post("/job/generate", json_body={"type": "reddit", "arguments": args})
            expect_json_error(r, 400, "reddit %s" % json.dumps(args), message=prefix + msg)
        check_eq(fake.runs, [], "invalid jobs started runs")


def test_rejected_key():
    """A key Apify rejects: when the start-up check (users/me) ran, the Apify kinds are not
    offered; when it did not run, the job fails with Apify's 401 and its reason."""
    job = {"type": "reddit", "arguments": {"type": "searchposts", "queries": ["x"]}}
    with ApifyFake() as fake, Worker(env=fake.worker_env(key="wrong-token")) as w:
        checked = any(p == "/v2/users/me" for _, p, _ in fake.requests)
        r = w.post("/job/generate", json_body=job)
        if checked:
            expect_json_error(r, 400, "reddit with a rejected key", message="unknown job type: reddit")
            check_eq(fake.runs, [], "runs with a rejected key")
            return
        expect_status(r, 200, "reddit generate (no start-up key check)")
        err = run_fail(w, job)
        check(err.startswith("error while scraping Reddit: failed to run actor: unexpected status "
                             "code 401: "), "401 error: %r" % err)
        check("Authentication token was not provided or is invalid" in err, "Apify's reason: %r" % err)


def test_final_states_carry_the_reason():
    job = {"type": "reddit", "arguments": {"type": "searchposts", "queries": ["x"]}}
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[ACTOR] = FIXTURE
        for status, words in (("FAILED", "failed"), ("ABORTED", "aborted"),
                              ("TIMED-OUT", "timed out (TIMED-OUT)")):
            fake.statuses = ["RUNNING", status]
            fake.status_message = "scripted %s" % status
            err = run_fail(w, job)
            check_eq(err, "error while scraping Reddit: Actor run %s: scripted %s" % (words, status),
                     "%s error" % status)
        check_eq(fake.aborts, [], "final runs must not be aborted")
        check_eq(len(fake.dataset_reads), 0, "no dataset read after a failed run")
        # RUNNING, RUNNING, SUCCEEDED with a short poll interval: success after three polls
        fake.reset_scenario()
        fake.statuses = ["READY", "RUNNING", "SUCCEEDED"]
        polls_before = fake.polls
        data, _, _ = run_ok(w, job)
        check_eq(len(data), 4, "items after a slow start")
        check_eq(fake.polls - polls_before, 3, "status polls until SUCCEEDED")
        _, stats = telemetry_stats(w)
        check_eq(stats.get("reddit_errors"), 3, "reddit_errors")
        check_eq(stats.get("reddit_queries"), 4, "reddit_queries")


def test_http_failures_reach_the_user():
    job = {"type": "reddit", "arguments": {"type": "searchposts", "queries": ["x"]}}
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.start_reply = (401, b'{"error":{"type":"token-not-provided","message":"Authentication '
                            b'token was not provided or is invalid"}}')
        err = run_fail(w, job)
        check(err.startswith("error while scraping Reddit: failed to run actor: unexpected status "
                             "code 401: "), "401 error: %r" % err)
        check("Authentication token was not provided or is invalid" in err, "Apify's reason: %r" % err)
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[ACTOR] = FIXTURE
        fake.start_reply = (429, b'{"error":{"type":"rate-limit-exceeded","message":"slow down"}}')
        err = run_fail(w, job)
        check_eq(err, 'error while scraping Reddit: failed to run actor: unexpected status code '
                 '429: {"error":{"type":"rate-limit-exceeded","message":"slow down"}}', "429 error")
        fake.start_reply = (201, b'{"data": {"id": "run9"')
        err = run_fail(w, job)
        check(err.startswith("error while scraping Reddit: failed to run actor: error parsing "
                             "response: "), "malformed start reply: %r" % err)
        fake.start_reply = None
        fake.status_reply = (503, b"upstream\nbusy")
        err = run_fail(w, job)
        check_eq(err, "error while scraping Reddit: failed to get actor run status: unexpected "
                 "status code 503: upstream busy", "5xx on status")
        check_eq(fake.aborts, [fake.runs[-1]["id"]], "a run whose status cannot be read is aborted")
        fake.status_reply = None
        fake.dataset_reply = (200, b'{"items": []}')
        err = run_fail(w, job)
        check_eq(err, "error while scraping Reddit: failed to get dataset items: error parsing "
                 "response: expected a JSON array", "non-array dataset")
        fake.dataset_reply = (200, b"[{]")
        err = run_fail(w, job)
        check(err.startswith("error while scraping Reddit: failed to get dataset items: error "
                             "parsing response: "), "malformed dataset: %r" % err)
        fake.dataset_reply = (500, b'{"error":{"message":"dataset broke"}}')
        err = run_fail(w, job)
        check("unexpected status code 500" in err and "dataset broke" in err, "dataset 500: %r" % err)
        fake.dataset_reply = (200, b"null")
        data, body, cursor = run_ok(w, job)
        check_eq(body, b"[]", "a null dataset is an empty page")
        w.healthy("Apify failures")


def test_over_long_ids_fail_the_job():
    """Ids from Apify go into URL paths: one longer than the client accepts (128 bytes) fails the
    job with a clear error and nothing is requested with it (before, a path over 511 bytes was
    cut and the cut URL requested); ids of 128 bytes are used whole."""
    job = {"type": "reddit", "arguments": {"type": "searchposts", "queries": ["x"]}}
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        for field, other in (("id", "defaultDatasetId"), ("defaultDatasetId", "id")):
            before = len(fake.requests)
            fake.start_reply = (201, json.dumps({"data": {field: "r" * 600, other: "ok1",
                                                          "status": "READY"}}).encode())
            err = run_fail(w, job)
            check_eq(err, "error while scraping Reddit: failed to run actor: error parsing "
                     "response: data.%s of 600 bytes (at most 128 accepted)" % field,
                     "over-long %s" % field)
            check_eq([r[:2] for r in fake.requests[before:]],
                     [("POST", "/v2/acts/%s/runs" % ACTOR)],
                     "nothing requested after an over-long %s" % field)
        run_id, ds = "r" * 128, "d" * 128
        fake.start_reply = (201, json.dumps({"data": {"id": run_id, "defaultDatasetId": ds,
                                                      "status": "READY"}}).encode())
        fake.status_reply = (200, json.dumps({"data": {"id": run_id, "status": "SUCCEEDED"}}).encode())
        fake.dataset_reply = (200, json.dumps([POST]).encode())
        before = len(fake.requests)
        data, _, _ = run_ok(w, job)
        check_eq([d["id"] for d in data], ["t3_p"], "items with ids of 128 bytes")
        check_eq([r[:2] for r in fake.requests[before:]],
                 [("POST", "/v2/acts/%s/runs" % ACTOR), ("GET", "/v2/actor-runs/" + run_id),
                  ("GET", "/v2/datasets/%s/items" % ds)], "ids of 128 bytes used whole")
        w.healthy("over-long Apify ids")


def test_a_bad_item_costs_only_itself():
    """A \\u0000 in a string or key, or a number beyond double (jansson refuses them), skips that
    item only; an integer beyond int64 in a key the record ignores is read as a real and keeps the
    item. The page keeps its size: a full page still has its cursor."""
    post = json.dumps(dict(POST, id="t3_ok")).encode()
    page = b"[" + b",".join([
        b'{"dataType":"post","id":"t3_nul","title":"a\\u0000b"}',
        b'{"dataType":"post","id":"t3_big","ignoredCount":123456789012345678901234567890}',
        b'{"dataType":"post","id":"t3_inf","ignoredScore":1e400}',
        b'{"dataType":"post","id":"t3_key","x\\u0000y":1}',
        post]) + b"]"
    job = {"type": "reddit", "arguments": {"type": "searchposts", "queries": ["x"],
                                           "max_results": 5}}
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.dataset_reply = (200, page)
        data, _, cursor = run_ok(w, job)
        check_eq([d["id"] for d in data], ["t3_big", "t3_ok"], "items kept")
        check_eq(cursor, "eyJvZmZzZXQiOjV9", "a full page keeps its cursor")
        # a page made of tiny values would take many times its size to decode: refused
        fake.dataset_reply = (200, b"[" + b",".join([b"{}"] * 700000) + b"]")
        err = run_fail(w, job)
        check(err.startswith("error while scraping Reddit: failed to get dataset items: error "
                             "parsing response: JSON text of 2100001 bytes would take about "),
              "costly page: %r" % err)
        w.healthy("bad dataset items")


def test_costly_run_answers_are_refused():
    """The answers to starting a run and to its status polls are read like dataset pages: one
    made of tiny values, which would take many times its size to decode (here some 200 MB for
    2 MB), is refused before it is decoded, and the job fails with that reason (a run whose
    status cannot be read is aborted). The worker's peak memory does not grow by the decode."""
    job = {"type": "reddit", "arguments": {"type": "searchposts", "queries": ["x"]}}
    padding = b"[" + b",".join([b"{}"] * 700000) + b"]"
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[ACTOR] = [POST]
        run_ok(w, job)
        peak_before = vm_hwm_kib(w.proc.pid)
        fake.start_reply = (201, b'{"data":{"id":"run9","defaultDatasetId":"ds9"},"pad":'
                            + padding + b"}")
        err = run_fail(w, job)
        check(err.startswith("error while scraping Reddit: failed to run actor: error parsing "
                             "response: JSON text of 2100055 bytes would take about "),
              "costly start answer: %r" % err)
        fake.start_reply = None
        fake.status_reply = (200, b'{"data":{"status":"SUCCEEDED"},"pad":' + padding + b"}")
        err = run_fail(w, job)
        check(err.startswith("error while scraping Reddit: failed to get actor run status: error "
                             "parsing response: JSON text of 2100039 bytes would take about "),
              "costly status answer: %r" % err)
        check_eq(fake.aborts, [fake.runs[-1]["id"]], "the run whose status was refused is aborted")
        grown = vm_hwm_kib(w.proc.pid) - peak_before
        check(grown < 64 * 1024, "peak memory grew by %d KiB reading the costly answers" % grown)
        w.healthy("costly run answers")


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid, "r", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    fail("no VmHWM in /proc/%d/status" % pid)
    return 0


def test_deadline_aborts_a_run_that_never_ends():
    job = {"type": "reddit", "arguments": {"type": "searchposts", "queries": ["x"]}}
    with ApifyFake() as fake, Worker(env=fake.worker_env(poll_ms=100, timeout_s=3)) as w:
        fake.statuses = ["RUNNING"]
        t0 = time.monotonic()
        err = run_fail(w, job, timeout=15)
        took = time.monotonic() - t0
        check_eq(err, "error while scraping Reddit: actor run did not finish before the job "
                 "deadline; run aborted", "deadline error")
        check(took < 6.0, "the job took %.1f s with JOB_TIMEOUT_SECONDS=3" % took)
        check_eq(fake.aborts, ["run1"], "the fake saw the abort of the run")
        check(fake.runs[0]["polls"] >= 5, "polled every 100 ms: %d polls" % fake.runs[0]["polls"])
        check_eq(fake.dataset_reads, [], "no dataset read for an aborted run")


if __name__ == "__main__":
    import harness
    harness.main(globals())
