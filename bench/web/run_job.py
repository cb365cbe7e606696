#!/usr/bin/env python3
"""run_job.py PORT START_URL DEPTH - one web job through the four-step flow on a running worker.
Prints one JSON line: pages (sections with an h1, one per page on the bench site), links listed,
seconds from /job/add to the result being ready (polled every 5 ms)."""
import http.client
import json
import sys
import time


def post(port, path, obj):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("POST", path, json.dumps(obj), {"Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, r.read()


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read()


def main():
    port, url, depth = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    st, sig = post(port, "/job/generate", {"type": "web", "arguments": {"url": url, "max_depth": depth}})
    assert st == 200, (st, sig)
    t0 = time.monotonic()
    st, body = post(port, "/job/add", {"encrypted_job": sig.decode()})
    assert st == 200, (st, body)
    uid = json.loads(body)["uid"]
    while True:
        st, sealed = get(port, "/job/status/" + uid)
        if st != 404:
            break
        time.sleep(0.005)
    seconds = time.monotonic() - t0
    assert st == 200, (st, sealed)
    st, clear = post(port, "/job/result", {"encrypted_result": sealed.decode(), "encrypted_request": sig.decode()})
    assert st == 200, (st, clear)
    doc = json.loads(clear)
    pages = sum(1 for s in doc["sections"] or [] if s["title"].startswith("Page "))
    print(json.dumps({"pages": pages, "links": len(doc["pages"] or []), "seconds": round(seconds, 4)}))


if __name__ == "__main__":
    main()
