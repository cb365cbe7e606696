#!/usr/bin/env python3
"""test_web.py - the `web` job kind against a local site served by the test itself.

jobs-and-capabilities.md 2.1, 3.1, 5; DECISIONS.md (Web): depth sets and one fetch per URL,
extraction on tricky HTML (nested sections, relative links, <base>, entities, non-UTF-8
charsets, malformed markup, a page over the size cap, binary content behind an .html name,
host names in any case one page,
gzip, an empty page), a cookie set by a redirect, the blacklist (start URL, deeper links,
redirects), refusal of private addresses, HTTP 429 with Retry-After (seconds, HTTP date, huge
values), the job deadline cutting a slow site, internationalized host names (fetched under
their ASCII form, both spellings one page, in the blacklist too; invalid ones refused with a
clear error), argument validation at /job/generate, and the web_* counters.

The site is on 127.0.0.1, so every worker here runs with WEBSCRAPER_ALLOW_PRIVATE=true except
the one that checks the refusal."""
import email.utils
import json
import os
import time

import harness
from harness import Worker, check, check_eq, expect_json_error, expect_status, fail
from fakes.site import Site

ALLOW = {"WEBSCRAPER_ALLOW_PRIVATE": "true"}


def web_job(url, **args):
    a = {"url": url}
    a.update(args)
    return {"type": "web", "arguments": a}


def run_web(w, job, raw=False):
    """Runs a job that must succeed; returns the parsed CollectedData (and with raw, the result
    bytes as well)."""
    _, _, _, body = w.run_job(job)
    try:
        doc = json.loads(body.decode("utf-8"))
    except ValueError as e:
        fail("web result is not JSON (%s): %r" % (e, body[:300]))
    check(isinstance(doc, dict) and list(doc) == ["sections", "pages"],
          "web result should be {sections, pages} in that order: %r" % body[:300])
    return (doc, body) if raw else doc


def run_web_failing(w, job, timeout=15.0):
    """Runs a job that must fail; returns its error text."""
    sig = w.generate(job)
    uid = w.add(sig)
    st = w.wait_status(uid, timeout=timeout)
    doc = expect_json_error(st, 500, "status of a failing web job")
    return doc["error"]


def titles(doc):
    return [s["title"] for s in doc["sections"] or []]


def reset(site):
    with site.lock:
        site.hits.clear()
        site.hit_times.clear()


# ---------------------------------------------------------------------------------------------


def depth_site():
    s = Site()
    s.page("/", '<h1>Home</h1><p>welcome</p><a href="/a">a</a><a href="b">b</a>'
                '<a href="/a#again">a again</a><a href="#top">top</a><a href="/">self</a>'
                '<a href="mailto:x@y.z">mail</a>')
    s.page("/a", '<h1>A</h1><p>in a</p><a href="/c">c</a><a href="/b">b</a>')
    s.page("/b", '<h1>B</h1><a href="/a">a</a><a href="/">home</a>')
    s.page("/c", '<h1>C</h1><a href="/d">d</a>')
    s.page("/d", '<h1>D</h1>')
    return s


def test_depth_sets_and_one_fetch_per_url():
    site = depth_site()
    with site, Worker(env=ALLOW) as w:
        u = site.url
        home_links = [u("/a"), u("/b"), u("/a"), u("/")]
        # depth 1 (the default): the start page only; its links are listed, not fetched
        doc = run_web(w, web_job(u("/")))
        check_eq(doc["sections"], [{"title": "Home", "paragraphs": ["welcome"], "images": None}],
                 "depth 1 sections")
        check_eq(doc["pages"], home_links, "depth 1 pages (duplicates kept, #top and mailto: left out)")
        check_eq(site.hits, {"/": 1}, "depth 1 fetches")

        reset(site)
        doc = run_web(w, web_job(u("/"), max_depth=2))
        check_eq(titles(doc), ["Home", "A", "B"], "depth 2 sections, in crawl order")
        check_eq(doc["pages"], home_links + [u("/c"), u("/b"), u("/a"), u("/")], "depth 2 pages")
        check_eq(site.hits, {"/": 1, "/a": 1, "/b": 1}, "depth 2: each page fetched once")

        reset(site)
        doc = run_web(w, web_job(u("/"), max_depth=3))
        check_eq(titles(doc), ["Home", "A", "B", "C"], "depth 3 sections")
        check_eq(doc["pages"][-1], u("/d"), "depth 3 lists /d (found on /c) without fetching it")
        check_eq(site.hits, {"/": 1, "/a": 1, "/b": 1, "/c": 1}, "depth 3 fetches")

        # `depth` alone is honoured; `max_depth` wins over it; 2.0 is an integer
        reset(site)
        check_eq(titles(run_web(w, web_job(u("/"), depth=2))), ["Home", "A", "B"], "depth=2")
        reset(site)
        check_eq(titles(run_web(w, web_job(u("/"), depth=3, max_depth=1))), ["Home"],
                 "max_depth wins over depth")
        reset(site)
        check_eq(titles(run_web(w, web_job(u("/"), max_depth=2.0, selector="p", type="foo"))),
                 ["Home", "A", "B"], "max_depth 2.0 with ignored selector/type")

    # WEBSCRAPER_MAX_DEPTH clamps; WEBSCRAPER_MAX_PAGES bounds the fetches
    site = depth_site()
    with site, Worker(env=dict(ALLOW, WEBSCRAPER_MAX_DEPTH="2")) as w:
        check_eq(titles(run_web(w, web_job(site.url("/"), max_depth=5))), ["Home", "A", "B"],
                 "max_depth 5 clamped to WEBSCRAPER_MAX_DEPTH=2")
    site = depth_site()
    with site, Worker(env=dict(ALLOW, WEBSCRAPER_MAX_PAGES="2")) as w:
        check_eq(titles(run_web(w, web_job(site.url("/"), max_depth=4))), ["Home", "A"],
                 "WEBSCRAPER_MAX_PAGES=2: the start page and the first link only")
        check_eq(site.total_hits(), 2, "WEBSCRAPER_MAX_PAGES=2 fetches")


