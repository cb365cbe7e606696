#!/usr/bin/env python3
"""test_tiktok_search.py - the Apify-backed `tiktok` operations searchbyquery and searchbytrending
against a local fake Apify (tiktok-reddit-apify.md 1.10, jobs-and-capabilities.md 2.3 and 3.2).

Checks: the capabilities appear only with APIFY_API_KEY; each actor and its input (keys in Go's
alphabetical order, values as typed); decoded records (malformed items dropped, null data when none
decodes; a value nested too deep costs only its item); limit max_items or 20 and paging through X-Next-Cursor; validation messages at
/job/generate; "apify run (search|trending): <reason>" errors; tiktok_* counters.

The `tiktok` kind itself (tiktok.c) dispatches to tiktok_search.c; when the binary has no `tiktok`
kind at all this file exits 77 (meson: skipped)."""
import json
import sys

import harness
from harness import Worker, check, check_eq, expect_json_error, expect_status
from fakes.apify_fake import ApifyFake

QUERY_ACTOR = "epctex~tiktok-search-scraper"
TRENDING_ACTOR = "lexis-solutions~tiktok-trending-videos-scraper"

QUERY_ITEMS = [
    {"id": "7001", "url": "https://www.tiktok.com/@a/video/7001", "desc": "cats",
     "createTime": "1700000000", "author": "a", "stats": {"playCount": 9007199254740993},
     "video": {"height": 1024, "zoomCover": {"240": "https://z/240"}}, "textExtra": [
         {"hashtagName": "cat", "start": 0, "end": 4}], "unknown": 1},
    {"id": "7002", "createTime": 1700000001},          # createTime as a number: dropped
    None,
]
TRENDING_ITEMS = [{"country_code": "US", "cover": "c", "duration": 15, "id": "1", "item_id": "1",
                   "item_url": "https://www.tiktok.com/@x/video/1", "region": "US", "title": "t"},
                  {"duration": "long"}]


def run(w, job):
    return w.run_paged_job(job)


def capabilities(w):
    _, _, _, body = w.run_job({"type": "telemetry", "arguments": {}})
    doc = json.loads(body.decode("utf-8"))
    return doc["reported_capabilities"], doc["stats"].get(w.worker_id(), {})


def test_capabilities_follow_the_key():
    with ApifyFake() as fake:
        with Worker(env=fake.worker_env(key="")) as w:
            caps, _ = capabilities(w)
            check("searchbyquery" not in caps.get("tiktok", []) and
                  "searchbytrending" not in caps.get("tiktok", []),
                  "search advertised without a key: %r" % caps)
            r = w.post("/job/generate", json_body={"type": "tiktok", "arguments": {
                "type": "searchbyquery", "search": ["cats"]}})
            expect_status(r, 400, "searchbyquery without a key")
        with Worker(env=fake.worker_env()) as w:
            caps, _ = capabilities(w)
            check({"searchbyquery", "searchbytrending"} <= set(caps.get("tiktok", [])),
                  "search not advertised with a key: %r" % caps)
        check_eq(fake.runs, [], "runs without jobs")


def test_searchbyquery():
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[QUERY_ACTOR] = QUERY_ITEMS
        body, cursor = run(w, {"type": "tiktok", "arguments": {
            "type": "searchbyquery", "search": ["cats"], "max_items": 3, "end_page": 2}})
        run0 = fake.runs[0]
        check_eq(run0["actor"], QUERY_ACTOR, "query actor")
        check_eq(run0["raw_input"], b'{"endPage":2,"maxItems":3,"proxy":{"useApifyProxy":true},'
                 b'"search":["cats"],"startUrls":[]}', "query actor input")
        check_eq(fake.dataset_reads[0]["limit"], "3", "limit = max_items")
        videos = json.loads(body.decode("utf-8"))
        check_eq(len(videos), 1, "malformed and null items dropped")
        v = videos[0]
        check_eq(v["id"], "7001", "id")
        check_eq(v["stats"]["playCount"], 9007199254740993, "int64 exact")
        check_eq(v["video"]["height"], 1024, "video height")
        check_eq(v["video"]["zoomCover"], {"240": "https://z/240", "480": "", "720": "",
                                           "960": ""}, "zoomCover")
        check_eq(v["textExtra"][0]["hashtagName"], "cat", "textExtra")
        check(v["challenges"] is None and "unknown" not in v, "zero/unknown fields")
        check_eq(len(v), 46, "every query record key")
        check_eq(cursor, "eyJvZmZzZXQiOjN9", "cursor after a full page of 3")
        # start_urls only, default limit 20, nothing decodes -> data null
        fake.datasets[QUERY_ACTOR] = [{"createTime": 5}]
        body, cursor = run(w, {"type": "tiktok", "arguments": {
            "type": "searchbyquery", "start_urls": ["https://www.tiktok.com/tag/cats"]}})
        check_eq(body, b"null", "no decodable item -> null")
        check_eq(fake.dataset_reads[1]["limit"], "20", "default limit 20")
        check_eq(fake.runs[1]["input"]["startUrls"], ["https://www.tiktok.com/tag/cats"], "startUrls")
        check(cursor is None, "short page, no cursor")
        _, stats = capabilities(w)
        check_eq(stats.get("tiktok_queries"), 2, "tiktok_queries")
        check_eq(stats.get("tiktok_returned_videos"), 1, "tiktok_returned_videos")


