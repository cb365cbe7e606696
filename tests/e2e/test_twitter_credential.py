#!/usr/bin/env python3
"""test_twitter_credential.py - the credential backend (`twitter-credential` and the `twitter`
kind's routing to it) against a local fake of the X web client API (twitter.md 3, 5, 8, 10.1;
twitter-modern.md 2-4; DECISIONS.md "Twitter").

Checks: capabilities only with accounts; the request envelope on every GraphQL call (bearer,
cookies, x-csrf-token = ct0 including after X rotates ct0, a transaction id the fake verifies
byte for byte, browser headers; see fakes/twitter_web_fake.py); cookie-file accounts and the Go
worker's cookie files; search with max_results and X-Next-Cursor paging; the other fourteen
operations and their result shapes; rate limits (429 + x-rate-limit-reset, and a spent window
announced by x-rate-limit-remaining 0) cooling one account for one operation while the job moves
to the next account; the password login flow with an alternate-identifier challenge and a TOTP
step; a wrong password and a denied login marking the account bad (an overloaded X, 5xx, not);
expired cookies (401) re-logging in; cookies persisted sealed across a restart; TWITTER_SKIP_LOGIN_VERIFICATION;
locked accounts; malformed timelines; an answer too costly to decode; a 404 rebuilding the transaction id then switching
GET/POST; Cloudflare blocks; a redirect of the home page to a private address not followed
(unless WEBSCRAPER_ALLOW_PRIVATE); a cursor cycle left with each item once; the per-account
concurrency bound; the number of accounts one job tries; the job deadline; the stats; Set-Cookies
scoped to domains the answering host does not match ignored; a refused session judged by the
auth_token the request carried."""
import json
import os
import re
import time

import harness
from harness import Worker, check, check_eq, expect_status, mkdtemp
from fakes.twitter_web_fake import (BIG, REDIRECT_TARGET, TwitterWebFake, cursor_entry, timeline,
                                    tweet, tweet_entry)

ALL_OPS = sorted([
    "searchbyquery", "searchbyfullarchive", "searchbyprofile", "getbyid", "getreplies",
    "getretweeters", "gettweets", "getmedia", "gethometweets", "getforyoutweets",
    "getprofilebyid", "gettrends", "getfollowing", "getfollowers", "getspace"])


def job(op, query="", kind="twitter-credential", **args):
    a = {"type": op, "query": query}
    a.update(args)
    return {"type": kind, "arguments": a}


def run(w, j):
    """The four-step flow; returns (decoded data, next cursor text or None)."""
    body, cursor = w.run_paged_job(j, timeout=30)
    return json.loads(body.decode("utf-8")), cursor


def run_fails(w, j):
    """Runs j, expects the job to fail; returns the error text."""
    return w.run_failing_job(j, timeout=30)


def caps_and_stats(w):
    return w.capabilities_and_stats()


def cookie_file(fake, names):
    """A cookie file (JSON, name -> browser export) with a live fake session per name."""
    path = os.path.join(mkdtemp("tw-cookies-"), "cookies.json")
    doc = {}
    for n in names:
        auth, ct0 = fake.add_session(n)
        doc[n] = [{"name": "auth_token", "value": auth, "domain": ".x.com"},
                  {"name": "ct0", "value": ct0, "domain": ".x.com"},
                  {"name": "lang", "value": "en", "domain": "x.com"}]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return path


def no_violations(fake):
    check_eq(fake.violations, [], "requests the fake refused")


def tweet_ids(tweets):
    return [t["id"] for t in tweets]


# ---------------------------------------------------------------------------------------------


def test_capabilities_only_with_accounts():
    with TwitterWebFake() as fake:
        with Worker(env=fake.worker_env()) as w:
            caps, _ = caps_and_stats(w)
            check("twitter-credential" not in caps, "no accounts, yet: %r" % caps)
            r = w.post("/job/generate", json_body=job("searchbyquery", "x"))
            check(r.status == 400, "twitter-credential without accounts: %s" % r.describe())
        with Worker(env=fake.worker_env(cookies_file=cookie_file(fake, ["carol"]))) as w:
            caps, _ = caps_and_stats(w)
            check_eq(sorted(caps.get("twitter-credential", [])), ALL_OPS, "credential caps")
            check_eq(sorted(caps.get("twitter", [])), ALL_OPS, "twitter caps with accounts")


def test_oversized_cursor_does_not_break_status():
    """A next cursor is whatever X sends. One too large for a response header (MHD builds the
    headers in the connection's 16 KiB memory) must not cost the result: /job/status answers 200
    without X-Next-Cursor, and the result opens. A cursor of ordinary size still travels."""
    with TwitterWebFake() as fake:
        env = fake.worker_env(cookies_file=cookie_file(fake, ["carol"]))
        with Worker(env=env) as w:
            fake.cursor_padding = "x" * 20000
            data, cursor = run(w, job("searchbyquery", "nasa", max_results=20))
            check_eq(len(data), 20, "tweets of the page whose cursor is oversized")
            check_eq(cursor, None, "X-Next-Cursor of an oversized cursor is left out")
            fake.cursor_padding = "y" * 3000
            data, cursor = run(w, job("searchbyquery", "nasa", max_results=20))
            check_eq(cursor, "c20" + "y" * 3000, "a 3 KB cursor still travels in X-Next-Cursor")
            w.healthy("after an oversized cursor")


