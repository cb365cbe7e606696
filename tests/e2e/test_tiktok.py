#!/usr/bin/env python3
"""test_tiktok.py - the `tiktok` transcription operation end to end through the worker's HTTP API,
against the local fake transcription service fakes/tiktok_fake.py (tiktok-reddit-apify.md 1.2-1.9
and 4.1, with DECISIONS.md: TIKTOK_DEFAULT_LANGUAGE honoured, fallback to the first transcript,
proper VTT conversion).

Checks: the capability is always offered; the outbound request (POST, JSON body {"url"}, Content-Type,
Origin, Referer, default and configured User-Agent); the exact result bytes; language choice
(requested, TIKTOK_DEFAULT_LANGUAGE, first available) and detected_language; the VTT conversion of a
real-world-shaped transcript; every upstream failure (status codes with body, error field, empty
transcripts, malformed JSON, wrong shape, unreachable endpoint, an answer slower than the job
deadline or than the call's own 30 s) as a job error with its reason; 400s at /job/generate without any outbound call; the
tiktok_transcription_success / _errors counters."""
import json
import time

import harness
from harness import Worker, check, check_eq, expect_json_error, expect_status
from fakes.tiktok_fake import RICH_TEXT, TikTokFake

CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0.0.0 Safari/537.36")
PREFIX = "Failed to unmarshal job arguments: "


def video(scenario):
    return "https://www.tiktok.com/@u/video/" + scenario


def transcribe(w, scenario, language=None):
    args = {"video_url": video(scenario)}
    if language is not None:
        args["language"] = language
    _, _, _, body = w.run_job({"type": "tiktok", "arguments": args})
    return body


def failed_job(w, scenario, timeout=15.0):
    uid = w.add(w.generate({"type": "tiktok", "arguments": {"video_url": video(scenario)}}))
    return expect_json_error(w.wait_status(uid, timeout=timeout), 500, "tiktok %s" % scenario)["error"]


def telemetry(w):
    _, _, _, body = w.run_job({"type": "telemetry", "arguments": {}})
    doc = json.loads(body.decode("utf-8"))
    return doc["reported_capabilities"], doc["stats"].get(w.worker_id(), {})


def test_transcription_request_and_result():
    with TikTokFake() as fake, Worker(env=fake.worker_env()) as w:
        caps, _ = telemetry(w)
        check_eq(caps.get("tiktok"), ["transcription"], "tiktok capabilities without Apify")
        body = transcribe(w, "1")
        check_eq(body, b'{"transcription_text":"Hello","detected_language":"eng-US","video_title":"T",'
                 b'"original_url":"https://www.tiktok.com/@u/video/1","thumbnail_url":"https://x/t.jpg"}',
                 "result bytes (spec 1.7 example)")
        check_eq(len(fake.requests), 1, "one outbound request")
        req = fake.requests[0]
        check_eq((req["method"], req["path"]), ("POST", "/api/tiktok-transcription"), "route")
        check_eq(req["raw"], b'{"url":"https://www.tiktok.com/@u/video/1"}', "request body")
        h = req["headers"]
        check_eq(h.get("content-type"), "application/json", "Content-Type")
        check_eq(h.get("origin"), "https://submagic-free-tools.fly.dev", "Origin")
        check_eq(h.get("referer"), "https://submagic-free-tools.fly.dev/tiktok-transcription", "Referer")
        check_eq(h.get("user-agent"), CHROME_UA, "default User-Agent")
        # the real-world-shaped VTT: header, NOTE, STYLE, cue ids, tags, entities, CRLF
        doc = json.loads(transcribe(w, "rich"))
        check_eq(doc["transcription_text"], RICH_TEXT, "converted VTT")
        check_eq(doc["video_title"], "Cooking <3", "video_title")
        _, stats = telemetry(w)
        check_eq(stats.get("tiktok_transcription_success"), 2, "success counter")
        check("tiktok_transcription_errors" not in stats, "no error counter: %r" % stats)


def test_language_choice():
    with TikTokFake() as fake, Worker(env=fake.worker_env()) as w:
        for language, want_lang, want_text in [("spa-ES", "spa-ES", "Hola"), ("fra-FR", "fra-FR", "Bonjour"),
                                               (None, "eng-US", "Hello"), ("de-DE", "eng-US", "Hello")]:
            doc = json.loads(transcribe(w, "multi", language))
            check_eq((doc["detected_language"], doc["transcription_text"]), (want_lang, want_text),
                     "multi with language %r" % language)
            check_eq(doc["video_title"], "Trilingual", "video_title")
            check("thumbnail_url" not in doc, "thumbnail_url omitted when absent: %r" % doc)
        # no eng-US at all: the first transcript available, reported in detected_language
        doc = json.loads(transcribe(w, "spanish"))
        check_eq(doc, {"transcription_text": "Hola amigos", "detected_language": "spa-ES",
                       "video_title": "Solo", "original_url": video("spanish")}, "fallback result")
    env = {"TIKTOK_DEFAULT_LANGUAGE": "fra-FR", "TIKTOK_API_USER_AGENT": "ua-test/1.0"}
    with TikTokFake() as fake, Worker(env=fake.worker_env(**env)) as w:
        doc = json.loads(transcribe(w, "multi"))
        check_eq((doc["detected_language"], doc["transcription_text"]), ("fra-FR", "Bonjour"),
                 "TIKTOK_DEFAULT_LANGUAGE honoured")
        doc = json.loads(transcribe(w, "multi", "spa-ES"))
        check_eq(doc["detected_language"], "spa-ES", "requested language wins over the default")
        check_eq(fake.requests[0]["headers"].get("user-agent"), "ua-test/1.0", "TIKTOK_API_USER_AGENT")


