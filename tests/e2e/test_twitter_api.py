#!/usr/bin/env python3
"""test_twitter_api.py - the `twitter-api` kind and the `twitter` kind's routing to X API v2,
against a local fake X API (twitter.md 3, 6, 8.1, 8.4, 9, 10.2; DECISIONS.md "Twitter").

Checks: the start-up key probe (one request per key) and the capabilities it yields, with
validation accepting exactly what is advertised; recent search with next_token paging, the
query sent as given, the field lists, TweetResult keys in order and ids above 2^53 exact;
X-Next-Cursor paging (also in the middle of an X page); a repeated or cycling next_token ends
the search with each tweet once; usernames looked up when includes lack them, and no longer once
the job deadline has passed; full-archive search with an elevated and a basic key; tweet and
user lookups; 429 with x-rate-limit-reset (rotation to the next key, cool-down per endpoint,
partial results); 401 (key marked bad); 5xx, malformed JSON, a non-numeric id, 404 and
errors-only answers reaching the user with their reason; the stats counters."""
import json

from harness import Worker, check, check_eq, expect_json_error
from fakes.x_api_fake import BIG_BASE, PLACE_FIELDS, SEARCH_TWEET_FIELDS, SEARCH_USER_FIELDS
from fakes.x_api_fake import XApiFake, make_tweet

TWEET_KEYS = [
    "id", "tweet_id", "conversation_id", "user_id", "text", "created_at", "timestamp",
    "ThreadCursor", "is_quoted", "is_pin", "is_reply", "is_retweet", "is_self_thread", "likes",
    "hashtags", "html", "replies", "retweets", "urls", "username", "photos", "videos",
    "retweeted_status_id", "views", "sensitive_content", "author_id", "public_metrics",
    "possibly_sensitive", "lang", "newest_id", "oldest_id", "result_count", "error"]


def run(w, job):
    """The four-step flow; returns (decoded data, next cursor text or None)."""
    body, cursor = w.run_paged_job(job)
    return json.loads(body.decode("utf-8")), cursor


def run_fails(w, job):
    """Runs job, expects the job to fail; returns the error text."""
    return w.run_failing_job(job, timeout=20)


def caps_and_stats(w):
    return w.capabilities_and_stats()


def search(args, kind="twitter-api"):
    return {"type": kind, "arguments": dict({"type": "searchbyquery"}, **args)}


BASIC = ["getbyid", "getprofilebyid", "searchbyquery"]


