"""twitter_web_fake.py - a local fake of the X web client API for the credential backend
(twitter.md 10.1 as amended by twitter-modern.md 6.4 item 8).

One server plays every host: the REST host (guest token, login flow, account settings), the
web app (/home for the transaction-id key, the indices script) and GraphQL under
/i/api/graphql/<queryId>/<Operation> (GET with variables/features in the query string, or POST
with a JSON body). GraphQL is routed by operation name; the query id is recorded, not checked.

What every GraphQL request must carry, else it is answered with an error and recorded in
`violations` (tests assert that list stays empty):
  authorization  Bearer <BEARER>
  cookie         auth_token of a live session and its current ct0
  x-csrf-token   equal to the ct0 cookie (else 403 code 353)
  x-twitter-auth-type OAuth2Session, a browser user-agent
  x-client-transaction-id  a valid id for the method and path, computed with the key and
                 animation frames this fake serves on /home (vector 1 of twitter-modern.md 3.3.8);
                 checked byte for byte (SHA-256 of METHOD!PATH!time + animation key).
The first GraphQL answer of each session rotates ct0 (Set-Cookie); the previous value stays
accepted (requests already in flight), and each request records whether it sent a stale one
(`stale_ct0`), so tests can check that later requests send the new value in both places.

Login flow (POST /1.1/onboarding/task.json): JsInstrumentation -> EnterUserIdentifierSSO ->
[LoginEnterAlternateIdentifierSubtask when the account has `challenge`] -> EnterPassword (wrong
password: 400 code 399) -> AccountDuplicationCheck -> [LoginTwoFactorAuthChallenge when the
account has a TOTP secret] -> LoginSuccessSubtask with Set-Cookie auth_token and ct0.

Cookies are set as a server at 127.0.0.1 may set them (RFC 6265 5.3 step 6): the login cookies
with Domain=127.0.0.1 (the host itself), the ct0 rotation host-only (no Domain).
foreign_cookies (Set-Cookie values) are added to every answer that sets cookies: cookies scoped
to a domain this host does not match, which the worker must ignore; a request that carries a
cookie named or valued "planted" is recorded in `violations`.

Knobs: accounts (name -> {"password", "challenge", "totp", "deny" (DenyLoginSubtask)}), add_session(user) (a live cookie
session, returns (auth_token, ct0)), expire(user) (kills its sessions: 401 code 32 after),
kill_on (operation -> number of its requests whose live session dies while they are answered,
after their delay: answered 401 code 32, as is every later request of that session),
rate_limited[user] = set of operation names or {"*"} (429 code 88 with x-rate-limit-reset),
exhausted[user] = set of operation names answered 200 with x-rate-limit-remaining 0,
locked (set of users: 403 code 326), malformed (set of operation names answered with a broken
timeline: SearchTimeline a truncated body, others entries of the wrong types), costly (set of
operation names answered 200 with a JSON object padded with 700000 empty objects),
method_required (operation -> "GET"/"POST": the other method gets 404 with an empty body),
cloudflare (set of operation names answered 403 with a Cloudflare HTML page), login_rate_limited
(number of login-flow calls answered 429 code 88, x-rate-limit-reset login_reset_in seconds
ahead), login_overloaded (number of login-flow calls answered 503 code 130 "Over capacity"), drop (operation ->
number of requests whose connection is closed without an answer), delay
(operation -> seconds before answering; max_in_flight[user] records the most concurrent
requests of one account), home_redirect (a URL: /home answers 302 to it; REDIRECT_TARGET on
this fake serves the home page, as a private address behind x.com would), data sets (tweets,
users, trends, ...). Records: requests (dicts: method, path, op, user, variables, query_id),
redirect_target_hits (requests of REDIRECT_TARGET).
"""
import base64
import hashlib
import hmac
import itertools
import json
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from fakes.base import LocalServer, loopback_server

BEARER = "test-bearer-NRILg"
BIG = 1900000000000000000          # tweet ids above 2^53: must stay exact
REDIRECT_TARGET = "/latest/meta-data/home"   # where home_redirect may point (this fake's loopback)