def test_upstream_failures():
    with TikTokFake() as fake, Worker(env=fake.worker_env()) as w:
        for scenario, want in [
            ("empty", "No transcripts found in API response"),
            ("blank", "No transcripts found in API response (all 2 are empty)"),
            ("error", "API returned an error: boom"),
            ("http500", "API request failed with status code 500. Response: upstream exploded"),
            ("http404", "API request failed with status code 404. Response: no such video"),
            ("badshape", "Failed to parse API response: a transcript is not a string"),
        ]:
            check_eq(failed_job(w, scenario), want, "job error for %s" % scenario)
        err = failed_job(w, "badjson")
        check(err.startswith("Failed to parse API response: "), "malformed JSON: %r" % err)
        _, stats = telemetry(w)
        check_eq(stats.get("tiktok_transcription_errors"), 7, "error counter")
        check("tiktok_transcription_success" not in stats, "no success counter: %r" % stats)
    closed = harness.free_port()
    env = {"TIKTOK_TRANSCRIPTION_ENDPOINT": "http://127.0.0.1:%d/api/tiktok-transcription" % closed}
    with Worker(env=env) as w:
        err = failed_job(w, "1")
        check(err.startswith("API request failed: 127.0.0.1: "), "unreachable endpoint: %r" % err)


def test_deadline_bounds_the_call():
    with TikTokFake() as fake, Worker(env=fake.worker_env(JOB_TIMEOUT_SECONDS="2")) as w:
        fake.slow_s = 8.0
        t0 = time.monotonic()
        err = failed_job(w, "slow", timeout=10.0)
        elapsed = time.monotonic() - t0
        check(err.startswith("API request failed: ") and "timed out" in err, "slow answer: %r" % err)
        check(elapsed < 5.0, "the job outlived its 2 s deadline: %.1f s" % elapsed)
        _, stats = telemetry(w)
        check_eq(stats.get("tiktok_transcription_errors"), 1, "error counter after the timeout")


def test_call_bounded_by_30_s_within_a_long_job():
    """tiktok-reddit-apify.md 1.3: the whole exchange with the transcription service has 30 s, even
    when the job itself has much longer (4.1 (g): a reply slower than 30 s is `API request failed`)."""
    with TikTokFake() as fake, Worker(env=fake.worker_env(JOB_TIMEOUT_SECONDS="120")) as w:
        fake.slow_s = 60.0
        t0 = time.monotonic()
        err = failed_job(w, "slow", timeout=90.0)
        elapsed = time.monotonic() - t0
        check(err.startswith("API request failed: ") and "timed out" in err, "slow answer: %r" % err)
        check(28.0 <= elapsed < 40.0, "the call was not cut at 30 s: %.1f s" % elapsed)


def test_argument_keys_differing_in_case_resolve_like_go():
    """jobs-and-capabilities.md 0.2: Go decodes the arguments re-serialised with sorted keys, so
    among keys equal but for case the byte-wise greatest (the lower-case spelling) wins, and a
    null one is the same as absent (it does not erase a value given under another spelling)."""
    bad = "https://www.youtube.com/watch?v=1"
    with TikTokFake() as fake, Worker(env=fake.worker_env()) as w:
        for args in ({"video_url": video("1"), "VIDEO_URL": bad},
                     {"VIDEO_URL": bad, "video_url": video("1")},
                     {"Video_Url": video("1"), "video_url": None}):
            r = w.post("/job/generate", json_body={"type": "tiktok", "arguments": args})
            expect_status(r, 200, "tiktok %s" % json.dumps(args))
        r = w.post("/job/generate", json_body={"type": "tiktok", "arguments": {
            "video_url": bad, "VIDEO_URL": video("1")}})
        expect_json_error(r, 400, "lower-case spelling wins",
                          message=PREFIX + "URL must be a valid TikTok video URL")