def test_capabilities_follow_the_probe():
    with XApiFake() as fake:
        fake.key_modes.update({"kb": "basic", "ke": "elevated"})
        with Worker(env=fake.worker_env(["kb", "ke"])) as w:
            caps, _ = caps_and_stats(w)
            want = sorted(BASIC + ["searchbyfullarchive"])
            check_eq(sorted(caps.get("twitter-api", [])), want, "twitter-api caps, elevated key")
            check_eq(sorted(caps.get("twitter", [])), want, "twitter caps, keys only")
            check("twitter-apify" not in caps, "twitter-apify without Apify: %r" % caps)
            probes = fake.calls("search/all")
            check_eq(sorted(p["key"] for p in probes), ["kb", "ke"], "one probe per key")
            check_eq(probes[0]["params"].get("query"), "from:twitterdev", "probe query")
            r = w.post("/job/generate", json_body={"type": "twitter", "arguments": {
                "type": "gettweets", "query": "nasa"}})
            expect_json_error(r, 400, "twitter gettweets without accounts")
            check("TWITTER_ACCOUNTS" in r.json()["error"], "refusal names the config: %r" % r.body)
            r = w.post("/job/generate", json_body={"type": "twitter", "arguments": {
                "type": "getfollowers", "query": "nasa"}})
            check("APIFY_API_KEY" in expect_json_error(r, 400, "getfollowers w/o Apify")["error"],
                  "followers refusal names APIFY_API_KEY: %r" % r.body)
            r = w.post("/job/generate", json_body={"type": "twitter-api", "arguments": {
                "type": "gettweets", "query": "nasa"}})
            expect_json_error(r, 400, "twitter-api gettweets", prefix="error unmarshalling job "
                              "arguments: capability 'gettweets' is not valid for job type "
                              "'twitter-api'")
            for args, what in (({"type": "getbyid", "query": "12a"}, "non-numeric tweet id"),
                               ({"query": "x", "max_results": -1}, "negative max_results"),
                               ({"type": "searchbyquery"}, "empty search query"),
                               ({"query": "x", "next_cursor": "c" * 600}, "oversized cursor"),
                               ({"query": "x", "next_cursor": "a~b~3"}, "not a search cursor")):
                r = w.post("/job/generate", json_body={"type": "twitter-api", "arguments": args})
                expect_json_error(r, 400, what, prefix="error unmarshalling job arguments: ")
            check_eq(len(fake.calls()), 2, "no X API request beyond the probes")
    with XApiFake() as fake, Worker(env=fake.worker_env(["kb"])) as w:
        caps, _ = caps_and_stats(w)
        check_eq(sorted(caps.get("twitter-api", [])), BASIC, "twitter-api caps, basic key")
        r = w.post("/job/generate", json_body={"type": "twitter-api", "arguments": {
            "type": "searchbyfullarchive", "query": "nasa"}})
        doc = expect_json_error(r, 400, "full archive without an elevated key")
        check("TWITTER_API_KEYS" in doc["error"] and "elevated" in doc["error"],
              "full-archive refusal: %r" % doc)
    with Worker() as w:
        caps, _ = caps_and_stats(w)
        check("twitter" not in caps and "twitter-api" not in caps, "no keys: %r" % caps)
        r = w.post("/job/generate", json_body={"type": "twitter-api", "arguments": {"query": "x"}})
        expect_json_error(r, 400, "twitter-api without keys", message="unknown job type: twitter-api")


def test_search_pages_fields_and_exact_ids():
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        fake.tweets = [make_tweet(i) for i in range(130)]
        query = 'from:NASA "moon landing" (#apollo OR @nasa) -is:retweet'
        data, cursor = run(w, search({"query": query, "max_results": 150}))
        check_eq(len(data), 130, "every tweet of the fixture")
        pages = fake.calls("search/recent")
        check_eq([p["params"]["max_results"] for p in pages], ["100", "50"],
                 "two X pages: 100 (the most) then the 50 still wanted")
        p = pages[0]["params"]
        check_eq(p.get("query"), query, "query sent exactly as given")
        check_eq(p.get("max_results"), "100", "page size clamped to 100")
        check_eq(p.get("tweet.fields"), SEARCH_TWEET_FIELDS, "tweet.fields")
        check_eq(p.get("user.fields"), SEARCH_USER_FIELDS, "user.fields")
        check_eq(p.get("place.fields"), PLACE_FIELDS, "place.fields")
        check_eq(pages[1]["params"].get("next_token"), "p100", "second page asked by next_token")
        check_eq(pages[0]["key"], "k1", "bearer key")
        check_eq(cursor, None, "no cursor once the search is exhausted")
        first = data[0]
        check_eq(list(first.keys()), TWEET_KEYS, "TweetResult keys in order")
        check_eq(first["id"], BIG_BASE, "64-bit id exact")
        check_eq(data[129]["id"], BIG_BASE + 129, "last id exact")
        check_eq(first["tweet_id"], str(BIG_BASE), "tweet_id")
        check_eq(first["username"], "alice", "username from includes")
        check_eq(first["user_id"], "42", "user_id = author")
        check_eq(first["created_at"], "2025-01-01T12:00:00Z", "created_at normalised")
        check_eq(first["text"], "tweet 0 <&>", "text")
        check_eq(first["public_metrics"], {"retweet_count": 0, "reply_count": 2, "like_count": 3,
                                           "quote_count": 4, "bookmark_count": 5,
                                           "impression_count": 0}, "public_metrics")
        check_eq((first["newest_id"], first["result_count"], first["error"], first["hashtags"]),
                 (str(BIG_BASE), 100, None, None), "page meta and zero members")
        check_eq(first["ThreadCursor"], {"focal_tweet_id": "", "thread_id": "", "cursor": "",
                                         "cursor_type": ""}, "ThreadCursor")
        raw = w.run_job(search({"query": "x", "max_results": 1}))[3].decode("utf-8")
        check('"id":%d,' % BIG_BASE in raw, "id written as an exact integer: %s" % raw[:80])
        _, stats = caps_and_stats(w)
        check_eq(stats.get("twitter_scrapes"), 2, "twitter_scrapes: one per job")
        check_eq(stats.get("twitter_returned_tweets"), 131, "twitter_returned_tweets")