def test_search_paging_and_envelope():
    with TwitterWebFake() as fake:
        env = fake.worker_env(cookies_file=cookie_file(fake, ["carol"]))
        with Worker(env=env) as w:
            data, cursor = run(w, job("searchbyquery", "nasa OR \"mars rover\"", max_results=20))
            check_eq(tweet_ids(data), [BIG + i for i in range(1, 21)], "page 1 ids (exact int64)")
            check_eq(cursor, "c20", "X-Next-Cursor after page 1")
            t = data[0]
            check_eq(t["tweet_id"], str(BIG + 1), "tweet_id")
            check_eq(t["username"], "alice", "username from core.screen_name")
            check_eq(t["user_id"], "42", "user_id")
            check_eq(t["text"], "tweet 1 #tag", "text")
            check_eq(t["hashtags"], ["tag"], "hashtags")
            check_eq(t["views"], 11, "views from views.count")
            check_eq(t["likes"], 1, "likes")
            calls = fake.calls("SearchTimeline")
            check_eq(len(calls), 1, "one SearchTimeline call")
            check_eq(calls[0]["method"], "POST", "search is POSTed")
            check_eq(calls[0]["query_id"], "BGd0T_j7oVwlW5U79tO_0A", "default query id")
            v = calls[0]["variables"]
            check_eq((v["rawQuery"], v["product"], v["count"]),
                     ("nasa OR \"mars rover\"", "Latest", 20), "search variables")

            data, cursor = run(w, job("searchbyquery", "nasa", max_results=20, next_cursor="c20"))
            check_eq(tweet_ids(data), [BIG + i for i in range(21, 41)], "page 2 ids")
            check_eq(cursor, "c40", "X-Next-Cursor after page 2")
            check_eq(fake.calls("SearchTimeline")[-1]["variables"]["cursor"], "c20", "cursor sent")
            data, cursor = run(w, job("searchbyquery", "nasa", max_results=20, next_cursor="c40"))
            check_eq(tweet_ids(data), [BIG + i for i in range(41, 46)], "last page ids")
            check_eq(cursor, None, "no cursor at the end")

            # max_results above X's page cap: several pages in one job
            data, cursor = run(w, job("searchbyquery", "nasa", max_results=45))
            check_eq(len(data), 45, "45 tweets over two pages")
            counts = [c["variables"]["count"] for c in fake.calls("SearchTimeline")[3:]]
            check_eq(counts, [45], "one page of 45 (page cap 50)")
            data, _ = run(w, job("searchbyquery", "nasa", max_results=70))
            check_eq(len(data), 45, "all 45 tweets, then X has no more")
            counts = [c["variables"]["count"] for c in fake.calls("SearchTimeline")[4:]]
            check_eq(counts, [50], "a page of min(remaining, 50); X then sends no further cursor")

            stale = [c["stale_ct0"] for c in fake.calls()]
            check_eq(stale, [False] * len(stale), "the rotated ct0 is sent after the rotation")
            # the `twitter` kind routes search to the credential backend
            data, _ = run(w, job("searchbyquery", "nasa", kind="twitter", max_results=3))
            check_eq(len(data), 3, "twitter kind search")
            check_eq(fake.settings_calls, 1, "cookies checked once (skip verification off)")
            check_eq(len(fake.home_fetches), 1, "transaction-id page fetched once")
            check(fake.home_fetches[0] and fake.home_fetches[0].startswith("auth-carol"),
                  "home page fetched with the account's cookies: %r" % fake.home_fetches)
            _, stats = caps_and_stats(w)
            check_eq(stats.get("twitter_scrapes"), 6, "scrapes, one per job")
            check_eq(stats.get("twitter_returned_tweets"), 20 + 20 + 5 + 45 + 45 + 3,
                     "returned tweets")
        no_violations(fake)


def test_every_operation():
    with TwitterWebFake() as fake:
        env = fake.worker_env(cookies_file=cookie_file(fake, ["carol"]))
        with Worker(env=env) as w:
            p, cursor = run(w, job("searchbyprofile", "NASA"))
            check_eq((p["Username"], p["Name"], p["UserID"]), ("NASA", "NASA", "40"), "profile")
            check_eq((p["FollowersCount"], p["FollowingCount"], p["TweetsCount"]),
                     (1000, 20, 500), "profile counts (FollowingCount fixed)")
            check_eq(p["Biography"], "bio of NASA", "Biography")
            check_eq(cursor, None, "no cursor for a profile")
            p, _ = run(w, job("getprofilebyid", "42"))
            check_eq(p["Username"], "alice", "getprofilebyid")
            err = run_fails(w, job("getprofilebyid", "999"))
            check("suspended" in err, "unavailable user: %r" % err)
            err = run_fails(w, job("searchbyprofile", "nobody"))
            check("not found" in err or "does not exist" in err, "unknown user: %r" % err)

            t, _ = run(w, job("getbyid", str(BIG + 7)))
            check_eq((t["id"], t["text"], t["username"]), (BIG + 7, "tweet 7 #tag", "alice"),
                     "getbyid")
            check_eq(fake.calls("TweetDetail")[-1]["variables"]["focalTweetId"], str(BIG + 7),
                     "focalTweetId")

            replies, cursor = run(w, job("getreplies", str(BIG + 7), max_results=8))
            check_eq(tweet_ids(replies), [BIG + 500 + i for i in range(8)],
                     "replies over two pages, focal tweet excluded")
            check_eq(cursor, None, "replies exhausted")

            rts, cursor = run(w, job("getretweeters", str(BIG + 7), max_results=5))
            check_eq([u["UserID"] for u in rts], [str(50 + i) for i in range(5)], "retweeters")
            check_eq(cursor, "c5", "retweeters cursor")
            rts, cursor = run(w, job("getretweeters", str(BIG + 7), max_results=50,
                                     next_cursor="c5"))
            check_eq(len(rts), 7, "rest of the retweeters")
            check_eq(cursor, None, "0| cursor means the end")

            tw, cursor = run(w, job("gettweets", "alice", max_results=25))
            check_eq(tweet_ids(tw), [BIG + 100 + i for i in range(25)], "gettweets")
            check_eq(cursor, "c25", "gettweets cursor")
            check_eq(fake.calls("UserTweets")[-1]["variables"]["userId"], "42", "userId resolved")
            tw, cursor = run(w, job("gettweets", "alice", max_results=25, next_cursor=cursor))
            check_eq(len(tw), 5, "gettweets page 2")
            check_eq(len(fake.calls("UserByScreenName")), 3, "screen name resolved once (cached)")

            media, _ = run(w, job("getmedia", "alice", max_results=6))
            check_eq(len(media), 6, "getmedia count")
            check(all(m["photos"] or m["videos"] for m in media), "only media tweets")
            vids = [m for m in media if m["videos"]]
            check(vids and vids[0]["videos"][0]["url"].endswith(".mp4"), "video url: %r" % vids)

            fol, cursor = run(w, job("getfollowers", "alice", max_results=10))
            check_eq(len(fol), 10, "followers page")
            check_eq(cursor, "c10", "followers cursor")
            fol, cursor = run(w, job("getfollowers", "alice", max_results=100, next_cursor=cursor))
            check_eq(len(fol), 15, "rest of the followers")
            check_eq(cursor, None, "followers end")
            fing, _ = run(w, job("getfollowing", "alice", max_results=100))
            check_eq(len(fing), 7, "following")
            check_eq(fing[0]["Username"], "user10", "following profile")

            home, cursor = run(w, job("gethometweets", max_results=5))
            check_eq(len(home), 5, "home tweets")
            check_eq(fake.calls("HomeLatestTimeline")[-1]["method"], "POST", "home POSTed")
            fy, _ = run(w, job("getforyoutweets", max_results=13))
            check_eq(len(fy), 13, "for-you tweets incl. the visibility-wrapped one")
            check(BIG + 399 in tweet_ids(fy), "visibility-wrapped tweet unwrapped")

            fa, cursor = run(w, job("searchbyfullarchive", "nasa", max_results=2))
            check_eq((tweet_ids(fa), cursor), ([BIG + 1, BIG + 2], "c2"),
                     "searchbyfullarchive is accepted and runs a Latest search")
            trends, _ = run(w, job("gettrends"))
            check_eq(trends, ["#Alpha", "Beta", "#Gamma"], "trends")
            space, _ = run(w, job("getspace", "1AbCdEfGh"))
            check_eq((space["ID"], space["Title"], space["State"]),
                     ("1AbCdEfGh", "Space talk", "Running"), "space")
            err = run_fails(w, job("getspace", "nope"))
            check("not found" in err, "missing space: %r" % err)

            _, stats = caps_and_stats(w)
            check_eq(stats.get("twitter_returned_profiles"), 2 + 5 + 7 + 10 + 15 + 7,
                     "profiles counted")
            check_eq(stats.get("twitter_returned_other"), 6 + 3 + 1, "media, trends, space")
        no_violations(fake)