def test_a_bad_item_costs_only_itself():
    """A video with a \\u0000 in a string or a number beyond double (jansson refuses both) is
    skipped, not the page; an integer beyond int64 where a float goes (volumeInfo.Loudness) is
    read as a real and keeps its video."""
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.dataset_reply = (200, b'[{"id":"1","desc":"a\\u0000b"},{"id":"2","extra":-1e999},'
                                   b'{"id":"3","video":{"volumeInfo":{"Loudness":'
                                   b'123456789012345678901234}}},{"id":"4"}]')
        body, cursor = run(w, {"type": "tiktok", "arguments": {
            "type": "searchbyquery", "search": ["cats"], "max_items": 4}})
        videos = json.loads(body.decode("utf-8"))
        check_eq([v["id"] for v in videos], ["3", "4"], "videos kept")
        check_eq(videos[0]["video"]["volumeInfo"]["Loudness"], 1.2345678901234568e+23,
                 "big integer read as a float")
        check_eq(cursor, "eyJvZmZzZXQiOjR9", "a full page keeps its cursor")


def test_deeply_nested_values_cost_only_their_item():
    """A value of an any-typed field (challenges, comments, ...) nested deeper than 64 levels skips
    its video; before, copying it into the result and writing the result took stack per level and
    one nested some hundreds of levels (300 objects, 1500 arrays) overflowed the job thread's stack
    and killed the worker. A value of exactly 64 levels is kept whole."""
    def arrays(n):
        return b"[" * n + b"]" * n

    def objects(n):
        return b'{"a":' * n + b"1" + b"}" * n
    page = b"[" + b",".join([
        b'{"id":"1","challenges":' + arrays(1500) + b"}",
        b'{"id":"2","comments":[' + objects(300) + b"]}",
        b'{"id":"3","warnInfo":' + arrays(64) + b"}",
        b'{"id":"4","effectStickers":[' + objects(63) + b"]}",
        b'{"id":"5","stickersOnItem":' + arrays(65) + b"}"]) + b"]"
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.dataset_reply = (200, page)
        body, _ = run(w, {"type": "tiktok", "arguments": {
            "type": "searchbyquery", "search": ["cats"], "max_items": 5}})
        videos = json.loads(body.decode("utf-8"))
        check_eq([v["id"] for v in videos], ["3", "4"], "videos kept")
        depth, v = 0, videos[0]["warnInfo"]
        while isinstance(v, list) and v:
            depth, v = depth + 1, v[0]
        check_eq(depth + 1, 64, "the 64 levels of warnInfo kept")
        check("nested deeper than 64 levels" in w.stderr(), "the skip is logged with its reason")
        w.healthy("deeply nested values")


def test_searchbytrending_and_errors():
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        fake.datasets[TRENDING_ACTOR] = TRENDING_ITEMS
        body, _ = run(w, {"type": "tiktok", "arguments": {"type": "searchbytrending",
                                                          "country_code": "gb", "sort_by": "LIKE"}})
        check_eq(fake.runs[0]["actor"], TRENDING_ACTOR, "trending actor")
        check_eq(fake.runs[0]["raw_input"], b'{"countryCode":"gb","maxItems":0,"period":"7",'
                 b'"sortBy":"LIKE"}', "trending input, values as typed")
        check_eq(json.loads(body.decode("utf-8")), [TRENDING_ITEMS[0]], "trending records")
        for args, msg in [
            ({"type": "searchbyquery"}, "either 'search' or 'start_urls' is required for searchbyquery"),
            ({"type": "searchbytrending", "country_code": "XX"}, "invalid country_code 'XX'"),
            ({"type": "searchbytrending", "sort_by": "views"}, "invalid sort_by 'views'"),
            ({"type": "searchbytrending", "period": "14"}, "invalid period '14' (allowed: 7, 30)"),
            ({"type": "searchbytrending", "max_items": -1}, "max_items must be non-negative, got: -1"),
        ]:
            r = w.post("/job/generate", json_body={"type": "tiktok", "arguments": args})
            doc = expect_json_error(r, 400, "tiktok %s" % json.dumps(args))
            check(doc["error"].endswith(msg), "tiktok %s: %r should end with %r"
                  % (json.dumps(args), doc["error"], msg))
        fake.statuses = ["ABORTED"]
        fake.status_message = "aborted by user"
        uid = w.add(w.generate({"type": "tiktok", "arguments": {"type": "searchbytrending"}}))
        doc = expect_json_error(w.wait_status(uid, timeout=20), 500, "failed trending job")
        check_eq(doc["error"], "apify run (trending): Actor run aborted: aborted by user", "error")
        _, stats = capabilities(w)
        check_eq(stats.get("tiktok_errors"), 1, "tiktok_errors")


def tiktok_kind_present():
    with ApifyFake() as fake, Worker(env=fake.worker_env()) as w:
        caps, _ = capabilities(w)
        return "tiktok" in caps


if __name__ == "__main__":
    if not tiktok_kind_present():
        print("SKIP: this build has no tiktok kind")
        sys.exit(77)
    harness.main(globals())