def test_next_cursor_paging():
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        seen = []
        cursor = None
        for _ in range(6):
            args = {"query": "nasa", "max_results": 7}
            if cursor:
                args["next_cursor"] = cursor
            data, cursor = run(w, search(args))
            seen += [t["id"] for t in data]
            if not cursor:
                break
        check_eq(seen, [BIG_BASE + i for i in range(25)], "pages of 7 cover the fixture once")
        sizes = [int(r["params"]["max_results"]) for r in fake.calls("search/recent")]
        check(all(10 <= s <= 14 for s in sizes), "X pages of 10 to 7 + skip: %r" % sizes)
        check_eq(fake.calls("search/recent")[1]["params"].get("next_token"), None,
                 "first page read again to skip the 7 already returned")
        data, cursor = run(w, search({"query": "nasa", "max_results": 0}))
        check_eq((data, cursor), ([], None), "max_results 0: [] and no cursor")


def test_usernames_looked_up_when_not_included():
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        fake.include_users = False
        fake.tweets = [dict(t, author_id="43" if i % 2 else "42") for i, t in
                       enumerate(fake.tweets[:4])] + [dict(fake.tweets[4], author_id="99")]
        data, _ = run(w, search({"query": "nasa", "max_results": 10}))
        check_eq([t["username"] for t in data], ["alice", "bob", "alice", "bob", ""],
                 "usernames from user lookups (unknown author: empty)")
        lookups = sorted(r["path"] for r in fake.calls("user"))
        check_eq(lookups, ["/2/users/42", "/2/users/43", "/2/users/99"], "one lookup per author")


def test_username_lookups_stop_at_the_deadline():
    """Filling in usernames is a loop of requests: at the job deadline it stops, instead of
    going through every remaining author (each failing at once and counted as an X error)."""
    with XApiFake() as fake:
        fake.include_users = False
        fake.users = {str(100 + i): {"id": str(100 + i), "name": "U", "username": "u%d" % i}
                      for i in range(30)}
        fake.tweets = [make_tweet(i, author=str(100 + i)) for i in range(30)]
        fake.user_delay_s = 0.5
        env = dict(fake.worker_env(["k1"]), JOB_TIMEOUT_SECONDS="2")
        with Worker(env=env) as w:
            run_fails(w, search({"query": "nasa", "max_results": 30}))
            _, stats = caps_and_stats(w)
            looked_up = len(fake.calls("user"))
            check(looked_up <= 6, "%d lookups in a 2 s job" % looked_up)
            check(stats.get("twitter_errors", 0) <= 1,
                  "lookups after the deadline counted as errors: %r" % stats)


def test_full_archive_uses_the_elevated_key():
    with XApiFake() as fake:
        fake.key_modes.update({"kb": "basic", "ke": "elevated"})
        with Worker(env=fake.worker_env(["kb", "ke"])) as w:
            fake.clear()
            for kind in ("twitter-api", "twitter"):
                data, _ = run(w, {"type": kind, "arguments": {
                    "type": "searchbyfullarchive", "query": "nasa", "max_results": 12}})
                check_eq(len(data), 12, "%s full-archive tweets" % kind)
            calls = fake.calls()
            check_eq({(c["route"], c["key"]) for c in calls}, {("search/all", "ke")},
                     "full archive only through the elevated key")
            check_eq(calls[0]["params"].get("max_results"), "12", "archive page size")