# Transaction-id inputs: vector 1 of twitter-modern.md 3.3.8.
KEY = bytes((7 * i + 3) % 256 for i in range(48))
ANIM_KEY = "25364710147ae147ae147b0147ae147ae147b100"
SCRIPT_HASH = "0123456789abcdef"
INDICES_JS = ("(self.webpackChunk=self.webpackChunk||[]).push([[20113],{1:(e,t,n)=>{var o=function()"
              "{return [(a[2],16),(b[12], 16),(c[14],\n 16),(d[7],16)].join('')}}}]);")


def _frame_path():
    rows = [[(31 * r + 17 * c + 5) % 256 for c in range(11)] for r in range(16)]
    return "M 10,30 C" + " C".join(
        "".join(("," if c % 2 else " ") + str(v) for c, v in enumerate(row)) for row in rows)


DECOY = "M 10,30 C 1 2 3 4 5 6 7 8 9 10 11 C 1 2 3 4 5 6 7 8 9 10 11"


def home_page():
    frames = []
    for k in range(4):
        d = _frame_path() if k == KEY[5] % 4 else DECOY
        frames.append('<svg id="loading-x-anim-%d"><g><path d="M 0 0"></path><path d="%s">'
                      '</path></g></svg>' % (k, d))
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\" />"
            "<meta name=\"twitter-site-verification\" content=\"%s\" />"
            "<script>n.u=e=>e+\".\"+{20113:\"ondemand.s\",20114:\"bundle.Foo\"}[e]+\".\"+"
            "{20114:\"aaaaaaa\",20113:\"%s\"}[e]+\"a.js\"</script></head><body><div id=\"r\">%s"
            "</div></body></html>" % (base64.b64encode(KEY).decode(), SCRIPT_HASH,
                                      "".join(frames)))


