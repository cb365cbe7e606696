#!/usr/bin/env python3
"""test_twitter_apify.py - the `twitter-apify` job kind (getfollowers, getfollowing) against a
local fake Apify.

twitter.md 7, 8.3 and 10.3; jobs-and-capabilities.md 2.5: the follower actor and its input, the
ProfileResultApify shape (every key, 64-bit ids exact, url null kept, a string id and a null item
skipped), paging through X-Next-Cursor (a page longer than the limit cut to it), argument
validation at /job/generate, an actor failure reaching the user with its reason, and the
twitter_scrapes / twitter_returned_followers counters."""
import json

from harness import Worker, check, check_eq, expect_json_error
from fakes.apify_fake import ApifyFake

ACTOR = "kaitoeasyapi~premium-x-follower-scraper-following-data"
BIG_ID = 1234567890123456789

PROFILE_KEYS = [
    "id", "id_str", "name", "screen_name", "location", "description", "url", "entities",
    "protected", "followers_count", "fast_followers_count", "normal_followers_count",
    "friends_count", "listed_count", "created_at", "favourites_count", "utc_offset", "time_zone",
    "geo_enabled", "verified", "statuses_count", "media_count", "lang", "contributors_enabled",
    "is_translator", "is_translation_enabled", "profile_background_color",
    "profile_background_image_url", "profile_background_image_url_https",
    "profile_background_tile", "profile_image_url", "profile_image_url_https",
    "profile_link_color", "profile_sidebar_border_color", "profile_sidebar_fill_color",
    "profile_text_color", "profile_use_background_image", "has_extended_profile",
    "default_profile", "default_profile_image", "pinned_tweet_ids", "pinned_tweet_ids_str",
    "has_custom_timelines", "can_media_tag", "followed_by", "following", "live_following",
    "follow_request_sent", "notifications", "muting", "blocking", "blocked_by",
    "advertiser_account_type", "advertiser_account_service_levels", "analytics_type",
    "business_profile_state", "translator_type", "withheld_in_countries",
    "require_some_consent", "type", "target_username", "email"]

FIXTURE = [
    {"id": BIG_ID, "id_str": str(BIG_ID), "screen_name": "big", "url": None,
     "followers_count": 5, "pinned_tweet_ids": [BIG_ID + 1], "type": "follower",
     "entities": {"description": {"urls": [{"url": "https://t.co/a", "indices": [1, 2]}]}},
     "unknown_field": {"x": 1}},
    {"id": "42", "screen_name": "string-id"},        # wrong type: skipped
    None,                                            # null item: skipped
    {"id": 7, "screen_name": "seven", "url": "https://seven.example", "lang": "en"},
    {"id": 8, "screen_name": "eight"},
    {"id": 9, "screen_name": "nine"},
]


def run(w, job):
    return w.run_paged_job(job)


def stats_of(w):
    _, _, _, body = w.run_job({"type": "telemetry", "arguments": {}})
    return json.loads(body.decode("utf-8"))["stats"].get(w.worker_id(), {})


def test_getfollowers_profiles_and_paging():
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[ACTOR] = FIXTURE
        job = {"type": "twitter-apify", "arguments": {"type": "getfollowers", "query": "nasa",
                                                      "max_results": 4}}
        body, cursor = run(w, job)
        check_eq(fake.runs[0]["actor"], ACTOR, "actor")
        check_eq(fake.runs[0]["input"], {"user_names": ["nasa"], "user_ids": [],
                                         "maxFollowers": 200, "maxFollowings": 200,
                                         "getFollowers": True, "getFollowing": False},
                 "getfollowers input")
        check_eq(fake.dataset_reads[0]["limit"], "4", "page limit = max_results")
        pairs = json.loads(body.decode("utf-8"), object_pairs_hook=lambda kv: kv)
        check_eq(len(pairs), 2, "profiles decoded from 4 raw items (string id and null skipped)")
        check_eq([k for k, _ in pairs[0]], PROFILE_KEYS, "ProfileResultApify keys in order")
        profiles = json.loads(body.decode("utf-8"))
        first, second = profiles
        check_eq(first["id"], BIG_ID, "64-bit id exact")
        check(str(BIG_ID).encode() in body, "64-bit id written exactly")
        check_eq(first["pinned_tweet_ids"], [BIG_ID + 1], "pinned ids exact")
        check(first["url"] is None, "url null kept")
        check(first["email"] is None and first["time_zone"] is None, "nullable strings null")
        check_eq(first["entities"], {"description": {"urls": [{
            "url": "https://t.co/a", "expanded_url": "", "display_url": "", "indices": [1, 2]}]}},
            "entities")
        check_eq(first["followers_count"], 5, "followers_count")
        check("unknown_field" not in first, "unknown actor fields dropped")
        check_eq(second["screen_name"], "seven", "second profile")
        check_eq(second["url"], "https://seven.example", "url string")
        check_eq(second["entities"], {}, "missing entities -> {}")
        check_eq(cursor, "eyJvZmZzZXQiOjR9", "cursor after a full page")

        job["arguments"]["next_cursor"] = cursor
        body2, cursor2 = run(w, job)
        check_eq(fake.dataset_reads[1]["offset"], "4", "second page offset")
        check_eq([p["screen_name"] for p in json.loads(body2.decode("utf-8"))], ["eight", "nine"],
                 "second page")
        check(cursor2 is None, "short page has no cursor, got %r" % cursor2)

        stats = stats_of(w)
        check_eq(stats.get("twitter_scrapes"), 2, "twitter_scrapes")
        check_eq(stats.get("twitter_returned_followers"), 4, "twitter_returned_followers")