def test_lookups():
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        tid = str(BIG_BASE + 3)
        for kind in ("twitter-api", "twitter"):
            tweet, cursor = run(w, {"type": kind, "arguments": {"type": "getbyid", "query": tid}})
            check_eq(list(tweet.keys()), TWEET_KEYS, "getbyid keys")
            check_eq((tweet["id"], tweet["username"], tweet["newest_id"], tweet["result_count"],
                      tweet["created_at"], cursor),
                     (BIG_BASE + 3, "alice", "", 0, "2025-01-01T12:00:03Z", None),
                     "%s getbyid values" % kind)
        p = fake.calls("tweet")[0]["params"]
        check_eq((p.get("expansions"), p.get("user.fields")), ("author_id", "username"),
                 "tweet lookup expansions")
        profile, _ = run(w, {"type": "twitter-api", "arguments": {"type": "getprofilebyid",
                                                                  "query": "42"}})
        check_eq(list(profile.keys()), ["data"], "profile wrapper")
        d = profile["data"]
        check_eq(list(d.keys()), ["id", "name", "username", "description", "created_at",
                                  "profile_banner_url", "profile_image_url", "protected",
                                  "verified", "location", "public_metrics"],
                 "profile keys (empty url omitted)")
        check_eq((d["username"], d["verified"], d["location"], d["public_metrics"]["media_count"]),
                 ("alice", True, "Moon", 4), "profile values")
        bob, _ = run(w, {"type": "twitter", "arguments": {"type": "getprofilebyid", "query": "43"}})
        check("location" not in bob["data"] and bob["data"]["public_metrics"]["tweet_count"] == 0,
              "bob: no location, zero counts: %r" % bob)
        check_eq(run_fails(w, {"type": "twitter-api", "arguments": {"type": "getbyid",
                                                                    "query": "5"}}),
                 "tweet not found", "missing tweet")
        check_eq(run_fails(w, {"type": "twitter-api", "arguments": {"type": "getprofilebyid",
                                                                    "query": "5"}}),
                 "user not found", "missing user")
        fake.user_reply = (200, b'{"errors":[{"message":"x"}]}')
        check_eq(run_fails(w, {"type": "twitter-api", "arguments": {"type": "getprofilebyid",
                                                                    "query": "42"}}),
                 "X API profile lookup: API error: x", "errors-only answer")
        _, stats = caps_and_stats(w)
        check_eq((stats.get("twitter_returned_tweets"), stats.get("twitter_returned_profiles"),
                  stats.get("twitter_errors")), (2, 2, 3), "lookup stats")


def test_rate_limit_rotation_and_cooldown():
    with XApiFake() as fake:
        fake.key_modes.update({"k1": "ratelimited", "k2": "basic"})
        with Worker(env=fake.worker_env(["k1", "k2"])) as w:
            fake.clear()
            data, _ = run(w, search({"query": "nasa", "max_results": 10}))
            check_eq(len(data), 10, "served by the second key")
            check_eq([c["key"] for c in fake.calls()], ["k1", "k2"], "429 then the next key")
            data, _ = run(w, search({"query": "nasa", "max_results": 10}))
            check_eq([c["key"] for c in fake.calls()], ["k1", "k2", "k2"],
                     "the rate-limited key cools down (not asked again)")
            fake.key_modes["k2"] = "ratelimited"
            err = run_fails(w, search({"query": "nasa", "max_results": 10}))
            check("429" in err and "rate limited" in err, "all keys rate limited: %r" % err)
            check_eq(run_fails(w, search({"query": "x", "max_results": 5}))[:18],
                     "no usable X API ke",
                     "no key free: no request")
            check_eq(len(fake.calls()), 4, "no request while both keys cool down")
            _, stats = caps_and_stats(w)
            check_eq(stats.get("twitter_ratelimit_errors"), 2, "twitter_ratelimit_errors")
            check_eq(stats.get("twitter_auth_errors"), 1, "twitter_auth_errors (no usable key)")
            check("cooling down for 1" in w.stderr(), "cool-down from x-rate-limit-reset logged")