def test_scrapes_per_page_of_paginated_operations():
    """twitter_scrapes counts one per operation call (twitter.md 4, jobs-and-capabilities.md 4):
    one per page for gettweets, getmedia and the home timelines, which Go's pager makes one call
    each (the screen-name lookup belongs to the first page's call), and one per job for searches
    and the other operations, however many X pages they fetch."""
    with TwitterWebFake() as fake:
        fake.page_cap = 4
        env = fake.worker_env(cookies_file=cookie_file(fake, ["carol"]))
        with Worker(env=env) as w:
            want = 0
            for op, query, n, gql in [("gettweets", "alice", 10, "UserTweets"),
                                      ("gettweets", "alice", 9, "UserTweets"),   # id cached
                                      ("getmedia", "alice", 6, "UserMedia"),
                                      ("gethometweets", "", 5, "HomeLatestTimeline"),
                                      ("getforyoutweets", "", 5, "HomeTimeline")]:
                before = len(fake.calls(gql))
                data, _ = run(w, job(op, query, max_results=n))
                check_eq(len(data), n, op)
                pages = len(fake.calls(gql)) - before
                check(pages >= 2, "%s: %d pages, the test wants several" % (op, pages))
                want += pages
            check_eq(len(fake.calls("UserByScreenName")), 1, "one screen-name lookup")
            for op, query, gql in [("searchbyquery", "nasa", "SearchTimeline"),
                                   ("getfollowers", "alice", "Followers"),
                                   ("getretweeters", str(BIG + 7), "Retweeters")]:
                before = len(fake.calls(gql))
                run(w, job(op, query, max_results=10))
                check(len(fake.calls(gql)) - before >= 2, "%s over several pages" % op)
                want += 1
            _, stats = caps_and_stats(w)
            check_eq(stats.get("twitter_scrapes"), want, "twitter_scrapes")
        no_violations(fake)


def test_empty_reply_and_profile_lists_are_null():
    """jobs-and-capabilities.md 3.4 and twitter.md 8.6: when nothing is found, getreplies,
    getretweeters, gettrends and the credential getfollowers/getfollowing give null (Go's nil
    list), while searches and the paginated timelines give []."""
    with TwitterWebFake() as fake:
        env = fake.worker_env(cookies_file=cookie_file(fake, ["jack"]))
        with Worker(env=env) as w:
            fake.follow_users = []
            fake.search_tweets = []
            fake.timeline_tweets = []
            fake.trends = []
            for op, query in [("getreplies", "1"), ("getretweeters", str(BIG + 7)),
                              ("getfollowers", "alice"), ("getfollowing", "alice"),
                              ("gettrends", "")]:
                data, cursor = run(w, job(op, query, max_results=5))
                check_eq((data, cursor), (None, None), "%s with nothing found" % op)
            _, stats = caps_and_stats(w)
            check_eq(stats.get("twitter_returned_other", 0), 0, "no trend counted")
            for op, query in [("searchbyquery", "nothing"), ("gettweets", "alice")]:
                data, cursor = run(w, job(op, query, max_results=5))
                check_eq((data, cursor), ([], None), "%s with nothing found" % op)
        no_violations(fake)


def test_search_with_max_results_0_is_empty():
    """jobs-and-capabilities.md 2.5 and twitter.md 5.10: a search's max_results is its target and
    0 gives an empty result without any request (as the API-key backend does)."""
    with TwitterWebFake() as fake:
        env = fake.worker_env(cookies_file=cookie_file(fake, ["jack"]))
        with Worker(env=env) as w:
            for op in ("searchbyquery", "searchbyfullarchive"):
                data, cursor = run(w, job(op, "nasa"))
                check_eq((data, cursor), ([], None), "%s without max_results" % op)
                data, cursor = run(w, job(op, "nasa", kind="twitter", max_results=0))
                check_eq((data, cursor), ([], None), "twitter %s with max_results 0" % op)
            check_eq(fake.calls("SearchTimeline"), [], "no search request for a target of 0")
        no_violations(fake)