def test_host_spellings_are_one_page():
    """A host name is case-insensitive: http://LOCALHOST:P/page and http://localhost:P/page#x are
    the page http://localhost:P/page, fetched once (the visit key; its other spellings, a trailing
    dot and the default port, are covered by the unit test test_web_crawl)."""
    site = Site()
    with site, Worker(env=ALLOW) as w:
        u = site.url
        site.page("/", '<h1>Home</h1><a href="%s">upper</a><a href="%s">lower</a>'
                       '<a href="%s">mixed, fragment</a><a href="%s">home, upper</a>'
                  % (u("/page", "LOCALHOST"), u("/page", "localhost"),
                     u("/page#x", "LocalHost"), u("/", "LOCALHOST")))
        site.page("/page", "<h1>Page</h1>")
        doc = run_web(w, web_job(u("/", "localhost"), max_depth=2))
        check_eq(titles(doc), ["Home", "Page"], "one page per host spelling")
        check_eq(site.hits, {"/": 1, "/page": 1}, "each page fetched once whatever its host's case")


def test_host_limits_take_every_spelling_as_one_host():
    """WEBSCRAPER_DELAY_MS spaces the starts on one host, whatever the spelling of its name: a
    link to http://LOCALHOST.:P/x (upper case, the root label's trailing dot) waits its turn on
    the host localhost like http://localhost:P/b does. localhost. does not resolve here, so /x
    fails at once and is only counted; what counts is when each fetch starts: / at t0, /x at
    t0+D, /b at t0+2D (with two host slots, /x started at t0 and /b at t0+D)."""
    delay = 1.5
    site = Site()
    env = dict(ALLOW, WEBSCRAPER_DELAY_MS=str(int(delay * 1000)), WEBSCRAPER_HOST_CONCURRENCY="1")
    with site, Worker(env=env) as w:
        u = site.url
        site.page("/", '<h1>Home</h1><a href="%s">dot</a><a href="%s">b</a>'
                  % (u("/x", "LOCALHOST."), u("/b", "localhost")))
        site.page("/b", "<h1>B</h1>")
        t0 = time.monotonic()
        doc = run_web(w, web_job(u("/", "localhost"), max_depth=2))
        elapsed = time.monotonic() - t0
        check_eq(titles(doc), ["Home", "B"], "the unresolvable spelling fails, /b is fetched")
        gap = site.hit_times["/b"][0] - site.hit_times["/"][0]
        check(gap >= 2 * delay - 0.1,
              "/b waits for / and for LOCALHOST./x on the one host (gap %.2f s)" % gap)
        check(elapsed < 2 * delay + 5, "no longer than the delays (%.2f s)" % elapsed)


# ---------------------------------------------------------------------------------------------

TRICKY = (
    '<!DOCTYPE html><html><head><title>ignored</title><base href="/base/"></head><body>'
    '<p>orphan before any heading</p>'
    '<section><h1>Caf&eacute; &amp; <em>Bar</em></h1>'
    '<p>one &lt;tag&gt;</p><img src="pic.png"><p>one &lt;tag&gt;</p>'
    '<section><h2>\n  Inner\n</h2><p>inner text</p><img src="//cdn.example.test/x.png"><img>'
    '</section><p>after inner</p></section>'
    '<h3>h3 is ignored</h3><ul><li><a href="rel/page">rel</a></li></ul>'
    '<a href="../up">up</a><a href="javascript:void(0)">js</a>'
    '<h2>Malformed<p>para in h2?</h2><p>unclosed <b>bold <i>both</p>'
    '<a href="/latin1">l</a><a href="/cyr.html">c</a><a href="/big">b</a>'
    '<a href="/bin.html">x</a><a href="/gz">g</a><a href="/image.png">i</a>'
    '</body></html>')