def check_txid(value, method, path):
    """None when value is a valid transaction id for method and path, else the reason."""
    if not value:
        return "missing x-client-transaction-id"
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4))
    except Exception:  # noqa: BLE001
        return "x-client-transaction-id is not base64"
    if len(raw) != 70:
        return "x-client-transaction-id decodes to %d bytes" % len(raw)
    r = raw[0]
    b = bytes(x ^ r for x in raw[1:])
    if b[-1] != 3 or b[:48] != KEY:
        return "x-client-transaction-id: wrong key or trailer"
    now = struct.unpack("<I", b[48:52])[0]
    real = int((time.time() * 1000 - 1682924400000) // 1000)
    if abs(real - now) > 120:
        return "x-client-transaction-id: time %d, expected about %d" % (now, real)
    h = hashlib.sha256(("%s!%s!%d%s%s" % (method, path, now, "obfiowerehiring", ANIM_KEY))
                       .encode()).digest()
    if b[52:68] != h[:16]:
        return "x-client-transaction-id: hash does not match %s %s" % (method, path)
    return None


def totp(secret, now=None):
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((now or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7fffffff) % 1000000)


# ---------------------------------------------------------------------------------------------
# data


def user(i, name=None):
    name = name or "user%d" % i
    return {"__typename": "User", "rest_id": str(40 + i), "id": base64.b64encode(
        ("User:%d" % (40 + i)).encode()).decode(), "is_blue_verified": i % 2 == 0,
        "core": {"screen_name": name, "name": name.upper(),
                 "created_at": "Wed Dec 19 20:20:32 +0000 2007"},
        "avatar": {"image_url": "https://pbs.example/%s_normal.jpg" % name},
        "location": {"location": "Space"}, "privacy": {"protected": False},
        "verification": {"verified": False},
        "profile_bio": {"description": "bio of %s" % name},
        "relationship_counts": {"followers": 1000 + i, "following": 20 + i},
        "tweet_counts": {"tweets": 500 + i, "media_tweets": 7},
        "action_counts": {"favorites_count": 3}}


def tweet(i, author=None, media=None, reply_to=None):
    tid = str(BIG + i)
    author = author or user(2, "alice")
    legacy = {"id_str": tid, "conversation_id_str": str(BIG + (reply_to or i)),
              "user_id_str": author["rest_id"], "full_text": "tweet %d #tag" % i,
              "created_at": "Wed Jan 01 12:00:%02d +0000 2025" % (i % 60),
              "favorite_count": i, "reply_count": 2, "retweet_count": 3,
              "entities": {"hashtags": [{"text": "tag"}], "urls": [], "user_mentions": []}}
    if reply_to is not None:
        legacy["in_reply_to_status_id_str"] = str(BIG + reply_to)
    if media == "photo":
        legacy["extended_entities"] = {"media": [{"id_str": "5%d" % i, "type": "photo",
                                                  "media_url_https": "https://pbs.example/%d.jpg" % i,
                                                  "url": "https://t.co/p%d" % i}]}
    elif media == "video":
        legacy["extended_entities"] = {"media": [{
            "id_str": "6%d" % i, "type": "video", "media_url_https": "https://pbs.example/v%d.jpg" % i,
            "url": "https://t.co/v%d" % i, "video_info": {"variants": [
                {"bitrate": 832000, "content_type": "video/mp4", "url": "https://v.example/%d.mp4" % i},
                {"content_type": "application/x-mpegURL", "url": "https://v.example/%d.m3u8" % i}]}}]}
    return {"__typename": "Tweet", "rest_id": tid,
            "core": {"user_results": {"result": author}},
            "views": {"count": str(10 + i), "state": "EnabledWithCount"}, "legacy": legacy}


def tweet_entry(t, prefix="tweet"):
    return {"entryId": "%s-%s" % (prefix, t["rest_id"]), "sortIndex": t["rest_id"],
            "content": {"entryType": "TimelineTimelineItem", "__typename": "TimelineTimelineItem",
                        "itemContent": {"itemType": "TimelineTweet", "__typename": "TimelineTweet",
                                        "tweet_results": {"result": t},
                                        "tweetDisplayType": "Tweet"}}}


def user_entry(u):
    return {"entryId": "user-%s" % u["rest_id"], "sortIndex": u["rest_id"],
            "content": {"entryType": "TimelineTimelineItem", "__typename": "TimelineTimelineItem",
                        "itemContent": {"itemType": "TimelineUser", "__typename": "TimelineUser",
                                        "user_results": {"result": u},
                                        "userDisplayType": "User"}}}


def cursor_entry(value, kind="Bottom"):
    return {"entryId": "cursor-%s-%s" % (kind.lower(), value), "sortIndex": "0",
            "content": {"entryType": "TimelineTimelineCursor",
                        "__typename": "TimelineTimelineCursor", "value": value,
                        "cursorType": kind}}


def timeline(entries):
    return {"timeline": {"instructions": [
        {"type": "TimelineClearCache"},
        {"type": "TimelineAddEntries", "entries": entries}]}}


# ---------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status, body, headers=None, ctype="application/json"):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or []):
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):   # the worker gave up (its deadline)
            self.close_connection = True

    def _cookies(self):
        out = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                out[k.strip()] = v.strip()
        return out

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):  # noqa: N802
        self._dispatch("GET", b"")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST", self._body())

    def _dispatch(self, method, body):
        fake = self.server.fake
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        if "planted" in (self.headers.get("Cookie") or ""):
            fake.violate("%s sent a cookie set for another domain: %r" % (
                path, self.headers.get("Cookie")))
        if path == "/home":
            with fake.lock:
                fake.home_fetches.append(self._cookies().get("auth_token"))
                redirect = fake.home_redirect
            if redirect:
                return self._send(302, b"", [("Location", redirect)], ctype="text/html")
            return self._send(200, home_page().encode(), ctype="text/html; charset=utf-8")
        if path == REDIRECT_TARGET:
            with fake.lock:
                fake.redirect_target_hits += 1
            return self._send(200, home_page().encode(), ctype="text/html; charset=utf-8")
        if path == "/responsive-web/client-web/ondemand.s.%sa.js" % SCRIPT_HASH:
            if self.headers.get("Cookie"):
                fake.violate("cookies sent to the asset host")
            return self._send(200, INDICES_JS.encode(), ctype="application/javascript")
        if path == "/1.1/guest/activate.json" and method == "POST":
            return self._guest()
        if path == "/1.1/onboarding/task.json" and method == "POST":
            return self._flow(parts.query, body)
        if path == "/1.1/account/settings.json":
            return self._settings()
        if path.startswith("/i/api/graphql/"):
            return self._graphql(method, path, parts.query, body)
        return self._send(404, b"")

    # ---- auth

    def _check_bearer(self):
        if self.headers.get("authorization") != "Bearer " + BEARER:
            self.server.fake.violate("bad authorization %r" % self.headers.get("authorization"))
            self._send(401, {"errors": [{"code": 32, "message": "Could not authenticate you."}]})
            return False
        return True

    def _guest(self):
        fake = self.server.fake
        if not self._check_bearer():
            return
        with fake.lock:
            fake.guest_calls += 1
            gt = "gt-%d" % next(fake.counter) + fake.guest_token_suffix
        self._send(200, {"guest_token": gt})

    def _flow(self, query, body):
        fake = self.server.fake
        if not self._check_bearer():
            return
        if not (self.headers.get("x-guest-token") or "").startswith("gt-"):
            fake.violate("login flow without x-guest-token")
        if self.headers.get("x-injected") is not None:
            fake.violate("login flow with a header injected through the guest token")
        try:
            doc = json.loads(body.decode())
        except Exception:  # noqa: BLE001
            return self._send(400, {"errors": [{"code": 0, "message": "bad json"}]})
        with fake.lock:
            limited = fake.login_rate_limited > 0
            if limited:
                fake.login_rate_limited -= 1
            overloaded = not limited and fake.login_overloaded > 0
            if overloaded:
                fake.login_overloaded -= 1
        if limited:
            return self._send(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
                              [("x-rate-limit-reset", str(int(time.time()) + fake.login_reset_in))])
        if overloaded:
            return self._send(503, {"errors": [{"code": 130, "message": "Over capacity"}]})
        time.sleep(fake.flow_delay)
        with fake.lock:
            fake.flow_calls.append(doc)
            if "flow_name=login" in query:
                tok = "f%d" % next(fake.counter)
                fake.flows[tok] = {"user": None}
                return self._send(200, {"flow_token": tok, "status": "success", "subtasks": [
                    {"subtask_id": "LoginJsInstrumentationSubtask"}]})
            tok = doc.get("flow_token")
            flow = fake.flows.pop(tok, None)
            if flow is None:
                return self._send(400, {"errors": [{"code": 366, "message": "flow_token expired"}]})
            inp = (doc.get("subtask_inputs") or [{}])[0]
            sid = inp.get("subtask_id")
            nxt = "f%d" % next(fake.counter)

            def go(subtask, cookies=None):
                fake.flows[nxt] = flow
                return (200, {"flow_token": nxt, "status": "success",
                              "subtasks": [{"subtask_id": subtask}] if subtask else []}, cookies)

            acct = fake.accounts.get(flow["user"]) if flow["user"] else None
            if sid == "LoginJsInstrumentationSubtask":
                ans = go("LoginEnterUserIdentifierSSO")
            elif sid == "LoginEnterUserIdentifierSSO":
                name = inp["settings_list"]["setting_responses"][0]["response_data"][
                    "text_data"]["result"]
                flow["user"] = name
                acct = fake.accounts.get(name)
                if acct is None:
                    ans = (400, {"errors": [{"code": 399, "message": "Sorry, we could not find "
                                             "your account."}]}, None)
                elif acct.get("deny"):
                    fake.flows[nxt] = flow
                    ans = (200, {"flow_token": nxt, "status": "success", "subtasks": [{
                        "subtask_id": "DenyLoginSubtask", "cta": {"secondary_text": {
                            "text": "We blocked an attempt to access your account"}}}]}, None)
                elif acct.get("challenge"):
                    ans = go("LoginEnterAlternateIdentifierSubtask")
                else:
                    ans = go("LoginEnterPassword")
            elif sid == "LoginEnterAlternateIdentifierSubtask":
                ok = inp["enter_text"]["text"] == flow["user"]
                ans = go("LoginEnterPassword") if ok else (
                    400, {"errors": [{"code": 399, "message": "wrong identifier"}]}, None)
            elif sid == "LoginEnterPassword":
                if inp["enter_password"]["password"] != acct["password"]:
                    ans = (400, {"errors": [{"code": 399, "message": "Wrong password!"}]}, None)
                else:
                    ans = go("AccountDuplicationCheck")
            elif sid == "AccountDuplicationCheck":
                if acct.get("totp"):
                    ans = go("LoginTwoFactorAuthChallenge")
                else:
                    ans = go("LoginSuccessSubtask", fake._new_session(flow["user"]))
            elif sid == "LoginTwoFactorAuthChallenge":
                code = inp["enter_text"]["text"]
                if code not in (totp(acct["totp"]), totp(acct["totp"], time.time() - 30)):
                    ans = (400, {"errors": [{"code": 236, "message": "wrong code"}]}, None)
                else:
                    ans = go("LoginSuccessSubtask", fake._new_session(flow["user"]))
            else:
                ans = (400, {"errors": [{"code": 0, "message": "unexpected %s" % sid}]}, None)
        status, doc, cookies = ans
        headers = []
        if cookies:
            auth, ct0 = cookies
            headers = [("Set-Cookie", "auth_token=%s; Domain=127.0.0.1; Path=/; Secure; HttpOnly"
                        % auth),
                       ("Set-Cookie", "ct0=%s; Domain=127.0.0.1; Path=/; Secure" % ct0),
                       ("Set-Cookie", "att=gone; Max-Age=0; Domain=127.0.0.1; Path=/")]
            headers += [("Set-Cookie", c) for c in fake.foreign_cookies]
        self._send(status, doc, headers)

    def _session(self):
        """(user, None) for a live session with matching csrf, else (None, (status, body))."""
        fake = self.server.fake
        c = self._cookies()
        with fake.lock:
            s = fake.sessions.get(c.get("auth_token"))
        if not s or s.get("dead"):
            return None, (401, {"errors": [{"code": 32, "message": "Could not authenticate you."}]})
        sent = c.get("ct0")
        if sent != self.headers.get("x-csrf-token") or sent not in (s["ct0"], s.get("old_ct0")):
            fake.violate("csrf: cookie %r header %r session %r" % (
                sent, self.headers.get("x-csrf-token"), s["ct0"]))
            return None, (403, {"errors": [{"code": 353, "message": "This request requires a "
                                            "matching csrf cookie and header."}]})
        return s, None

    def _settings(self):
        fake = self.server.fake
        if not self._check_bearer():
            return
        s, err = self._session()
        with fake.lock:
            fake.settings_calls += 1
        if err:
            return self._send(*err)
        self._send(200, {"screen_name": s["user"]})

    # ---- GraphQL

    def _graphql(self, method, path, query, body):
        fake = self.server.fake
        segs = path.split("/")
        qid, op = segs[4], segs[5] if len(segs) > 5 else ""
        if method == "GET":
            q = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
            params = {k: json.loads(v) for k, v in q.items()}
        else:
            params = json.loads(body.decode() or "{}")
            if self.headers.get("content-type") != "application/json":
                fake.violate("POST without content-type application/json")
        variables = params.get("variables") or {}
        if not isinstance(params.get("features"), dict) or not params["features"]:
            fake.violate("%s without features" % op)
        if not self._check_bearer():
            return
        for name, want in (("x-twitter-auth-type", "OAuth2Session"),
                           ("x-twitter-active-user", "yes")):
            if self.headers.get(name) != want:
                fake.violate("%s: %r" % (name, self.headers.get(name)))
        if "Mozilla/5.0" not in (self.headers.get("user-agent") or ""):
            fake.violate("user-agent %r" % self.headers.get("user-agent"))
        why = check_txid(self.headers.get("x-client-transaction-id"), method, path)
        if why:
            fake.violate(why)
        s, err = self._session()
        rec = {"method": method, "op": op, "query_id": qid, "user": s["user"] if s else None,
               "auth": self._cookies().get("auth_token"),
               "variables": variables, "status": err[0] if err else 200,
               "stale_ct0": bool(s) and self._cookies().get("ct0") != s["ct0"]}
        with fake.lock:
            fake.requests.append(rec)
        if why:
            rec["status"] = 404
            return self._send(404, b"")
        with fake.lock:
            wanted = fake.method_required.get(op)
            cloudflare = op in fake.cloudflare
            drop = fake.drop.get(op, 0) > 0
            if drop:
                fake.drop[op] -= 1
        if drop:                                  # the connection dies without an answer
            rec["status"] = 0
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        if wanted and wanted != method:          # what X does when the bundle switched methods
            rec["status"] = 404
            return self._send(404, b"")
        if cloudflare:
            rec["status"] = 403
            return self._send(403, b"<!DOCTYPE html><html><head><title>Attention Required! | "
                              b"Cloudflare</title></head><body>blocked</body></html>",
                              [("cf-ray", "8a1b2c3d4e5f-AMS")], ctype="text/html; charset=UTF-8")
        if err:
            return self._send(*err)
        user_name = s["user"]
        headers = []
        if not s["rotated"]:
            with fake.lock:
                s["rotated"] = True
                s["old_ct0"] = s["ct0"]
                s["ct0"] = "%s-r" % s["ct0"]
            headers.append(("Set-Cookie", "ct0=%s; Path=/; Secure" % s["ct0"]))
            headers += [("Set-Cookie", c) for c in fake.foreign_cookies]
        with fake.lock:
            limited = fake.rate_limited.get(user_name, set())
            locked = user_name in fake.locked
            malformed = op in fake.malformed
        if locked:
            rec["status"] = 403
            return self._send(403, {"errors": [{"code": 326, "message": "To protect our users "
                                                "from spam and other malicious activity, this "
                                                "account is temporarily locked."}]}, headers)
        if op in limited or "*" in limited:
            rec["status"] = 429
            headers.append(("x-rate-limit-limit", "50"))
            headers.append(("x-rate-limit-remaining", "0"))
            headers.append(("x-rate-limit-reset", str(int(time.time()) + 600)))
            return self._send(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
                              headers)
        if op in fake.costly:                          # tiny values: costly to decode
            return self._send(200, b'{"data":{},"pad":[' + b",".join([b"{}"] * 700000) + b"]}",
                              headers)
        if malformed and op == "SearchTimeline":      # cut off in the middle
            return self._send(200, b'{"data":{"search_by_raw_query":{"search_timeline":{"timel',
                              headers)
        if malformed:                                  # entries of the wrong types
            return self._send(200, {"data": {"user": {"result": {"timeline": {"timeline": {
                "instructions": [{"type": "TimelineAddEntries", "entries": [
                    7, None, "x", {"entryId": "tweet-1", "content": []},
                    {"entryId": "tweet-2", "content": {"itemContent": {"tweet_results": {
                        "result": {"__typename": "Tweet", "legacy": "nope"}}}}}]}]}}}}}},
                headers)
        with fake.lock:
            delay = fake.delay.get(op, 0)
            fake.in_flight[user_name] = fake.in_flight.get(user_name, 0) + 1
            fake.max_in_flight[user_name] = max(fake.max_in_flight.get(user_name, 0),
                                                fake.in_flight[user_name])
        time.sleep(delay)
        with fake.lock:
            fake.in_flight[user_name] -= 1
            kill = fake.kill_on.get(op, 0) > 0       # the session dies while X answers
            if kill:
                fake.kill_on[op] -= 1
                s["dead"] = True
        if kill:
            rec["status"] = 401
            return self._send(401, {"errors": [{"code": 32, "message": "Could not authenticate "
                                                "you."}]}, headers)
        answer = fake.answer(op, variables)
        if answer is None:
            return self._send(404, b"")
        with fake.lock:
            spent = op in fake.exhausted.get(user_name, set())
        headers.append(("x-rate-limit-remaining", "0" if spent else "40"))
        headers.append(("x-rate-limit-reset", str(int(time.time()) + 300)))
        return self._send(200, answer, headers)