def test_rate_limit_cools_one_account_for_one_operation():
    with TwitterWebFake() as fake:
        fake.rate_limited["carol"] = {"SearchTimeline"}
        env = fake.worker_env(cookies_file=cookie_file(fake, ["carol", "dave"]))
        with Worker(env=env) as w:
            users = []
            for _ in range(3):
                data, _ = run(w, job("searchbyquery", "q", max_results=2))
                check_eq(len(data), 2, "search served despite the rate limit")
            users = [c["user"] for c in fake.calls("SearchTimeline") if c["status"] == 200]
            limited = [c for c in fake.calls("SearchTimeline") if c["user"] == "carol"]
            check_eq(len(limited), 1, "carol asked once, then cooling down: %r" % limited)
            check_eq(users, ["dave"] * 3, "dave serves the searches")
            # carol still serves other operations
            for _ in range(2):
                run(w, job("searchbyprofile", "NASA"))
            check("carol" in [c["user"] for c in fake.calls("UserByScreenName")],
                  "carol is not cooled for profiles")
            fake.rate_limited["dave"] = {"*"}
            err = run_fails(w, job("searchbyquery", "q", max_results=2))
            check("rate limited" in err, "every account rate limited: %r" % err)
            check(re.search(r"account carol rate limited on SearchTimeline; cooling down for "
                            r"(59\d|600) s", w.stderr()), "cool-down from x-rate-limit-reset")
            _, stats = caps_and_stats(w)
            check_eq(stats.get("twitter_ratelimit_errors"), 2, "rate-limit events counted")
            check(w.stderr().count("rate limited on SearchTimeline") >= 2, "log lines")
        no_violations(fake)


def test_spent_window_moves_on_without_a_429():
    with TwitterWebFake() as fake:
        fake.exhausted["pia"] = {"SearchTimeline"}
        env = fake.worker_env(cookies_file=cookie_file(fake, ["pia", "quinn"]))
        with Worker(env=env) as w:
            for _ in range(3):
                data, _ = run(w, job("searchbyquery", "q", max_results=2))
                check_eq(len(data), 2, "search")
            users = [c["user"] for c in fake.calls("SearchTimeline")]
            check_eq(users, ["pia", "quinn", "quinn"], "pia's spent window is respected")
            check_eq([c["status"] for c in fake.calls("SearchTimeline")], [200] * 3, "no 429")
            check(re.search(r"account pia rate limited on SearchTimeline; cooling down for "
                            r"(29\d|300) s", w.stderr()), "cool-down until x-rate-limit-reset")
        no_violations(fake)


def test_cool_down_is_per_graphql_operation():
    """X counts its windows per GraphQL operation: a spent UserByScreenName window (the last
    allowed call, answered 200 with x-rate-limit-remaining 0) must not keep the same job's
    UserTweets call off that account, and must keep the next searchbyprofile (UserByScreenName
    too) off it."""
    with TwitterWebFake() as fake:
        fake.exhausted["rosa"] = {"UserByScreenName"}
        env = fake.worker_env(cookies_file=cookie_file(fake, ["rosa"]))
        with Worker(env=env) as w:
            data, _ = run(w, job("gettweets", "NASA", max_results=3))
            check_eq(len(data), 3, "gettweets served by the one account")
            check_eq([c["user"] for c in fake.calls("UserTweets")], ["rosa"], "UserTweets asked")
            err = run_fails(w, job("searchbyprofile", "alice"))
            check("rate limited" in err and "UserByScreenName" in err,
                  "profile lookups wait for the spent window: %r" % err)
            check_eq(len(fake.calls("UserByScreenName")), 1, "no request into a spent window")
            check(re.search(r"account rosa rate limited on UserByScreenName; cooling down for "
                            r"(29\d|300) s", w.stderr()), "cool-down logged per operation")
        no_violations(fake)


def test_cursor_cycle_ends_the_paging():
    """X (or something in its place) answering a Bottom cursor already followed, here A -> B ->
    A, with the same tweets each time: the pager returns each tweet once and leaves the cycle
    instead of fetching until max_results or the deadline."""
    with TwitterWebFake() as fake:
        same = [tweet_entry(tweet(i)) for i in range(1, 6)]
        nxt = {"": "A", "A": "B", "B": "A"}

        def answer(op, v):
            if op != "SearchTimeline":
                return TwitterWebFake.answer(fake, op, v)
            return {"data": {"search_by_raw_query": {"search_timeline": timeline(
                same + [cursor_entry(nxt[v.get("cursor") or ""])])}}}
        fake.answer = answer
        env = fake.worker_env(cookies_file=cookie_file(fake, ["sam"]))
        with Worker(env=env) as w:
            data, cursor = run(w, job("searchbyquery", "q", max_results=40))
            check_eq(tweet_ids(data), [BIG + i for i in range(1, 6)], "each tweet once")
            check_eq(cursor, None, "no cursor into the cycle")
            calls = [c["variables"].get("cursor") for c in fake.calls("SearchTimeline")]
            check(len(calls) <= 4, "the cycle is left: %r" % calls)
        no_violations(fake)


def test_login_flow_with_challenge_totp_and_wrong_password():
    with TwitterWebFake() as fake:
        secret = "JBSWY3DPEHPK3PXP"
        fake.accounts["erin"] = {"password": "pw-erin", "challenge": True, "totp": secret}
        fake.accounts["frank"] = {"password": "right"}
        env = fake.worker_env(accounts=["frank:wrong", "erin:pw-erin:" + secret])
        with Worker(env=env) as w:
            for _ in range(2):
                data, _ = run(w, job("searchbyquery", "q", max_results=3))
                check_eq(len(data), 3, "search after login")
            steps = [c.get("subtask_inputs", [{}])[0].get("subtask_id") for c in fake.flow_calls]
            for s in ("LoginEnterAlternateIdentifierSubtask", "LoginTwoFactorAuthChallenge",
                      "LoginEnterPassword"):
                check(s in steps, "%s answered: %r" % (s, steps))
            users = {c["user"] for c in fake.calls("SearchTimeline")}
            check_eq(users, {"erin"}, "only erin's session is used")
            logins = [c for c in fake.flow_calls if "input_flow_data" in c]
            check_eq(len(logins), 2, "one login per account, sessions reused across jobs")
            check("account frank marked bad" in w.stderr() and "Wrong password" in w.stderr(),
                  "wrong password logged: %s" % w.stderr()[-2000:])
            _, stats = caps_and_stats(w)
            check(stats.get("twitter_auth_errors", 0) >= 1, "auth error counted: %r" % stats)
        no_violations(fake)