def test_non_ascii_values_do_not_cut_the_message():
    """A refused value is quoted in the message cut on a character boundary (util/utf8.h), so the
    rest of the message survives: a value cut inside a character made the reply stop there."""
    lang = "x" + "\u00e9" * 40
    with TikTokFake() as fake, Worker(env=fake.worker_env()) as w:
        r = w.post("/job/generate", json_body={"type": "tiktok", "arguments": {
            "video_url": video("1"), "language": lang}})
        err = expect_json_error(r, 400, "non-ASCII language")["error"]
        check(err.startswith(PREFIX + "invalid language format 'x\u00e9") and
              err.endswith("', expected format: 'lang-region' (e.g., 'en-us' or 'eng-us')"),
              "whole message: %r" % err)


def test_video_url_with_a_space_in_its_path():
    """tiktok-reddit-apify.md 1.2: video_url must parse as Go's url.Parse does (a space in the path
    or query is fine; only the host is checked) and goes to the service verbatim."""
    url = "https://www.tiktok.com/@u/video/1 ?lang=en US"
    with TikTokFake() as fake, Worker(env=fake.worker_env()) as w:
        _, _, _, body = w.run_job({"type": "tiktok", "arguments": {"video_url": url}})
        check_eq(json.loads(body.decode("utf-8"))["original_url"], url, "original_url verbatim")
        check_eq(fake.requests[-1]["body"], {"url": url}, "forwarded verbatim")
        r = w.post("/job/generate", json_body={"type": "tiktok", "arguments": {
            "video_url": "https://www.tik tok.com/@u/video/1"}})
        expect_json_error(r, 400, "space in the host", prefix=PREFIX)


def test_redirect_hops_held_to_public_addresses():
    """The endpoint is configuration, where its answers redirect the worker is not: a hop to a
    private or loopback address is refused (the fake keeps its connections alive, so the hop back
    to it must not ride on the endpoint's connection either), unless WEBSCRAPER_ALLOW_PRIVATE."""
    with TikTokFake() as fake, Worker(env=fake.worker_env()) as w:
        check_eq(failed_job(w, "redirect"), "API request failed: redirected to 127.0.0.1, which "
                 "is not a public address", "hop to loopback")
        check_eq([r["path"] for r in fake.requests], ["/api/tiktok-transcription"],
                 "the hop was never made")
    with TikTokFake() as fake, Worker(env=fake.worker_env(WEBSCRAPER_ALLOW_PRIVATE="true")) as w:
        doc = json.loads(transcribe(w, "redirect").decode("utf-8"))
        check_eq(doc["transcription_text"], "Hello", "transcript after the hop")
        check_eq([(r["path"], r["body"]) for r in fake.requests],
                 [("/api/tiktok-transcription", {"url": video("redirect")}),
                  ("/api/tiktok-transcription?hop=1", {"url": video("redirect")})],
                 "307 repeats the POST")


def test_answer_too_costly_to_decode():
    """3 MB of tiny JSON values would take jansson some 250 MB: refused before decoding."""
    with TikTokFake() as fake, Worker(env=fake.worker_env()) as w:
        err = failed_job(w, "costly")
        check(err.startswith("Failed to parse API response: JSON text of ") and
              "MiB to decode (more than" in err, "costly answer: %r" % err)
        w.healthy("costly answer")


def test_bad_arguments_are_400_without_a_call():
    with TikTokFake() as fake, Worker(env=fake.worker_env()) as w:
        for args, want in [
            ({}, "video_url is required"),
            ({"video_url": "https://www.youtube.com/watch?v=1"}, "URL must be a valid TikTok video URL"),
            ({"video_url": "https://tiktok.com.evil.net/v/1"}, "URL must be a valid TikTok video URL"),
            ({"video_url": "www.tiktok.com/@u/video/1"}, "URL must be a valid TikTok video URL"),
            ({"video_url": "https:/www.tiktok.com/@u/video/1"},
             "URL must be a valid TikTok video URL"),
            ({"video_url": 5}, "json: cannot unmarshal number into Go struct field .video_url of type string"),
            ({"video_url": video("1"), "language": "english"},
             "invalid language format 'english', expected format: 'lang-region' (e.g., 'en-us' or 'eng-us')"),
            ({"video_url": video("1"), "language": "en-USA"},
             "invalid language format 'en-USA', expected 2-3 letter language code and 2-letter region code"),
            ({"type": "dance", "video_url": video("1")}, "unknown tiktok type: dance"),
            ({"type": "searchbyquery", "search": ["cats"]},
             "tiktok type searchbyquery is not available on this worker (it needs a valid APIFY_API_KEY)"),
        ]:
            r = w.post("/job/generate", json_body={"type": "tiktok", "arguments": args})
            expect_json_error(r, 400, "tiktok %s" % json.dumps(args), message=PREFIX + want)
        r = w.post("/job/generate", json_body={"type": "tiktok", "arguments": {
            "type": "TRANSCRIPTION", "video_url": "https://vm.tiktok.com/ZM1/"}})
        expect_status(r, 200, "explicit type, short link host")
        check_eq(fake.requests, [], "no outbound request for refused jobs")
        _, stats = telemetry(w)
        check(not any(k.startswith("tiktok") for k in stats), "counters touched: %r" % stats)


if __name__ == "__main__":
    harness.main(globals())