def test_getfollowing_and_defaults():
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[ACTOR] = []
        body, cursor = run(w, {"type": "twitter-apify", "arguments": {
            "type": "GetFollowing", "query": "nasa", "max_results": 500}})
        check_eq(fake.runs[0]["input"], {"user_names": ["nasa"], "user_ids": [],
                                         "maxFollowers": 200, "maxFollowings": 500,
                                         "getFollowers": False, "getFollowing": True},
                 "getfollowing input")
        check_eq(body, b"[]", "no profiles -> []")
        check(cursor is None, "empty page has no cursor")
        # no type = getfollowers; max_results 0 reads a page of 200
        run(w, {"type": "twitter-apify", "arguments": {"query": "esa"}})
        check(fake.runs[1]["input"]["getFollowers"] is True, "default type is getfollowers")
        check_eq(fake.dataset_reads[1]["limit"], "200", "max_results 0 -> page of 200")


def test_page_longer_than_the_limit_is_cut():
    """A dataset answer with more items than the limit asked for (a broken or hostile Apify)
    must not hand the client more than max_results profiles nor lose the next page: the page is
    cut to the limit and the cursor goes on after it."""
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        items = [{"id": 100 + i, "screen_name": "u%d" % i} for i in range(10)]
        fake.dataset_reply = (200, json.dumps(items).encode())
        body, cursor = run(w, {"type": "twitter-apify", "arguments": {
            "type": "getfollowers", "query": "nasa", "max_results": 4}})
        check_eq([p["id"] for p in json.loads(body.decode("utf-8"))], [100, 101, 102, 103],
                 "page cut to max_results")
        check_eq(cursor, "eyJvZmZzZXQiOjR9", "cursor after the page asked for")
        check_eq(stats_of(w).get("twitter_returned_followers"), 4, "followers counted")


def test_a_bad_item_costs_only_itself():
    """A profile with a \\u0000 in a string or a count beyond double (jansson refuses both) is
    skipped, not the page; an id beyond int64 is read as a real, so that profile fails its int
    field, as in Go. The page keeps its size, so a full page keeps its cursor."""
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.dataset_reply = (200, b'[{"id":1,"screen_name":"a\\u0000b"},'
                                   b'{"id":2,"screen_name":"inf","listed_count":1e400},'
                                   b'{"id":99999999999999999999,"screen_name":"big"},'
                                   b'{"id":3,"screen_name":"ok"}]')
        body, cursor = run(w, {"type": "twitter-apify", "arguments": {
            "type": "getfollowers", "query": "nasa", "max_results": 4}})
        check_eq([p["screen_name"] for p in json.loads(body.decode("utf-8"))], ["ok"],
                 "the one good profile")
        check_eq(cursor, "eyJvZmZzZXQiOjR9", "a full page keeps its cursor")


def test_undecodable_items_do_not_flood_the_log():
    """Each undecodable dataset item is skipped; a page full of them (hostile or broken actor)
    writes a few lines and a count, not a line per item."""
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[ACTOR] = [{"id": "not a number"}] * 300 + [{"id": 5, "screen_name": "ok"}]
        body, _ = run(w, {"type": "twitter-apify", "arguments": {
            "type": "getfollowers", "query": "nasa", "max_results": 400}})
        check_eq([p["id"] for p in json.loads(body.decode("utf-8"))], [5], "the good item")
        lines = [ln for ln in w.stderr().splitlines() if "dataset item" in ln]
        check(len(lines) <= 5, "%d log lines for 300 skipped items" % len(lines))
        check(any("300" in ln for ln in lines), "the skipped items are counted: %r" % lines)


def test_non_ascii_values_do_not_cut_the_message():
    """A refused value is quoted cut on a character boundary (util/utf8.h), so the rest of the
    message survives: a value cut inside a character made the reply stop there."""
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        r = w.post("/job/generate", json_body={"type": "twitter-apify", "arguments": {
            "type": "x" + "\u00e9" * 40, "query": "nasa"}})
        err = expect_json_error(r, 400, "non-ASCII twitter-apify type")["error"]
        check(err.endswith("is not valid for job type 'twitter-apify'. Valid capabilities: "
                           "[getfollowers getfollowing]"), "whole message: %r" % err)


def test_validation_and_failures():
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        prefix = "error unmarshalling job arguments: "
        for args, msg in [
            ({"type": "searchbyquery", "query": "x"},
             "capability 'searchbyquery' is not valid for job type 'twitter-apify'. "
             "Valid capabilities: [getfollowers getfollowing]"),
            ({"query": "x", "max_results": -1}, "max_results must be non-negative, got: -1"),
            ({"query": "x", "count": -5}, "count must be non-negative, got: -5"),
            ({"query": "x", "max_results": "10"},
             "failed to unmarshal Twitter arguments: json: cannot unmarshal string into Go "
             "struct field .max_results of type int"),
            ({"type": "getfollowing"},
             "query (the screen name whose followings to list) is required"),
        ]:
            r = w.post("/job/generate", json_body={"type": "twitter-apify", "arguments": args})
            expect_json_error(r, 400, "twitter-apify %s" % json.dumps(args), message=prefix + msg)
        check_eq(fake.runs, [], "invalid jobs started runs")

        fake.statuses = ["FAILED"]
        fake.status_message = "The actor ran out of memory"
        uid = w.add(w.generate({"type": "twitter-apify", "arguments": {"query": "nasa"}}))
        doc = expect_json_error(w.wait_status(uid, timeout=20), 500, "failed follower job")
        check_eq(doc["error"], "getfollowers via Apify: Actor run failed: The actor ran out of "
                 "memory", "follower job error")
        stats = stats_of(w)
        check_eq(stats.get("twitter_scrapes"), 1, "scrapes counted before the run")
        check_eq(stats.get("twitter_returned_followers", 0), 0, "no followers on failure")


if __name__ == "__main__":
    import harness
    harness.main(globals())