def test_denied_login_is_reported():
    with TwitterWebFake() as fake:
        fake.accounts["paul"] = {"password": "pw", "deny": True}
        with Worker(env=fake.worker_env(accounts=["paul:pw"])) as w:
            err = run_fails(w, job("searchbyquery", "q", max_results=1))
            check("DenyLoginSubtask" in err and "blocked an attempt" in err,
                  "denied login reaches the user: %r" % err)
            check("account paul marked bad" in w.stderr(), "denied account logged")
            check_eq(fake.calls("SearchTimeline"), [], "no search without a session")
        no_violations(fake)


def test_guest_token_that_cannot_be_a_header_is_refused():
    """The guest token of activate.json goes out as the x-guest-token header (and the gt
    cookie): one holding CR LF would add headers of the answer's choosing to the login flow's
    requests. It is refused as unusable, and no login step is sent with it."""
    with TwitterWebFake() as fake:
        fake.accounts["gus"] = {"password": "pw"}
        fake.guest_token_suffix = "\r\nX-Injected: 1"
        with Worker(env=fake.worker_env(accounts=["gus:pw"])) as w:
            err = run_fails(w, job("searchbyquery", "q", max_results=1))
            check("guest token activation failed" in err, "the refusal reaches the user: %r" % err)
            check_eq(fake.flow_calls, [], "no login step with that guest token")
        no_violations(fake)


def test_rate_limited_login_cools_down_not_bad():
    """X answering the login flow with 429 / code 88 is a spent window, not a refused login:
    the account cools down until x-rate-limit-reset and logs in on a later job; it is not marked
    bad until restart."""
    with TwitterWebFake() as fake:
        fake.accounts["gina"] = {"password": "pw"}
        fake.login_rate_limited = 1
        fake.login_reset_in = 2
        with Worker(env=fake.worker_env(accounts=["gina:pw"])) as w:
            err = run_fails(w, job("searchbyquery", "q", max_results=1))
            check("rate limit" in err, "the rate-limited login reaches the user: %r" % err)
            check("marked bad" not in w.stderr(), "a rate limit is not a refusal:\n%s"
                  % w.stderr())
            time.sleep(2.5)
            data, _ = run(w, job("searchbyquery", "q", max_results=1))
            check_eq(len(data), 1, "logged in once the window reset")
        no_violations(fake)


def test_overloaded_login_is_not_a_refusal():
    """X answering the login flow with a 5xx and an errors body ("Over capacity", code 130) is
    X's trouble, not a refused login: the job fails with the reason, the account is not marked
    bad until restart, and the next job logs in."""
    with TwitterWebFake() as fake:
        fake.accounts["gina"] = {"password": "pw"}
        fake.login_overloaded = 1
        with Worker(env=fake.worker_env(accounts=["gina:pw"])) as w:
            err = run_fails(w, job("searchbyquery", "q", max_results=1))
            check("Over capacity" in err, "X's reason reaches the user: %r" % err)
            check("gina" not in err, "the worker's account stays out of the job error: %r" % err)
            check("marked bad" not in w.stderr(), "an overloaded X is not a refusal:\n%s"
                  % w.stderr())
            data, _ = run(w, job("searchbyquery", "q", max_results=1))
            check_eq(len(data), 1, "logged in on the next job")
        no_violations(fake)


def test_a_job_tries_a_bounded_number_of_accounts():
    """A pool larger than the 64 accounts a job remembers trying, whose logins all fail for a
    reason that does not mark the account bad (X overloaded): the job gives up after trying each
    account once at most, instead of logging the accounts it could not remember in again and
    again until its deadline."""
    with TwitterWebFake() as fake:
        names = ["u%d" % i for i in range(70)]
        for n in names:
            fake.accounts[n] = {"password": "pw"}
        fake.login_overloaded = 10 ** 6
        env = fake.worker_env(accounts=[n + ":pw" for n in names],
                              extra={"JOB_TIMEOUT_SECONDS": "8"})
        with Worker(env=env) as w:
            err = run_fails(w, job("searchbyquery", "q", max_results=1))
            check(fake.guest_calls <= len(names), "at most one login per account and job, got "
                  "%d for %d accounts" % (fake.guest_calls, len(names)))
            check("Over capacity" in err, "the last login failure reaches the user: %r" % err)
        no_violations(fake)


def test_expired_cookies_relogin_and_persistence():
    with TwitterWebFake() as fake:
        fake.accounts["gina"] = {"password": "pw"}
        env = fake.worker_env(accounts=["gina:pw"])
        data_dir = mkdtemp("tw-data-")
        with Worker(env=env, data_dir=data_dir) as w:
            run(w, job("searchbyquery", "q", max_results=1))
            check_eq(len([c for c in fake.flow_calls if "input_flow_data" in c]), 1, "logged in")
            fake.expire("gina")
            data, _ = run(w, job("searchbyquery", "q", max_results=2))
            check_eq(len(data), 2, "search after the session expired")
            check_eq(len([c for c in fake.flow_calls if "input_flow_data" in c]), 2,
                     "logged in again after the 401")
            statuses = [c["status"] for c in fake.calls("SearchTimeline")]
            check_eq(statuses, [200, 401, 200], "401 then retried on the new session")
        with Worker(env=env, data_dir=data_dir) as w:
            run(w, job("searchbyquery", "q", max_results=1))
            check_eq(len([c for c in fake.flow_calls if "input_flow_data" in c]), 2,
                     "no new login after the restart: cookies restored from the sealed store")
            check(fake.settings_calls >= 1, "restored cookies checked")
        db = open(os.path.join(data_dir, "tee-worker.db"), "rb").read()
        check(b"auth-gina" not in db, "cookies are sealed, not stored in clear")
        no_violations(fake)


