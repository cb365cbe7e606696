#!/usr/bin/env python3
"""test_summary.py - read meson's testlog.json files and print "N passed, N failed" (exit 1 on failure).

Each meson test (one unit-test program or one end-to-end script) counts once per run it was in."""
import json
import sys

passed = failed = 0
args = sys.argv[1:]
while args[:1] == ["--extra"]:          # --extra NAME 1|0: one more check run outside meson
    name, ok = args[1], args[2] == "1"
    args = args[3:]
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAILED {name}")
for path in args:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        print(f"missing test log {path}: {e}")
        failed += 1
        continue
    run = path.split("/")[0]
    for line in lines:
        t = json.loads(line)
        if t.get("result") in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
            print(f"FAILED [{run}] {t.get('name')}: {t.get('result')}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
