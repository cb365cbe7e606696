#!/usr/bin/env python3
"""test_lazy_libs.py - libcurl, libxml2, libhiredis, libcrypto, GnuTLS, libidn2 and libm are opened
on first use (src/util/lazy_lib.h); libmicrohttpd, SQLite, jansson, nettle and libuuid are linked
in.

A worker on the default (SQLite) store that has served /healthz and run a telemetry job maps none
of libcurl, libxml2, libhiredis, ICU (libicuuc, pulled in by libxml2), OpenSSL's libcrypto
(sealing is on nettle), GnuTLS or p11-kit (libmicrohttpd's HTTPS, for the enclave's listener:
test_enclave.py runs it), libidn2 (internationalized host names; libcurl also links it), nor libm
unless the sanitizer runtime needs it, nor any of the five libraries linked from static archives:
/proc/PID/maps says so.
A web job against a page served on 127.0.0.1 then succeeds, and libcurl and libxml2 are mapped
afterwards (still not libhiredis). A worker on the Redis store (redis-server on a free loopback
port, as in test_fleet.py) maps libhiredis from the start, and still neither libcurl nor libxml2
after a telemetry job. A worker given a key distributor's public key opens libcrypto at start-up
(it checks that key), and /setkey then works."""
import json
import re

import harness as h
from fakes.site import Site
from test_fleet import Redis, fleet_env, keys_file

TELEMETRY = {"type": "telemetry", "arguments": {}}
LAZY = ("libcurl", "libxml2", "libhiredis", "libicuuc", "libcrypto", "libgnutls", "libp11-kit",
        "libidn2")
# linked from Debian's static archives (meson.build): in the binary, never mapped as libraries
LINKED_IN = ("libmicrohttpd", "libsqlite3", "libjansson", "libnettle", "libuuid")


def mapped_libraries(w):
    """The base names of the shared objects mapped in the worker (under valgrind: in valgrind's
    process, which maps the program's libraries the same way)."""
    with open("/proc/%d/maps" % w.proc.pid, "r", encoding="utf-8") as f:
        text = f.read()
    return sorted(set(m.group(1) for m in re.finditer(r"/([^/\s]+\.so[.0-9]*)$", text, re.M)))


def mapped(libs, prefix):
    return [n for n in libs if n.startswith(prefix + ".so") or n.startswith(prefix + "-")]


def check_not_mapped(libs, prefixes, when):
    for p in prefixes:
        h.check(not mapped(libs, p), "%s: %s is mapped, it should not be until first use; "
                "mapped: %s" % (when, p, " ".join(libs)))


def check_mapped(libs, prefixes, when):
    for p in prefixes:
        h.check(mapped(libs, p), "%s: %s is not mapped; mapped: %s" % (when, p, " ".join(libs)))


def test_idle_and_telemetry_map_none_web_maps_curl_and_libxml2():
    site = Site()
    site.page("/", '<h1>Lazy</h1><p>loaded on first use</p><a href="/next">next</a>')
    # a blacklist term written in Unicode is converted when a host is checked, not at start-up
    env = {"WEBSCRAPER_ALLOW_PRIVATE": "true", "WEBSCRAPER_BLACKLIST": "b\u00fccher.example"}
    with site, h.Worker(env=env) as w:
        h.expect_status(w.get("/healthz"), 200, "/healthz")
        libs = mapped_libraries(w)
        check_mapped(libs, ["libc"], "idle")   # the listing itself works
        check_not_mapped(libs, LAZY + LINKED_IN, "idle")
        # libm is opened on the first maths call; only the sanitizer runtime needs it itself
        if mapped(libs, "libm"):
            check_mapped(libs, ["libasan"], "idle, libm mapped")

        _, _, _, body = w.run_job(TELEMETRY)
        h.check(json.loads(body.decode("utf-8")), "telemetry result is empty: %r" % body)
        check_not_mapped(mapped_libraries(w), LAZY, "after a telemetry job")

        web = {"type": "web", "arguments": {"url": site.url("/")}}
        _, _, _, body = w.run_job(web)
        doc = json.loads(body.decode("utf-8"))
        h.check_eq([s["title"] for s in doc["sections"]], ["Lazy"], "web job section titles")
        h.check_eq(doc["pages"], [site.url("/next")], "web job pages (the links found)")
        h.check_eq(site.hits.get("/"), 1, "fetches of the page")
        libs = mapped_libraries(w)
        check_mapped(libs, ["libcurl", "libxml2", "libidn2"], "after a web job")
        check_not_mapped(libs, ["libhiredis"], "after a web job")
        # libcurl links libssl and so libcrypto: one copy, whoever opens it first
        h.check(len(mapped(libs, "libcrypto")) == 1, "libcrypto mapped once: %s" % " ".join(libs))

        # the libraries stay loaded and keep working
        _, _, _, body = w.run_job(web)
        h.check_eq(json.loads(body.decode("utf-8"))["pages"], doc["pages"], "second web job")


def test_redis_store_maps_hiredis_only():
    redis = Redis().start()
    try:
        with h.Worker(env=fleet_env(redis, keys_file())) as w:
            libs = mapped_libraries(w)
            check_mapped(libs, ["libhiredis"], "a worker on the Redis store")
            check_not_mapped(libs, ["libcurl", "libxml2", "libicuuc"],
                             "a worker on the Redis store")
            _, _, _, body = w.run_job(TELEMETRY)
            h.check(json.loads(body.decode("utf-8")), "telemetry result is empty: %r" % body)
            check_not_mapped(mapped_libraries(w), ["libcurl", "libxml2", "libicuuc"],
                             "a worker on the Redis store, after a telemetry job")
    finally:
        redis.stop()


def test_distributor_key_opens_libcrypto():
    v = h.vectors()["setkey"]
    with h.Worker(env={"KEY_DISTRIBUTOR_PUBKEY": h.distributor_pubkey_file()}) as w:
        check_mapped(mapped_libraries(w), ["libcrypto"], "with KEY_DISTRIBUTOR_PUBKEY")
        r = w.post("/setkey", json_body={"key": v["key"], "signature": v["signature"]})
        h.expect_status(r, 200, "/setkey with the vectors' signature")


if __name__ == "__main__":
    h.main(globals())