def test_cookies_set_for_other_domains_are_ignored():
    # RFC 6265 5.3 step 6: a Set-Cookie whose Domain the answering host (127.0.0.1 here) does not
    # domain-match never enters the account's jar: not on the login's answer, not on GraphQL's
    with TwitterWebFake() as fake:
        fake.accounts["gina"] = {"password": "pw"}
        fake.foreign_cookies = ["auth_token=planted; Domain=.x.com; Path=/; Secure",
                                "ct0=planted; Domain=evil.example; Path=/",
                                "planted=1; Domain=com; Path=/",
                                "planted_ip=1; Domain=0.0.1; Path=/"]
        env = fake.worker_env(accounts=["gina:pw"])
        with Worker(env=env) as w:
            for _ in range(2):
                data, _ = run(w, job("searchbyquery", "q", max_results=2))
                check_eq(len(data), 2, "search with foreign cookies in every answer")
            calls = fake.calls("SearchTimeline")
            check_eq([(c["status"], c["stale_ct0"]) for c in calls], [(200, False)] * 2,
                     "the session's own cookies (Domain=127.0.0.1, then a host-only ct0) taken")
            check_eq(len([c for c in fake.flow_calls if "input_flow_data" in c]), 1, "one login")
        no_violations(fake)


def test_each_expired_account_of_a_call_logs_in_again():
    # one call meets two expired sessions: gina's (logged in again, then rate limited) and then
    # hank's, which gets its own login too instead of being given up without one
    with TwitterWebFake() as fake:
        fake.accounts["gina"] = {"password": "pw"}
        fake.accounts["hank"] = {"password": "pw"}
        env = fake.worker_env(accounts=["gina:pw", "hank:pw"])
        with Worker(env=env) as w:
            for _ in range(2):                      # round robin: both accounts log in
                run(w, job("searchbyquery", "q", max_results=1))
            check_eq(len([c for c in fake.flow_calls if "input_flow_data" in c]), 2, "logins")
            fake.expire("gina")
            fake.expire("hank")
            fake.rate_limited["gina"] = {"SearchTimeline"}
            data, _ = run(w, job("searchbyquery", "q", max_results=2))
            check_eq(len(data), 2, "search after both sessions expired")
            check_eq([(c["user"], c["status"]) for c in fake.calls("SearchTimeline")][2:],
                     [(None, 401), ("gina", 429), (None, 401), ("hank", 200)],
                     "each expired account (its session no one's any more) logged in again, "
                     "then asked again")
            check_eq(len([c for c in fake.flow_calls if "input_flow_data" in c]), 4,
                     "one new login per expired account")
        no_violations(fake)


def hold_while_renewed(w, fake, holder_what):
    """A gettweets job takes gina's account and, while it waits between its two calls
    (UserByScreenName, delayed by the caller), gina's session expires and a search job meets the
    401 and renews it. Waits for both jobs; holder_what names the holder in a failure."""
    holder = w.add(w.generate(job("gettweets", "alice", max_results=5)))
    t0 = time.monotonic()
    while not fake.calls("UserByScreenName") and time.monotonic() - t0 < 10:
        time.sleep(0.02)
    fake.expire("gina")
    renewer = w.add(w.generate(job("searchbyquery", "q", max_results=1)))
    expect_status(w.wait_status(renewer, timeout=30), 200, "the job that met the 401")
    expect_status(w.wait_status(holder, timeout=30), 200, holder_what)


def test_shared_account_waits_for_a_renewed_session():
    # TWITTER_ACCOUNT_CONCURRENCY 2: a job holding the account between its two calls (gettweets:
    # UserByScreenName, then UserTweets) while another job renews the session X refused waits for
    # the new session instead of failing with "the account's session is gone"
    with TwitterWebFake() as fake:
        fake.accounts["gina"] = {"password": "pw"}
        env = fake.worker_env(accounts=["gina:pw"], extra={"TWITTER_ACCOUNT_CONCURRENCY": "2"})
        with Worker(env=env) as w:
            run(w, job("searchbyquery", "q", max_results=1))
            fake.delay["UserByScreenName"] = 1.5
            fake.flow_delay = 0.4
            hold_while_renewed(w, fake,
                               "the job that held the account while its session was renewed")
            check_eq([c["status"] for c in fake.calls("UserByScreenName")], [200],
                     "the holder's first call, on the old session")
            check_eq([c["status"] for c in fake.calls("UserTweets")], [200],
                     "its second call, on the new session")
            check_eq(len([c for c in fake.flow_calls if "input_flow_data" in c]), 2,
                     "one login for the renewal")
        no_violations(fake)


def test_a_refusal_is_judged_against_the_session_the_request_sent():
    # TWITTER_ACCOUNT_CONCURRENCY 2: a job holding the account between its two calls (gettweets:
    # UserByScreenName, then UserTweets) sends its second call with the session another job set
    # up meanwhile (the first one expired), and X refuses that new session in its answer. The
    # refusal concerns the session the request went out with: it is retired and the account logs
    # in again, rather than taken for the expired one (then "renewed by another job") and the
    # dead session asked again until the job gives the account up.
    with TwitterWebFake() as fake:
        fake.accounts["gina"] = {"password": "pw"}
        env = fake.worker_env(accounts=["gina:pw"], extra={"TWITTER_ACCOUNT_CONCURRENCY": "2"})
        with Worker(env=env) as w:
            run(w, job("searchbyquery", "q", max_results=1))
            fake.delay["UserByScreenName"] = 1.5
            fake.delay["UserTweets"] = 0.5        # the renewer's search is answered meanwhile
            fake.kill_on["UserTweets"] = 1
            fake.flow_delay = 0.6
            hold_while_renewed(w, fake,
                               "the job whose request went out with the session X then refused")
            logins = [c for c in fake.flow_calls if "input_flow_data" in c]
            check_eq(len(logins), 3, "a login for the expired session, one for the refused one")
            calls = fake.calls("UserTweets")
            check_eq([c["status"] for c in calls], [401, 200], "the holder's second call, "
                     "refused on the renewed session, then asked on a newer one")
            check(calls[0]["auth"] != calls[1]["auth"], "the refused session is not sent again")
        no_violations(fake)


