#!/usr/bin/env python3
"""gen_site.py DIR - writes the benchmark site: a tree of HTML pages, fan-out 8, three levels
below the start page (1 + 8 + 64 + 512 = 585 pages). Each page has a heading, a few paragraphs,
two images, links to its children, its parent and the start page. Page /p/1/2/3.html is the
third child of the second child of the first child of the start page (/index.html)."""
import os
import sys

FANOUT = 8
LEVELS = 3
LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
         "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.")


def path_of(ids):
    return "/index.html" if not ids else "/p/" + "/".join(str(i) for i in ids) + ".html"


def page(ids):
    name = "Page " + (".".join(str(i) for i in ids) or "root")
    parts = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title></head><body>"
             % name, "<h1>%s</h1>" % name]
    for k in range(3):
        parts.append("<p>%s (%s, paragraph %d)</p>" % (LOREM, name, k))
    parts.append('<img src="/img/%d.png" alt="a"><img src="img/b%d.png" alt="b">'
                 % (len(ids), len(ids)))
    parts.append("<h2>Links</h2><ul>")
    if len(ids) < LEVELS:
        for c in range(1, FANOUT + 1):
            parts.append('<li><a href="%s">child %d</a></li>' % (path_of(ids + [c]), c))
    parts.append('</ul><a href="%s">up</a> <a href="/index.html">home</a></body></html>'
                 % path_of(ids[:-1]))
    return "".join(parts)


def main():
    root = sys.argv[1]
    count = 0
    stack = [[]]
    while stack:
        ids = stack.pop()
        path = os.path.join(root, path_of(ids).lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(page(ids))
        count += 1
        if len(ids) < LEVELS:
            stack.extend(ids + [c] for c in range(1, FANOUT + 1))
    print(count)


if __name__ == "__main__":
    main()