def test_rate_limit_is_per_endpoint():
    """X API v2 counts its windows per endpoint and key: the user lookups that fill in usernames
    running out (429) must not keep the key from searches and tweet lookups."""
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        fake.include_users = False
        fake.user_reply = (429, b'{"title":"Too Many Requests"}')
        data, _ = run(w, search({"query": "nasa", "max_results": 20}))
        check_eq(len(data), 20, "search served; usernames unknown")
        check_eq(len(fake.calls("user")), 1, "one user lookup, then that endpoint rests")
        data, _ = run(w, search({"query": "nasa", "max_results": 5}))
        check_eq(len(data), 5, "the key still searches")
        tweet, _ = run(w, {"type": "twitter-api", "arguments": {
            "type": "getbyid", "query": str(BIG_BASE + 3)}})
        check_eq(tweet["id"], BIG_BASE + 3, "the key still looks tweets up")
        check_eq(len(fake.calls("user")), 1, "no user lookup while that endpoint rests")
        err = run_fails(w, {"type": "twitter-api", "arguments": {
            "type": "getprofilebyid", "query": "42"}})
        check("rate limited" in err, "user lookups wait: %r" % err)


def test_partial_result_on_mid_paging_429():
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        fake.tweets = [make_tweet(i) for i in range(150)]
        fake.fail_at_offset[100] = (429, b'{"title":"Too Many Requests"}',
                                    {"x-rate-limit-reset": "1"})
        data, cursor = run(w, search({"query": "nasa", "max_results": 150}))
        check_eq([t["id"] for t in data], [BIG_BASE + i for i in range(100)], "partial result")
        check_eq(cursor, "p100", "cursor points at the refused page")
        err = run_fails(w, search({"query": "nasa", "max_results": 20}))
        check("rate limited" in err, "next job: key cooling down: %r" % err)
        check_eq(len(fake.calls("search/recent")), 2, "no request while cooling down")


def test_repeating_next_token_ends_the_search():
    """A hostile or broken X that hands back a next_token already followed (the same one, or a
    cycle) must not make the search loop until max_results or the deadline with the same tweets
    again: each tweet is returned once and the search stops when the token repeats."""
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        fake.tweets = [make_tweet(i) for i in range(10)]
        page = {"data": fake.tweets, "meta": {"result_count": 10, "next_token": "same"}}
        fake.search_reply = (200, json.dumps(page).encode())
        data, cursor = run(w, search({"query": "nasa", "max_results": 500}))
        check_eq([t["id"] for t in data], [BIG_BASE + i for i in range(10)], "each tweet once")
        check_eq(cursor, None, "no cursor into the loop")
        check_eq(len(fake.calls("search/recent")), 2, "stopped when next_token came back")
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        # offset 0 -> p100 -> (the same hundred tweets) p0 -> p100 ...: a cycle of two tokens
        fake.tweets = [make_tweet(i) for i in range(200)]
        again = {"data": fake.tweets[:100], "meta": {"result_count": 100, "next_token": "p0"}}
        fake.fail_at_offset[100] = (200, json.dumps(again).encode(), {})
        data, cursor = run(w, search({"query": "nasa", "max_results": 500}))
        check_eq([t["id"] for t in data], [BIG_BASE + i for i in range(100)], "each tweet once")
        check_eq(cursor, None, "no cursor into the cycle")
        check(len(fake.calls("search/recent")) <= 4, "the cycle is left: %d requests"
              % len(fake.calls("search/recent")))


def test_bad_key_marked_and_rotated():
    with XApiFake() as fake:
        fake.key_modes.update({"kbad": "bad", "kgood": "basic"})
        with Worker(env=fake.worker_env(["kbad", "kgood"])) as w:
            fake.clear()
            tweet, _ = run(w, {"type": "twitter-api", "arguments": {
                "type": "getbyid", "query": str(BIG_BASE)}})
            check_eq(tweet["id"], BIG_BASE, "served by the good key")
            run(w, {"type": "twitter-api", "arguments": {"type": "getbyid", "query": str(BIG_BASE)}})
            check_eq([c["key"] for c in fake.calls()], ["kbad", "kgood", "kgood"],
                     "the bad key is not used again")
            check("key #1 rejected by X (HTTP 401)" in w.stderr(), "bad key logged")
            check("kbad" not in w.stderr(), "the key itself never reaches the log")
    with XApiFake() as fake:
        fake.key_modes["kbad"] = "bad"
        with Worker(env=fake.worker_env(["kbad"])) as w:
            err = run_fails(w, search({"query": "nasa", "max_results": 10}, kind="twitter"))
            check("HTTP 401" in err and "marked bad" in err, "401 reason: %r" % err)