def test_skip_verification_and_dead_cookie_account():
    with TwitterWebFake() as fake:
        env = fake.worker_env(cookies_file=cookie_file(fake, ["hank", "ivy"]),
                              extra={"TWITTER_SKIP_LOGIN_VERIFICATION": "true"})
        with Worker(env=env) as w:
            fake.expire("hank")
            for _ in range(2):
                data, _ = run(w, job("searchbyprofile", "NASA"))
                check_eq(data["Username"], "NASA", "profile despite a dead account")
            check_eq(fake.settings_calls, 0, "no session check with skip verification")
            check("account hank marked bad" in w.stderr(), "dead cookie account logged")
            users = [c["user"] for c in fake.calls("UserByScreenName") if c["status"] == 200]
            check_eq(set(users), {"ivy"}, "ivy serves")
        no_violations(fake)


def test_locked_account_and_malformed_timeline():
    with TwitterWebFake() as fake:
        fake.locked.add("jack")
        env = fake.worker_env(cookies_file=cookie_file(fake, ["jack", "kim"]))
        with Worker(env=env) as w:
            data, _ = run(w, job("gettrends"))
            check_eq(len(data), 3, "trends via the unlocked account")
            check("account jack marked bad" in w.stderr() and "locked" in w.stderr(),
                  "locked account logged")
            fake.malformed.add("SearchTimeline")
            err = run_fails(w, job("searchbyquery", "q", max_results=5))
            check("SearchTimeline" in err, "malformed timeline reported: %r" % err)
            fake.malformed.add("UserTweets")
            data, cursor = run(w, job("gettweets", "alice", max_results=5))
            check_eq((data, cursor), ([], None), "entries of the wrong types are skipped")
            w.healthy("after malformed timelines")
            _, stats = caps_and_stats(w)
            check(stats.get("twitter_errors", 0) >= 1, "errors counted: %r" % stats)
        no_violations(fake)


def test_costly_answer_is_not_decoded():
    """An answer made of tiny values (2 MB of text some 200 MB of JSON nodes would hold) is
    refused before it is decoded, with the reason; the worker's peak memory does not grow by it."""
    with TwitterWebFake() as fake:
        env = fake.worker_env(cookies_file=cookie_file(fake, ["jack"]))
        with Worker(env=env) as w:
            data, _ = run(w, job("gettrends"))
            check_eq(len(data), 3, "trends before")
            peak_before = vm_hwm_kib(w.proc.pid)
            fake.costly.add("GenericTimelineById")
            err = run_fails(w, job("gettrends"))
            check("GenericTimelineById failed (HTTP 200): JSON text of 2100019 bytes would take "
                  "about" in err, "costly answer refused with the reason: %r" % err)
            grown = vm_hwm_kib(w.proc.pid) - peak_before
            check(grown < 64 * 1024, "peak memory grew by %d KiB for a refused answer" % grown)
            w.healthy("after a costly answer")
        no_violations(fake)


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid, "r", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    harness.fail("no VmHWM in /proc/%d/status" % pid)
    return 0


def test_no_usable_account_falls_back_or_fails():
    with TwitterWebFake() as fake:
        fake.locked.add("lou")
        env = fake.worker_env(cookies_file=cookie_file(fake, ["lou"]))
        with Worker(env=env) as w:
            err = run_fails(w, job("searchbyquery", "q", max_results=1))
            check("no usable Twitter account" in err or "locked" in err, "error: %r" % err)
            err = run_fails(w, job("searchbyquery", "q", max_results=1))
            check("marked bad" in err, "second job names the bad account: %r" % err)
        no_violations(fake)


def test_method_switch_and_cloudflare_block():
    with TwitterWebFake() as fake:
        fake.method_required["SearchTimeline"] = "GET"
        env = fake.worker_env(cookies_file=cookie_file(fake, ["mia"]))
        with Worker(env=env) as w:
            data, _ = run(w, job("searchbyquery", "q", max_results=70))
            check_eq(len(data), 45, "search after switching to GET")
            check_eq([(c["method"], c["status"]) for c in fake.calls("SearchTimeline")],
                     [("POST", 404), ("POST", 404), ("GET", 200)],
                     "404: transaction id rebuilt, then the other method")
            fake.search_tweets = fake.search_tweets + [tweet(i) for i in range(46, 91)]
            data, _ = run(w, job("searchbyquery", "q", max_results=70))
            check_eq(len(data), 70, "two pages")
            check_eq([(c["method"], c["status"]) for c in fake.calls("SearchTimeline")][3:],
                     [("POST", 404), ("POST", 404), ("GET", 200), ("GET", 200)],
                     "the job's second page keeps the method that worked")
            check_eq(len(fake.home_fetches), 5, "transaction-id page fetched again after each 404")
            check("TWITTER_QUERY_IDS=SearchTimeline=BGd0T_j7oVwlW5U79tO_0A@GET" in w.stderr(),
                  "the operator is told which method worked")
            fake.cloudflare.add("UserByScreenName")
            err = run_fails(w, job("searchbyprofile", "NASA"))
            check("Cloudflare" in err, "Cloudflare block reported: %r" % err)
            check("mia" not in err, "the worker's account stays out of the job error: %r" % err)
            check("account mia" in w.stderr(), "the log names the blocked account")
            fake.cloudflare.clear()
            p, _ = run(w, job("searchbyprofile", "NASA"))
            check_eq(p["Username"], "NASA", "the account was not penalised for the block")
        no_violations(fake)