def tricky_site():
    s = Site()
    s.page("/tricky", TRICKY)
    s.page("/latin1", "<h1>Caf\xe9</h1><p>na\xefve \xa9</p>".encode("latin-1"),
           content_type="text/html; charset=ISO-8859-1")
    s.page("/cyr.html", '<html><head><meta charset="windows-1251"></head><body><h1>'.encode()
           + "Привет".encode("cp1251") + b"</h1></body></html>", content_type="text/html")
    big = (b"<h1>Big</h1><p>first</p>" + b"<p>filler</p>" * (6 * 1024 * 1024 // 13)
           + b"<h2>Tail</h2><p>past the cap</p>")
    check(len(big) > 6 * 1024 * 1024, "big page is over 6 MiB")
    s.page("/big", big)
    s.page("/bin.html", bytes(range(256)) * 64 + b"<h1>Hidden</h1>", content_type="text/html")
    s.page("/gz", "<h1>Gzipped</h1><p>" + "z" * 5000 + "</p>", gzip=True)
    s.page("/image.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, content_type="image/png")
    s.page("/empty", b"")
    s.page("/to-empty", '<h1>Before empty</h1><a href="/empty">e</a>')
    s.page("/empty.txt", b"", content_type="text/plain")
    return s


def test_tricky_html_extraction():
    site = tricky_site()
    with site, Worker(env=ALLOW) as w:
        u = site.url
        doc, body = run_web(w, web_job(u("/tricky")), raw=True)
        # the bytes Go's encoding/json writes: '<' '>' '&' escaped, lower-case hex, UTF-8 as is
        check(b'{"sections":[{"title":"Caf\xc3\xa9 \\u0026 Bar","paragraphs":["one \\u003ctag\\u003e"]'
              in body, "web result not written as Go writes it: %r" % body[:300])
        check(b"<" not in body and b">" not in body and b"&" not in body,
              "web result holds an unescaped < > or &: %r" % body[:300])
        check_eq(doc["sections"], [
            {"title": "Café & Bar", "paragraphs": ["one <tag>"],
             "images": [u("/base/pic.png")]},
            {"title": "\n  Inner\n", "paragraphs": ["inner text", "after inner"],
             "images": ["http://cdn.example.test/x.png", u("/base/")]},
            {"title": "Malformed", "paragraphs": ["para in h2?", "unclosed bold both"],
             "images": None},
        ], "sections of the tricky page (document order, <base>, entities, duplicates)")
        check_eq(doc["pages"], [u("/base/rel/page"), u("/up"), u("/latin1"), u("/cyr.html"),
                                u("/big"), u("/bin.html"), u("/gz"), u("/image.png")],
                 "links resolved against <base>")

        reset(site)
        doc = run_web(w, web_job(u("/tricky"), max_depth=2))
        by_title = {s["title"]: s for s in doc["sections"]}
        check_eq(titles(doc)[:3], ["Café & Bar", "\n  Inner\n", "Malformed"], "start page first")
        check_eq(titles(doc)[3:], ["Café", "Привет", "Big", "Gzipped"],
                 "deeper pages in link order; binary and image skipped")
        check_eq(by_title["Café"]["paragraphs"], ["naïve ©"], "ISO-8859-1 header charset")
        big = by_title["Big"]["paragraphs"]
        check(big[:2] == ["first", "filler"] and len(big) <= 3 and "past the cap" not in big,
              "page over the 5 MiB cap: the prefix is parsed (the last paragraph may be cut), "
              "repeated paragraphs merged: %r" % big)
        check("Tail" not in by_title, "content past WEBSCRAPER_MAX_PAGE_BYTES must not appear")
        check("Hidden" not in by_title, "binary content behind .html must not be parsed")
        check_eq(by_title["Gzipped"]["paragraphs"], ["z" * 5000], "gzip body decoded")
        gz_headers = site.request_headers.get("/gz", {})
        check("gzip" in gz_headers.get("Accept-Encoding", ""),
              "the crawler should offer gzip: %r" % gz_headers)
        check_eq(site.count("/image.png"), 1, "image fetched once (then skipped as non-HTML)")

        # a binary or non-HTML start page is a job error, not an empty success
        err = run_web_failing(w, web_job(u("/bin.html")))
        check("not an HTML page" in err, "binary start page error: %r" % err)
        err = run_web_failing(w, web_job(u("/image.png")))
        check("not an HTML page" in err and "image/png" in err, "image start page error: %r" % err)
        err = run_web_failing(w, web_job(u("/missing")))
        check("HTTP 404" in err, "404 start page error: %r" % err)
        # an HTML start page with an empty body is an empty success, deeper ones are parsed too
        doc, body = run_web(w, web_job(u("/empty")), raw=True)
        check_eq(body, b'{"sections":null,"pages":null}', "empty HTML start page")
        reset(site)
        doc = run_web(w, web_job(u("/to-empty"), max_depth=2))
        check_eq((titles(doc), doc["pages"]), (["Before empty"], [u("/empty")]),
                 "a link to an empty page")
        check_eq(site.count("/empty"), 1, "the empty page was fetched")
        # an empty body under a non-HTML type is still not an HTML page
        err = run_web_failing(w, web_job(u("/empty.txt")))
        check("not an HTML page" in err and "text/plain" in err, "empty text start page: %r" % err)
        w.healthy("tricky pages")


# ---------------------------------------------------------------------------------------------


def test_undecodable_page_writes_no_stray_log_line():
    """A page whose bytes do not decode in the charset it names makes libxml2 report encoding
    errors; they must not reach stderr outside the logger: with LOG_FORMAT=json every line the
    worker writes is one JSON object (a log shipper drops or misreads anything else)."""
    site = Site()
    site.page("/jp", b"<h1>Title</h1><p>bad \xa4\xa2\xa4\xa4 bytes</p>",
              content_type="text/html; charset=ISO-2022-JP")
    env = dict(ALLOW, LOG_FORMAT="json")
    with site, Worker(env=env) as w:
        w.run_job(web_job(site.url("/jp")))
        lines = [line for line in w.stderr().splitlines() if line]
        for line in lines:
            try:
                doc = json.loads(line)
            except ValueError:
                fail("a stderr line that is not a JSON log line: %r" % line)
            check(isinstance(doc, dict) and "msg" in doc, "not a log object: %r" % line)


def test_blacklist_redirects_and_counters():
    site = Site()
    env = dict(ALLOW, WEBSCRAPER_BLACKLIST=" localhost , ,evil.test")
    with site, Worker(env=env) as w:
        u = site.url
        lh = lambda p: site.url(p, host="localhost")  # noqa: E731
        site.page("/", '<h1>Start</h1><a href="%s">blocked</a><a href="/ok">ok</a>'
                       '<a href="/hop">hop</a>' % lh("/secret"))
        site.page("/ok", "<h1>OK</h1>")
        site.redirect("/hop", lh("/secret2"))
        site.redirect("/go", lh("/final"))
        site.redirect("/moved", "/ok")
        site.page("/secret", "<h1>Secret</h1>")
        site.page("/secret2", "<h1>Secret2</h1>")
        site.page("/final", "<h1>Final</h1>")

        doc = run_web(w, web_job(u("/"), max_depth=2))
        check_eq(titles(doc), ["Start", "OK"], "blacklisted link and redirect are skipped")
        check_eq(doc["pages"], [lh("/secret"), u("/ok"), u("/hop")],
                 "a blacklisted link is still listed")
        check_eq(site.count("/secret") + site.count("/secret2"), 0,
                 "nothing fetched from the blacklisted host")
        check_eq(site.count("/hop"), 1, "the redirecting page was fetched")

        err = run_web_failing(w, web_job(lh("/")))
        check_eq(err, "URL blacklisted: %s" % lh("/"), "blacklisted start URL")
        err = run_web_failing(w, web_job(site.url("/x", host="a.b.evil.test")))
        check(err.startswith("URL blacklisted:"), "subdomain of a blacklisted host: %r" % err)

        err = run_web_failing(w, web_job(u("/go")))
        check("URL blacklisted: %s" % lh("/final") in err and "redirect" in err,
              "start URL redirecting to a blacklisted host: %r" % err)
        check_eq(site.count("/final"), 0, "the blocked redirect target was not fetched")

        reset(site)
        doc = run_web(w, web_job(u("/moved")))
        check_eq(titles(doc), ["OK"], "an allowed redirect is followed")
        check_eq(site.hits, {"/moved": 1, "/ok": 1}, "redirect fetches")

        # counters: 3 blacklisted (invalid), 1 failed start (error), 2 successes
        tel = json.loads(w.run_job({"type": "telemetry", "arguments": {}})[3])
        counters = tel["stats"].get(w.worker_id(), {})
        check_eq((counters.get("web_success"), counters.get("web_invalid"),
                  counters.get("web_errors")), (2, 2, 1),
                 "web_success/web_invalid/web_errors in %r" % counters)


def test_cookies_kept_through_the_crawl():
    """jobs-and-capabilities.md 5.2: the crawler has a cookie jar, as Go's (colly) does. A site
    whose start URL sets a cookie and redirects to itself (a cookie check), and whose other pages
    want that cookie, is crawled; the start page is still parsed once."""
    site = Site()

    def has_cookie(handler):
        return "visited=yes" in (handler.headers.get("Cookie") or "")

    def gate(handler, n):
        if not has_cookie(handler):
            return 302, {"Location": "/", "Set-Cookie": "visited=yes; Path=/"}, b""
        return 200, {"Content-Type": "text/html"}, b'<h1>Home</h1><a href="/inner">in</a>'

    def inner(handler, n):
        if not has_cookie(handler):
            return 403, {"Content-Type": "text/plain"}, b"no cookie"
        return 200, {"Content-Type": "text/html"}, b"<h2>Inner</h2><p>with cookie</p>"

    site.handler("/", gate)
    site.handler("/inner", inner)
    with site, Worker(env=ALLOW) as w:
        doc = run_web(w, web_job(site.url("/"), max_depth=2))
        check_eq(titles(doc), ["Home", "Inner"], "pages behind the cookie check")
        check_eq(doc["sections"][1]["paragraphs"], ["with cookie"], "inner page content")
        check_eq(site.count("/"), 2, "start URL: the redirect, then the page")
        check_eq(site.count("/inner"), 1, "inner page fetched once")
        site.redirect("/forever", "/forever")
        err = run_web_failing(w, web_job(site.url("/forever")))
        check("more than" in err and "redirects" in err, "endless self-redirect: %r" % err)


def test_start_url_with_spaces():
    """jobs-and-capabilities.md 2.1: the start URL must parse as Go's url.Parse does, which takes
    spaces in the path and query (only the host may not hold one); they are sent escaped, as
    spaces in links are."""
    site = Site()
    site.page("/a%20b", '<h1>Spaced</h1><a href="/c d">c</a>')
    site.page("/c%20d", "<h1>Linked</h1>")
    with site, Worker(env=ALLOW) as w:
        doc = run_web(w, web_job(site.url("/a b") + "?q=x y", max_depth=2))
        check_eq(titles(doc), ["Spaced", "Linked"], "start URL with spaces crawled")
        check_eq(site.count("/a%20b?q=x+y") + site.count("/a%20b?q=x%20y"), 1,
                 "start URL sent escaped: %r" % site.hits)
        r = w.post("/job/generate", json_body={"type": "web", "arguments": {
            "url": "http://bad host.test/"}})
        expect_json_error(r, 400, "space in the host",
                          prefix="Invalid arguments: failed to unmarshal web job arguments: "
                                 "failed to unmarshal arguments: invalid URL format: ")


def test_private_addresses_refused_without_allow_private():
    site = Site()
    site.page("/", "<h1>Private</h1>")
    with site, Worker(env={"WEBSCRAPER_ALLOW_PRIVATE": None}) as w:
        for url in (site.url("/"), site.url("/", host="localhost")):
            err = run_web_failing(w, web_job(url))
            check("private" in err and "refused" in err, "refusal message for %s: %r" % (url, err))
        check_eq(site.total_hits(), 0, "no request may reach a loopback site")
        tel = json.loads(w.run_job({"type": "telemetry", "arguments": {}})[3])
        check_eq(tel["stats"].get(w.worker_id(), {}).get("web_errors"), 2, "web_errors")


# ---------------------------------------------------------------------------------------------


def test_429_retried_after_retry_after():
    site = Site()

    def limited(handler, n):
        if n == 1:
            return 429, {"Retry-After": "1", "Content-Type": "text/html"}, b"slow down"
        return 200, {"Content-Type": "text/html"}, b'<h1>Limited</h1><a href="/dated">d</a>'

    def dated(handler, n):
        if n == 1:
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            return 429, {"Retry-After": when, "Content-Type": "text/plain"}, b"later"
        return 200, {"Content-Type": "text/html"}, b"<h1>Dated</h1>"

    def forever(handler, n):
        return 429, {"Retry-After": "3600", "Content-Type": "text/plain"}, b"go away"

    def huge(value):
        return lambda handler, n: (429, {"Retry-After": value, "Content-Type": "text/plain"}, b"")

    site.handler("/", limited)
    site.handler("/dated", dated)
    site.handler("/forever", forever)
    # saturated at 10^8 s by the parser, before the wait is computed in ms (the date's 6.8e16 s
    # times 1000 overflowed)
    site.handler("/huge", huge("99999999999999999999"))
    site.handler("/hugedate", huge("Wed, 31 Dec 2147483647 23:59:59 GMT"))
    with site, Worker(env=ALLOW) as w:
        doc = run_web(w, web_job(site.url("/"), max_depth=2))
        check_eq(titles(doc), ["Limited", "Dated"], "both pages after their 429s")
        check_eq((site.count("/"), site.count("/dated")), (2, 2), "one retry each")
        t = site.hit_times
        gap = t["/"][1] - t["/"][0]
        check(0.9 <= gap < 5, "Retry-After: 1 honoured (gap %.2f s)" % gap)
        gap = t["/dated"][1] - t["/dated"][0]
        check(0.9 <= gap < 5, "Retry-After as an HTTP date honoured (gap %.2f s)" % gap)

        t0 = time.monotonic()
        err = run_web_failing(w, web_job(site.url("/forever")))
        check("429" in err and "deadline" in err, "Retry-After past the deadline: %r" % err)
        check(time.monotonic() - t0 < 5, "a retry past the deadline fails at once")
        check_eq(site.count("/forever"), 1, "no retry when it cannot happen in time")

        for path in ("/huge", "/hugedate"):
            err = run_web_failing(w, web_job(site.url(path)))
            check("429" in err and "100000000000 ms" in err and "deadline" in err,
                  "a huge Retry-After is capped at 10^8 s, then refused by the deadline: %r" % err)
            check_eq(site.count(path), 1, "no retry after a huge Retry-After")
        w.healthy("huge Retry-After values")


def test_job_deadline_cuts_a_slow_site():
    site = Site()
    links = "".join('<a href="/slow%d">s</a>' % i for i in range(6))
    site.page("/", "<h1>Fast</h1>" + links)
    for i in range(6):
        site.page("/slow%d" % i, "<h1>Slow</h1>", delay=8)
    site.page("/slowstart", "<h1>never</h1>", delay=8)
    with site, Worker(env=dict(ALLOW, JOB_TIMEOUT_SECONDS="2")) as w:
        t0 = time.monotonic()
        doc = run_web(w, web_job(site.url("/"), max_depth=2))
        elapsed = time.monotonic() - t0
        check(elapsed < 3.5, "the job should end at its 2 s deadline, took %.1f s" % elapsed)
        check_eq(titles(doc), ["Fast"], "what was fetched before the deadline is returned")
        check_eq(len(doc["pages"]), 6, "links of the start page")
        check(site.count("/slow0") == 1, "slow pages were requested: %r" % site.hits)

        t0 = time.monotonic()
        err = run_web_failing(w, web_job(site.url("/slowstart")))
        elapsed = time.monotonic() - t0
        check(elapsed < 3.5, "a slow start page fails at the deadline, took %.1f s" % elapsed)
        check("deadline" in err or "timed out" in err, "slow start page error: %r" % err)


def test_internationalized_hosts():
    """A host written in Unicode is fetched under its ASCII form, as Go's net/http does (the worker
    runs in the C locale, where libcurl's own conversion fails): bücher.localhost is
    xn--bcher-kva.localhost, which libcurl resolves to the loopback address like any *.localhost
    name. Both spellings are one page; links are listed as written; an invalid name fails with
    libidn2's reason; an unknown name fails at name resolution, naming its ASCII form."""
    site = Site()
    port = None

    def idn(path, host="b\u00fccher.localhost"):
        return "http://%s:%d%s" % (host, port, path)

    def ace(path):
        return "http://xn--bcher-kva.localhost:%d%s" % (port, path)

    def home(handler, n):
        return 200, {"Content-Type": "text/html"}, (
            '<h1>Home</h1><a href="%s">idn</a><a href="%s">ace</a><a href="%s">upper</a>'
            '<a href="%s">bad</a><a href="%s">other</a>'
            % (idn("/page"), ace("/page"), idn("/page", "B\u00dcCHER.localhost"),
               idn("/bad", "-b\u00fc.localhost"), idn("/other"))).encode("utf-8")

    site.handler("/", home)
    site.page("/page", "<h1>Page</h1>")
    site.page("/other", "<h1>Other</h1>")
    site.page("/bad", "<h1>Bad</h1>")
    with site, Worker(env=ALLOW) as w:
        port = site.port
        site.redirect("/to-idn", "http://b%%C3%%BCcher.localhost:%d/other" % port)
        site.redirect("/to-bad", "http://-b%%C3%%BC.localhost:%d/bad" % port)
        doc = run_web(w, web_job(idn("/"), max_depth=2))
        check_eq(titles(doc), ["Home", "Page", "Other"], "pages under a Unicode host")
        check_eq(doc["pages"], [idn("/page"), ace("/page"), idn("/page", "B\u00dcCHER.localhost"),
                                idn("/bad", "-b\u00fc.localhost"), idn("/other")],
                 "links are listed as the page wrote them")
        check_eq(site.hits, {"/": 1, "/page": 1, "/other": 1},
                 "both spellings (and the upper-case one) are one page; the invalid one is not "
                 "fetched")
        for path in ("/", "/page", "/other"):
            check_eq(site.request_headers[path].get("Host"), "xn--bcher-kva.localhost:%d" % port,
                     "Host header of %s" % path)

        # the start URL percent-escaped, and a redirect to a Unicode host, followed
        reset(site)
        doc = run_web(w, web_job("http://b%%C3%%BCcher.localhost:%d/to-idn" % port))
        check_eq(titles(doc), ["Other"], "a percent-escaped start URL redirected to a Unicode host")
        check_eq(site.hits, {"/to-idn": 1, "/other": 1}, "fetches through the redirect")

        err = run_web_failing(w, web_job(site.url("/to-bad")))
        check(err.startswith("invalid internationalized host name (string start/ends with "
                             "forbidden hyphen): http://-b\u00fc.localhost:%d/bad (redirect "
                             "target)" % port),
              "redirect of the start page to an invalid internationalized host: %r" % err)
        check_eq(site.count("/bad"), 0, "the invalid host was not fetched")

        # a name that resolves nowhere fails at name resolution, under its ASCII form
        err = run_web_failing(w, web_job("http://b\u00fccher.invalid/"))
        check("fetching http://xn--bcher-kva.invalid/" in err and "resolve" in err,
              "an unknown Unicode host fails at name resolution, named in ASCII: %r" % err)
        w.healthy("internationalized hosts")


def test_blacklist_matches_either_spelling_of_a_host():
    """A blacklist term written in Unicode blocks the punycode host and the other way round, for
    the start URL and for links."""
    site = Site()
    port = None

    def url(host, path):
        return "http://%s:%d%s" % (host, port, path)

    def home(handler, n):
        return 200, {"Content-Type": "text/html"}, (
            '<h1>Home</h1><a href="%s">a</a><a href="%s">b</a><a href="%s">ok</a>'
            % (url("xn--bcher-kva.localhost", "/a"), url("www.m\u00fcnchen.localhost", "/b"),
               url("127.0.0.1", "/ok"))).encode("utf-8")

    site.handler("/", home)
    for path in ("/a", "/b", "/ok"):
        site.page(path, "<h1>%s</h1>" % path)
    env = dict(ALLOW, WEBSCRAPER_BLACKLIST="B\u00dcCHER.localhost,xn--mnchen-3ya.localhost")
    with site, Worker(env=env) as w:
        port = site.port
        doc = run_web(w, web_job(site.url("/"), max_depth=2))
        check_eq(titles(doc), ["Home", "/ok"], "links to blacklisted hosts in either spelling")
        check_eq(site.hits, {"/": 1, "/ok": 1}, "nothing fetched from the blacklisted hosts")
        for start in (url("xn--bcher-kva.localhost", "/a"), url("b\u00fccher.localhost", "/a"),
                      url("m\u00fcnchen.localhost", "/b"), url("xn--mnchen-3ya.localhost", "/b"),
                      "http://b%%C3%%BCcher.localhost:%d/a" % port):
            err = run_web_failing(w, web_job(start))
            check_eq(err, "URL blacklisted: %s" % start, "blacklisted start URL %r" % start)
        check_eq(site.hits, {"/": 1, "/ok": 1}, "still nothing fetched from the blacklisted hosts")



def test_blacklist_reads_ipv6_literals():
    """An IPv4-mapped IPv6 literal host is the IPv4 address it connects to, for the blacklist too:
    [::ffff:127.0.0.1] and [::ffff:7f00:1] are blocked by the term 127.0.0.1 (start URL, link,
    redirect); an IPv6 term is read with or without brackets."""
    site = Site()
    port = None

    def home(handler, n):
        return 200, {"Content-Type": "text/html"}, (
            '<h1>Home</h1><a href="http://[::ffff:7f00:1]:%d/a">a</a><a href="/hop">hop</a>'
            % port).encode()

    site.handler("/", home)
    site.page("/a", "<h1>A</h1>")
    with site, Worker(env=dict(ALLOW, WEBSCRAPER_BLACKLIST="127.0.0.1,::1")) as w:
        port = site.port
        site.redirect("/hop", "http://[::FFFF:127.0.0.1]:%d/a" % port)
        doc = run_web(w, web_job(site.url("/", host="localhost"), max_depth=2))
        check_eq(titles(doc), ["Home"], "mapped literals of a blacklisted address are not crawled")
        check_eq(site.hits, {"/": 1, "/hop": 1}, "fetches")
        for start in ("http://[::ffff:127.0.0.1]:%d/a" % port, "http://[0::1]:%d/a" % port):
            err = run_web_failing(w, web_job(start))
            check_eq(err, "URL blacklisted: %s" % start, "blacklisted start URL %r" % start)
        check_eq(site.count("/a"), 0, "the blacklisted address was never fetched")

# ---------------------------------------------------------------------------------------------

PREFIX = "Invalid arguments: failed to unmarshal web job arguments: failed to unmarshal arguments: "


def test_argument_validation():
    with Worker(env=ALLOW) as w:
        cases = [
            ({}, PREFIX + "url is required"),
            ({"url": ""}, PREFIX + "url is required"),
            ({"url": None}, PREFIX + "url is required"),
            ({"url": "google"}, PREFIX + "URL must include a scheme (http:// or https://)"),
            ({"url": "www.x.com/a"}, PREFIX + "URL must include a scheme (http:// or https://)"),
            ({"url": "ftp://x.test/"}, PREFIX + 'URL scheme must be http or https, got "ftp"'),
            ({"url": "http://x.test/", "max_depth": -1},
             PREFIX + "max_depth must be non-negative, got: -1"),
            ({"url": "http://x.test/", "depth": -2}, PREFIX + "depth must be non-negative, got: -2"),
            ({"url": "http://x.test/", "max_depth": "2"}, PREFIX + "failed to unmarshal Web "
             "arguments: json: cannot unmarshal string into Go struct field .max_depth of type int"),
            ({"url": "http://x.test/", "max_depth": 2.5}, PREFIX + "failed to unmarshal Web "
             "arguments: json: cannot unmarshal number 2.5 into Go struct field .max_depth of type int"),
            ({"url": 5}, PREFIX + "failed to unmarshal Web arguments: json: cannot unmarshal "
             "number into Go struct field .url of type string"),
        ]
        for args, message in cases:
            r = w.post("/job/generate", json_body={"type": "web", "arguments": args})
            expect_json_error(r, 400, "generate web %r" % args, message=message)
        r = w.post("/job/generate", json_body={"type": "web", "arguments": {"url": "http://[::1"}})
        expect_json_error(r, 400, "unparsable URL", prefix=PREFIX + 'invalid URL format: parse "http://[::1": ')
        # a long non-ASCII URL is quoted cut on a character boundary: the reason after it survives
        r = w.post("/job/generate", json_body={"type": "web", "arguments": {
            "url": "http://[x" + "\u00e9" * 100}})
        err = expect_json_error(r, 400, "long non-ASCII URL")["error"]
        check(err.startswith(PREFIX + 'invalid URL format: parse "http://[x\u00e9') and
              '": ' in err and err.split('": ', 1)[1] != "", "reason kept: %r" % err)
        # an internationalized host with no ASCII form is refused with libidn2's reason
        for url, why in (("http://-b\u00fc.example/", "string start/ends with forbidden hyphen"),
                         ("http://xn--zz.b%C3%BCcher.example/x", "string contains invalid "
                          "punycode data"),
                         ("http://a_b.b\u00fccher.example/", "character not allowed in a host "
                          "name")):
            r = w.post("/job/generate", json_body={"type": "web", "arguments": {"url": url}})
            expect_json_error(r, 400, "invalid IDN host %r" % url, message=PREFIX + 'invalid URL '
                              'format: parse "%s": invalid internationalized host name (%s)'
                              % (url, why))
        # accepted: case-insensitive key, unknown keys, null depth, a null spelling that does not
        # erase another one (Go: null assigns nothing)
        for args in ({"URL": "https://x.test/"}, {"url": "http://x.test", "selector": "p",
                                                  "type": "foo", "depth": None, "extra": [1]},
                     {"URL": "https://x.test/", "url": None},
                     # an internationalized host, as such or percent-escaped, in any case
                     {"url": "http://b\u00fccher.example/"},
                     {"url": "http://b%C3%BCcher.example/x"},
                     {"url": "https://B\u00dcCHER.example:8443/a b"}):
            r = w.post("/job/generate", json_body={"type": "web", "arguments": args})
            expect_status(r, 200, "generate web %r" % args)


def test_job_threads_start_as_jobs_arrive():
    # an idle worker holds one job thread; slow jobs arriving together get one each, up to
    # MAX_JOBS, and run side by side (threads are kept once started)
    with Site() as site:
        site.page("/slow", "<h1>Slow</h1><p>text</p>", delay=1.5)
        job = {"type": "web", "arguments": {"url": site.url("/slow")}}
        with Worker(env={"MAX_JOBS": "3", "WEBSCRAPER_ALLOW_PRIVATE": "true"}) as w:
            def threads():
                return len(harness.threads_of(w.proc.pid))
            idle = threads()
            sigs = [w.generate(job) for _ in range(5)]
            t0 = time.monotonic()
            uids = [w.add(sig) for sig in sigs]
            for uid in uids:
                expect_status(w.wait_status(uid, timeout=30), 200, "slow web job")
            took = time.monotonic() - t0
            check(took < 6.0, "5 jobs of 1.5 s on 3 threads took %.1f s (one thread: 7.5 s)" % took)
            check(took >= 2.9, "5 jobs of 1.5 s took %.1f s: more than MAX_JOBS 3 at once" % took)
            time.sleep(0.5)         # libcurl's resolver threads, if any, are gone
            check_eq(threads() - idle, 2, "job threads started beyond the first (MAX_JOBS 3)")


def threads_with_three_slow_jobs(site, extra_env=None, before=None):
    """Starts a worker (MAX_JOBS 3, the site allowed, extra_env on top), calls before(worker) if
    given, adds three web jobs for the site's /slow page (a second each), and returns the worker's
    threads (harness.threads_of) while the three run side by side; waits for them to end."""
    site.page("/slow", "<h1>Slow</h1><p>text</p>", delay=1.0)
    job = {"type": "web", "arguments": {"url": site.url("/slow")}}
    env = {"MAX_JOBS": "3", "WEBSCRAPER_ALLOW_PRIVATE": "true"}
    env.update(extra_env or {})
    with Worker(env=env) as w:
        if before:
            before(w)
        uids = [w.add(sig) for sig in [w.generate(job) for _ in range(3)]]
        time.sleep(0.5)                 # the three run side by side
        threads = harness.threads_of(w.proc.pid)
        for uid in uids:
            expect_status(w.wait_status(uid, timeout=30), 200, "slow web job")
    names = [t["name"] for t in threads]
    check_eq(names.count("tw-job"), 3, "job threads in %r (%r)" % (names, extra_env))
    return threads


def test_http_cpus_pin_the_request_path_only():
    # HTTP_CPUS=c: the HTTP thread (libmicrohttpd's) and the store's writer run on c alone; the
    # job threads, those the writer starts as jobs arrive included, keep the process's CPUs
    cpu = sorted(os.sched_getaffinity(0))[-1]
    everything = harness.proc_status("/proc/self/status")["Cpus_allowed_list"]
    with Site() as site:
        threads = threads_with_three_slow_jobs(site, {"HTTP_CPUS": str(cpu)})
    names = [t["name"] for t in threads]
    check("MHD-single" in names and "tw-store" in names, "threads: %r" % names)
    for t in threads:
        want = str(cpu) if t["name"].startswith("MHD-") or t["name"] == "tw-store" else everything
        check_eq(t["cpus"], want, "CPUs of thread %s" % t["name"])


def test_writer_follows_the_http_thread_and_job_threads_stay_free():
    # Without HTTP_CPUS (WRITER_FOLLOWS_HTTP=true, the default): once admissions came, the store's
    # writer is on the one core an HTTP thread handed it work from; the HTTP thread and the job
    # threads (which the writer starts as jobs arrive) keep the process's CPUs. Off, or with
    # HTTP_THREADS 2 (no single thread to follow), or on a single CPU, the writer keeps them too.
    allowed = sorted(os.sched_getaffinity(0))
    everything = harness.proc_status("/proc/self/status")["Cpus_allowed_list"]
    with Site() as site:
        for extra, follows in (({}, True), ({"WRITER_FOLLOWS_HTTP": "false"}, False),
                               ({"HTTP_THREADS": "2"}, False)):
            threads = threads_with_three_slow_jobs(site, extra)
            names = [t["name"] for t in threads]
            writer = [t for t in threads if t["name"] == "tw-store"]
            check_eq(len(writer), 1, "store writers in %r" % names)
            if follows and len(allowed) > 1:
                check(writer[0]["cpus"].isdigit() and int(writer[0]["cpus"]) in allowed,
                      "the writer's CPUs %r: not one of %r" % (writer[0]["cpus"], allowed))
            else:
                check_eq(writer[0]["cpus"], everything, "the writer's CPUs (%r)" % extra)
            for t in threads:
                if t["name"] != "tw-store":
                    check_eq(t["cpus"], everything, "CPUs of thread %s (%r)" % (t["name"], extra))


def test_job_threads_stay_on_the_cpus_the_process_is_narrowed_to_while_running():
    # With the writer following the HTTP thread (the default), the job threads it starts put
    # themselves back on the CPUs the process may use now: narrowed while running (taskset -a -p
    # to one CPU), the job threads started after stay on that CPU, not on the start-up's CPUs.
    one = sorted(os.sched_getaffinity(0))[-1]

    def narrow(w):                      # taskset -a -p: every thread of the running worker
        for t in harness.threads_of(w.proc.pid):
            os.sched_setaffinity(t["tid"], {one})
    with Site() as site:
        threads = threads_with_three_slow_jobs(site, before=narrow)   # two job threads new
    for t in threads:
        check_eq(t["cpus"], str(one), "CPUs of thread %s" % t["name"])


if __name__ == "__main__":
    harness.main(globals())