class TwitterWebFake(LocalServer):
    def __init__(self):
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.accounts = {}
        self.sessions = {}
        self.flows = {}
        self.rate_limited = {}
        self.locked = set()
        self.malformed = set()
        self.costly = set()
        self.method_required = {}
        self.delay = {}
        self.drop = {}
        self.kill_on = {}
        self.exhausted = {}
        self.in_flight = {}
        self.max_in_flight = {}
        self.cloudflare = set()
        self.login_rate_limited = 0     # onboarding calls still to answer 429 code 88
        self.login_reset_in = 60        # their x-rate-limit-reset, seconds from now
        self.login_overloaded = 0       # onboarding calls still to answer 503 code 130
        self.flow_delay = 0             # seconds before each login flow step answers
        self.requests = []
        self.violations = []
        self.flow_calls = []
        self.home_fetches = []
        self.home_redirect = None       # a URL /home answers 302 to
        self.redirect_target_hits = 0   # requests of REDIRECT_TARGET
        self.guest_calls = 0
        self.guest_token_suffix = ""    # appended to every guest token activate.json hands out
        self.foreign_cookies = []       # Set-Cookie values for domains 127.0.0.1 does not match
        self.settings_calls = 0
        self.search_tweets = [tweet(i, media="photo" if i % 3 == 0 else None) for i in range(1, 46)]
        self.profiles = {"nasa": user(0, "NASA"), "alice": user(2, "alice")}
        self.timeline_tweets = [tweet(100 + i, media=("photo", "video", None)[i % 3])
                                for i in range(30)]
        self.follow_users = [user(10 + i) for i in range(25)]
        self.trends = ["#Alpha", "Beta", "#Gamma"]
        self.cursor_padding = ""    # appended to every Bottom "c<offset>" cursor (tests of size)
        self.page_cap = None        # at most this many items in any timeline page

    # ---- lifecycle (stop, `with` and port come from LocalServer)

    def start(self):
        return self.serve(loopback_server(_Handler))

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def worker_env(self, accounts=None, cookies_file=None, extra=None):
        env = {"TWITTER_WEB_BASE": self.base, "TWITTER_GRAPHQL_BASE": self.base + "/i/api/graphql",
               "TWITTER_LOGIN_BASE": self.base, "TWITTER_ASSET_BASE": self.base,
               "TWITTER_BEARER_TOKEN": BEARER, "TWITTER_LOGIN_STEP_DELAY_MS": "0"}
        if accounts:
            env["TWITTER_ACCOUNTS"] = ",".join(accounts)
        if cookies_file:
            env["TWITTER_COOKIES_FILE"] = cookies_file
        env.update(extra or {})
        return env

    # ---- knobs

    def violate(self, what):
        with self.lock:
            self.violations.append(what)

    def _new_session(self, user_name):
        auth = "auth-%s-%d" % (user_name, next(self.counter))
        ct0 = "ct0%032x" % next(self.counter)
        self.sessions[auth] = {"user": user_name, "ct0": ct0, "rotated": False}
        return auth, ct0

    def add_session(self, user_name):
        with self.lock:
            return self._new_session(user_name)

    def expire(self, user_name):
        with self.lock:
            for s in self.sessions.values():
                if s["user"] == user_name:
                    s["dead"] = True

    def calls(self, op=None):
        with self.lock:
            return [r for r in self.requests if op is None or r["op"] == op]

    # ---- answers

    def _page(self, items, variables, make_entry, cap=None, end_cursor=None):
        cur = variables.get("cursor") or "c0"
        if self.cursor_padding and cur.endswith(self.cursor_padding):
            cur = cur[:-len(self.cursor_padding)]
        off = int(cur[1:]) if cur.startswith("c") and cur[1:].isdigit() else 0
        count = int(variables.get("count") or 20)
        if cap:
            count = min(count, cap)
        if self.page_cap:
            count = min(count, self.page_cap)
        page = items[off:off + count]
        entries = [make_entry(x) for x in page]
        entries.append(cursor_entry("top%d" % off, "Top"))
        if off + count < len(items):
            entries.append(cursor_entry("c%d%s" % (off + count, self.cursor_padding)))
        elif end_cursor:
            entries.append(cursor_entry(end_cursor))
        return entries

    def answer(self, op, v):
        if op == "SearchTimeline":
            return {"data": {"search_by_raw_query": {"search_timeline": timeline(
                self._page(self.search_tweets, v, tweet_entry, cap=50))}}}
        if op == "UserByScreenName":
            u = self.profiles.get(v.get("screen_name", "").lower())
            if u is None:
                return {"data": {"user": {}}}
            return {"data": {"user": {"result": u}}}
        if op == "UserByRestId":
            for u in self.profiles.values():
                if u["rest_id"] == v.get("userId"):
                    return {"data": {"user": {"result": u}}}
            return {"data": {"user": {"result": {"__typename": "UserUnavailable",
                                                 "reason": "Suspended",
                                                 "message": "User is suspended"}}}}
        if op == "UserTweets":
            return {"data": {"user": {"result": {"__typename": "User", "timeline": timeline(
                self._page(self.timeline_tweets, v, tweet_entry))}}}}
        if op == "UserMedia":
            media = [t for t in self.timeline_tweets if "extended_entities" in t["legacy"]]
            return {"data": {"user": {"result": {"__typename": "User", "timeline": timeline(
                self._page(media, v, tweet_entry))}}}}
        if op in ("Followers", "Following"):
            users = self.follow_users if op == "Followers" else self.follow_users[:7]
            return {"data": {"user": {"result": {"__typename": "User", "timeline": timeline(
                self._page(users, v, user_entry, end_cursor="0|1"))}}}}
        if op == "Retweeters":
            return {"data": {"retweeters_timeline": timeline(
                self._page(self.follow_users[:12], v, user_entry, end_cursor="0|2"))}}
        if op in ("HomeTimeline", "HomeLatestTimeline"):
            base = 300 if op == "HomeTimeline" else 400
            items = [tweet(base + i) for i in range(12)]
            wrapped = {"__typename": "TweetWithVisibilityResults", "tweet": tweet(base + 99),
                       "limitedActionResults": {"limited_actions": []}}
            items.insert(3, wrapped)

            def entry(t):
                return tweet_entry(t if t["__typename"] == "Tweet" else dict(t, rest_id=t["tweet"]["rest_id"]))
            return {"data": {"home": {"home_timeline_urt": {"instructions": [
                {"type": "TimelineAddEntries", "entries": self._page(items, v, entry)}]}}}}
        if op == "TweetDetail":
            focal = v.get("focalTweetId", "")
            if not focal.isdigit() or int(focal) - BIG not in range(1, 1000):
                return {"data": {"threaded_conversation_with_injections_v2": {
                    "instructions": [{"type": "TimelineAddEntries", "entries": []}]}}}
            fi = int(focal) - BIG
            replies = [tweet(500 + i, reply_to=fi) for i in range(8)]
            if v.get("cursor"):
                entries = self._page(replies, {"cursor": v["cursor"], "count": 5},
                                     lambda t: tweet_entry(t))
            else:
                entries = [tweet_entry(tweet(fi))] + self._page(replies, {"count": 5},
                                                                lambda t: tweet_entry(t))
            return {"data": {"threaded_conversation_with_injections_v2": {"instructions": [
                {"type": "TimelineAddEntries", "entries": entries}]}}}
        if op == "GenericTimelineById":
            items = [{"entryId": "trend-%d" % i, "item": {"itemContent": {
                "itemType": "TimelineTrend", "__typename": "TimelineTrend", "name": name,
                "trend_url": {"url": "twitter://trending/%d" % i}}}}
                for i, name in enumerate(self.trends)]
            return {"data": {"timeline": {"timeline": {"instructions": [
                {"type": "TimelineAddEntries", "entries": [
                    {"entryId": "frame-0", "content": {"entryType": "TimelineTimelineItem"}},
                    {"entryId": "stories-1", "content": {"entryType": "TimelineTimelineModule",
                                                         "items": items}}]}]}}}}
        if op == "AudioSpaceById":
            if v.get("id") != "1AbCdEfGh":
                return {"data": {"audioSpace": {"metadata": {}}}}
            return {"data": {"audioSpace": {"metadata": {
                "rest_id": "1AbCdEfGh", "state": "Running", "title": "Space talk",
                "created_at": 1700000000000, "started_at": 1700000100000,
                "total_live_listeners": 5, "creator_results": {"result": user(2, "alice")}},
                "participants": {"total": 3, "admins": [{
                    "twitter_screen_name": "alice", "display_name": "Alice",
                    "start": 1700000000000, "user_results": {"rest_id": "42"}}],
                    "speakers": [], "listeners": []}}}}
        return None