def test_home_page_redirect_to_a_private_address_is_not_followed():
    """The web base is configuration (here the fake on 127.0.0.1), so its own address is not
    checked; where its answers send the worker is. /home answers 302 to a loopback URL: without
    WEBSCRAPER_ALLOW_PRIVATE the transaction-id build refuses the hop (the worker says so), the
    target is never requested, and X's refusal of requests without the id fails the job. With
    WEBSCRAPER_ALLOW_PRIVATE=true the same redirect is followed and the job succeeds, so the
    target is a page the worker would have used."""
    with TwitterWebFake() as fake:
        fake.home_redirect = fake.base + REDIRECT_TARGET
        with Worker(env=fake.worker_env(cookies_file=cookie_file(fake, ["vera"]))) as w:
            err = run_fails(w, job("searchbyquery", "q", max_results=1))
            check(fake.home_fetches, "the home page was requested")
            check_eq(fake.redirect_target_hits, 0, "requests of the private redirect target")
            check("redirected to 127.0.0.1, which is not a public address" in w.stderr(),
                  "the refused redirect is logged (job error %r):\n%s" % (err, w.stderr()))
        check(fake.violations and set(fake.violations) == {"missing x-client-transaction-id"},
              "requests went without a transaction id, and only that: %r" % fake.violations)
    with TwitterWebFake() as fake:
        fake.home_redirect = fake.base + REDIRECT_TARGET
        env = fake.worker_env(cookies_file=cookie_file(fake, ["vera"]),
                              extra={"WEBSCRAPER_ALLOW_PRIVATE": "true"})
        with Worker(env=env) as w:
            data, _ = run(w, job("searchbyquery", "q", max_results=1))
            check_eq(len(data), 1, "search with WEBSCRAPER_ALLOW_PRIVATE=true")
            check_eq(fake.redirect_target_hits, 1, "the redirect was followed once")
        no_violations(fake)


def test_concurrency_per_account_is_bounded():
    for bound in (1, 2):
        with TwitterWebFake() as fake:
            fake.delay["SearchTimeline"] = 0.4
            env = fake.worker_env(cookies_file=cookie_file(fake, ["olga"]),
                                  extra={"TWITTER_ACCOUNT_CONCURRENCY": str(bound)})
            with Worker(env=env) as w:
                sigs = [w.generate(job("searchbyquery", "q%d" % i, max_results=1))
                        for i in range(4)]
                uids = [w.add(sig) for sig in sigs]
                for uid in uids:
                    expect_status(w.wait_status(uid, timeout=30), 200, "concurrent search")
                check_eq(fake.max_in_flight.get("olga"), bound,
                         "requests in flight on one account with TWITTER_ACCOUNT_CONCURRENCY=%d"
                         % bound)
                check_eq(len(fake.home_fetches), 1, "one transaction-id build for concurrent "
                         "first requests")
            no_violations(fake)


def test_dropped_connections_are_retried():
    with TwitterWebFake() as fake:
        env = fake.worker_env(cookies_file=cookie_file(fake, ["sam"]))
        with Worker(env=env) as w:
            fake.drop["UserByScreenName"] = 2
            p, _ = run(w, job("searchbyprofile", "NASA"))
            check_eq(p["Username"], "NASA", "profile after two dropped connections")
            check_eq([c["status"] for c in fake.calls("UserByScreenName")], [0, 0, 200],
                     "retried on the same account")
            fake.drop["UserByScreenName"] = 3
            err = run_fails(w, job("searchbyprofile", "NASA"))
            check("127.0.0.1" in err, "the transport error, naming the host, reaches the user: %r"
                  % err)
            check_eq(len(fake.calls("UserByScreenName")), 6, "three tries, then the job fails")
        no_violations(fake)


def test_job_deadline_bounds_the_calls():
    with TwitterWebFake() as fake:
        fake.delay["SearchTimeline"] = 6
        env = fake.worker_env(cookies_file=cookie_file(fake, ["rita"]),
                              extra={"JOB_TIMEOUT_SECONDS": "2"})
        with Worker(env=env) as w:
            t0 = time.monotonic()
            err = run_fails(w, job("searchbyquery", "q", max_results=5))
            took = time.monotonic() - t0
            check("timed out" in err or "deadline" in err, "deadline error: %r" % err)
            check(took < 5, "the job ended at its deadline, not X's answer (%.1f s)" % took)
        no_violations(fake)


def test_go_cookie_file_is_migrated():
    with TwitterWebFake() as fake:
        data_dir = mkdtemp("tw-data-")
        auth, ct0 = fake.add_session("nora")
        zero = {"Quoted": False, "Path": "", "Expires": "0001-01-01T00:00:00Z", "RawExpires": "",
                "MaxAge": 0, "Secure": False, "HttpOnly": False, "SameSite": 0,
                "Partitioned": False, "Raw": "", "Unparsed": None}
        go = [dict(zero, Name="auth_token", Value=auth, Domain="twitter.com"),
              dict(zero, Name="ct0", Value=ct0, Domain="twitter.com")]
        with open(os.path.join(data_dir, "nora_twitter_cookies.json"), "w") as f:
            json.dump(go, f)
        env = fake.worker_env(accounts=["nora:unknown-to-x"])
        with Worker(env=env, data_dir=data_dir) as w:
            data, _ = run(w, job("searchbyquery", "q", max_results=2))
            check_eq(len(data), 2, "search on the migrated session")
            check_eq(fake.flow_calls, [], "no login: the Go cookie file was used")
            check("session from the Go worker's cookie file" in w.stderr(), "migration logged")
        no_violations(fake)


def test_broken_cookie_file_refuses_to_start():
    path = os.path.join(mkdtemp("tw-cookies-"), "cookies.txt")
    with open(path, "w") as f:
        f.write("alice:tok1:ct01\nbob:only-one-part\n")
    env = {"DATA_DIR": mkdtemp("tw-data-"), "STANDALONE": "true",
           "LISTEN_ADDRESS": "%s:%d" % (harness.HOST, harness.free_port()),
           "TWITTER_COOKIES_FILE": path}
    rc, out = harness.run_binary(env)
    check(rc > 0, "a broken cookie file must stop the start (rc %d):\n%s" % (rc, out))
    check("TWITTER_COOKIES_FILE" in out and "line 2" in out, "names the file's problem:\n%s" % out)
    check(not harness.sanitizer_report(out), "sanitizer report:\n%s" % out)
    env["TWITTER_COOKIES_FILE"] = path + ".missing"
    rc, out = harness.run_binary(env)
    check(rc > 0 and "TWITTER_COOKIES_FILE" in out, "a missing cookie file:\n%s" % out)


if __name__ == "__main__":
    import harness
    harness.main(globals())