def test_upstream_failures_reach_the_user():
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        cases = [
            ((503, b"upstream down"), "unexpected status code 503: upstream down"),
            ((200, b'{"data":[{"id":"1"'), "X API search: failed to unmarshal response: "),
            ((200, b'{"data":[{"id":"12x","text":"t"}]}'),
             "X API search: failed to parse tweet ID '12x' from twitterx: strconv.ParseInt: "
             "parsing \"12x\": invalid syntax"),
            ((200, b'{"data":[{"id":"1","text":5}]}'), "X API search: failed to unmarshal "),
            ((200, b'{"data":[{"id":"1","created_at":"yesterday"}]}'),
             "X API search: failed to unmarshal "),
        ]
        for reply, want in cases:
            fake.search_reply = reply
            err = run_fails(w, search({"query": "nasa", "max_results": 10}))
            check(err.startswith(want), "%r: expected %r, got %r" % (reply, want, err))
        fake.search_reply = (200, b'{"meta":{"result_count":0}}')
        data, cursor = run(w, search({"query": "nasa", "max_results": 10}))
        check_eq((data, cursor), ([], None), "empty search result")
        fake.tweet_reply = (500, b"boom")
        err = run_fails(w, {"type": "twitter-api", "arguments": {"type": "getbyid", "query": "1"}})
        check_eq(err, "API tweet lookup failed with status: 500, body: boom", "tweet lookup 500")
        _, stats = caps_and_stats(w)
        check_eq(stats.get("twitter_errors"), 6, "twitter_errors")
        w.healthy("hostile answers")


def test_quoted_answer_cut_on_a_character_boundary():
    """X's answer quoted inside a job error is cut on a character boundary: a cut inside a UTF-8
    character ended the error there (the reply stops at the first invalid byte), losing what
    follows: that the key was marked bad and why no other key is usable."""
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        fake.search_reply = (401, ("a" + "\u00e9" * 40).encode("utf-8"))
        err = run_fails(w, search({"query": "nasa", "max_results": 10}))
        check("and marked bad; no usable X API key: 1 configured" in err,
              "the whole error reaches the user: %r" % err)


def test_invalid_utf8_in_an_answer_becomes_u_fffd():
    """A byte of X's answer that is not part of a valid UTF-8 character reaches the job error as
    \\ufffd, one per byte, as Go's encoder writes it (core-protocol.md 1), and the text after it
    stays: the error used to end at the first such byte."""
    with XApiFake() as fake, Worker(env=fake.worker_env(["k1"])) as w:
        fake.tweet_reply = (500, b"bo\xff\xc3om \xe2\x82\xac")
        uid = w.add(w.generate({"type": "twitter-api", "arguments": {"type": "getbyid",
                                                                     "query": "1"}}))
        r = w.wait_status(uid, timeout=20)
        err = expect_json_error(r, 500, "failed lookup")["error"]
        check_eq(err, "API tweet lookup failed with status: 500, body: bo\ufffd\ufffdom \u20ac",
                 "error text")
        check(b"bo\\ufffd\\ufffdom \xe2\x82\xac\"" in r.body, "written as Go writes it: %r"
              % r.body)
        fake.search_reply = (401, b"\x80key revoked")
        err = run_fails(w, search({"query": "nasa", "max_results": 10}))
        check("(HTTP 401: \ufffdkey revoked) and marked bad" in err, "401 reason: %r" % err)


if __name__ == "__main__":
    import harness
    harness.main(globals())
