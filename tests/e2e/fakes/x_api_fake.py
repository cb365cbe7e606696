"""x_api_fake.py - a local fake of X API v2 (twitter.md 10.2) for the `twitter-api` and `twitter`
kinds.

Routes (under /2), every one requiring `Authorization: Bearer <key>`:
  GET /tweets/search/recent   a page of `tweets` from the offset in next_token ("p<offset>"),
                              max_results of them (10..100 enforced, else 400)
  GET /tweets/search/all      the same (10..500) for elevated keys; 403 {"title":"Forbidden"}
                              for basic ones (this is also the start-up probe)
  GET /tweets/<id>            {"data": tweet, "includes": {"users": [author]}}, 404 when unknown
  GET /users/<id>             with user.fields: the full profile; without: {id, name, username};
                              404 when unknown
Search pages carry includes.users unless `include_users` is False (then the worker must look
authors up through /users/<id>).

Key modes (`key_modes[key]`, default "basic"): "elevated", "basic", "ratelimited" (429 with
x-rate-limit-reset = now + 120 on every call), "bad" (401 on every call).

Scenario knobs (attributes):
  tweets                list of v2 tweet objects served by search and lookup
  users                 dict id -> full v2 user object
  include_users         bool
  search_reply          (status, body bytes) answering every search instead of the fixture
  fail_at_offset        dict offset -> (status, body bytes, headers dict) for search pages
                        starting at that offset (any key)
  tweet_reply           (status, body bytes) for every tweet lookup
  user_reply            (status, body bytes) for every user lookup
  user_delay_s          seconds to wait before answering a user lookup
  search_all_delay_s    seconds to wait before answering a full-archive search (the probe too)
Records: `requests` (dicts: path, route, params (dict of first values), key).
Usage:  with XApiFake() as fake: env = fake.worker_env(["k1"]); ...
"""
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from fakes.base import LocalServer, loopback_server

BIG_BASE = 1900000000000000001          # > 2^53: ids must stay exact

SEARCH_TWEET_FIELDS = (
    "created_at,author_id,public_metrics,context_annotations,geo,lang,possibly_sensitive,source,"
    "withheld,attachments,entities,conversation_id,in_reply_to_user_id,referenced_tweets,"
    "reply_settings,media_metadata,note_tweet,display_text_range,edit_controls,"
    "edit_history_tweet_ids,article,card_uri,community_id")
SEARCH_USER_FIELDS = (
    "username,affiliation,connection_status,description,entities,id,is_identity_verified,location,"
    "most_recent_tweet_id,name,parody,pinned_tweet_id,profile_banner_url,profile_image_url,"
    "protected,public_metrics,receives_your_dm,subscription,subscription_type,url,verified,"
    "verified_followers_count,verified_type,withheld")
PLACE_FIELDS = "contained_within,country,country_code,full_name,geo,id,name,place_type"


def make_tweet(i, author="42"):
    return {"id": str(BIG_BASE + i), "author_id": author, "text": "tweet %d <&>" % i,
            "created_at": "2025-01-01T12:00:%02d.000Z" % (i % 60),
            "conversation_id": str(BIG_BASE + i), "lang": "en",
            "edit_history_tweet_ids": [str(BIG_BASE + i)],
            "public_metrics": {"retweet_count": i, "reply_count": 2, "like_count": 3,
                               "quote_count": 4, "bookmark_count": 5, "impression_count": 6}}


def default_users():
    return {
        "42": {"id": "42", "name": "Alice", "username": "alice", "description": "d",
               "created_at": "2010-01-01T00:00:00.000Z", "profile_image_url": "https://i/a.jpg",
               "protected": False, "verified": True, "location": "Moon",
               "public_metrics": {"followers_count": 10, "following_count": 2, "tweet_count": 7,
                                  "listed_count": 1, "like_count": 3, "media_count": 4}},
        "43": {"id": "43", "name": "Bob", "username": "bob", "description": "",
               "created_at": "2011-01-01T00:00:00.000Z", "protected": False, "verified": False,
               "public_metrics": {"followers_count": 1}},
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status, body, headers=None):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):   # the worker gave up (its deadline)
            self.close_connection = True

    def do_GET(self):  # noqa: N802
        fake = self.server.fake
        parts = urllib.parse.urlsplit(self.path)
        params = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query,
                                                            keep_blank_values=True).items()}
        auth = self.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else None
        path = parts.path
        route = self._route(path)
        with fake.lock:
            fake.requests.append({"path": path, "route": route, "params": params, "key": key})
            mode = fake.key_modes.get(key, "basic")
        if key is None:
            return self._send(401, {"title": "Unauthorized"})
        if mode == "bad":
            return self._send(401, {"title": "Unauthorized", "detail": "bad key"})
        if mode == "ratelimited":
            return self._send(429, {"title": "Too Many Requests"},
                              {"x-rate-limit-reset": str(int(time.time()) + 120)})
        if route == "search/all" and fake.search_all_delay_s:
            time.sleep(fake.search_all_delay_s)
        if route == "search/all" and mode != "elevated":
            return self._send(403, {"title": "Forbidden"})
        if route.startswith("search/"):
            return self._search(route, params)
        if route == "tweet":
            return self._tweet(path.rsplit("/", 1)[1])
        if route == "user":
            return self._user(path.rsplit("/", 1)[1], params)
        return self._send(404, {"title": "Not Found"})

    @staticmethod
    def _route(path):
        if path == "/2/tweets/search/recent":
            return "search/recent"
        if path == "/2/tweets/search/all":
            return "search/all"
        if path.startswith("/2/tweets/"):
            return "tweet"
        if path.startswith("/2/users/"):
            return "user"
        return "other"

    def _search(self, route, params):
        fake = self.server.fake
        if fake.search_reply:
            return self._send(*fake.search_reply)
        top = 100 if route == "search/recent" else 500
        try:
            n = int(params.get("max_results", "10"))
        except ValueError:
            n = -1
        if not 10 <= n <= top:
            return self._send(400, {"title": "Invalid Request", "detail": "max_results %r" % n})
        token = params.get("next_token", "")
        offset = int(token[1:]) if token.startswith("p") else 0
        if offset in fake.fail_at_offset:
            return self._send(*fake.fail_at_offset[offset])
        items = fake.tweets[offset:offset + n]
        meta = {"result_count": len(items)}
        doc = {"meta": meta}
        if items:
            doc["data"] = items
            meta["newest_id"] = items[0]["id"]
            meta["oldest_id"] = items[-1]["id"]
            if fake.include_users:
                ids = sorted({t.get("author_id") for t in items if t.get("author_id") in fake.users})
                doc["includes"] = {"users": [{"id": i, "name": fake.users[i]["name"],
                                              "username": fake.users[i]["username"]} for i in ids]}
        if offset + n < len(fake.tweets):
            meta["next_token"] = "p%d" % (offset + n)
        return self._send(200, doc)

    def _tweet(self, tid):
        fake = self.server.fake
        if fake.tweet_reply:
            return self._send(*fake.tweet_reply)
        for t in fake.tweets:
            if t.get("id") == tid:
                author = fake.users.get(t.get("author_id"), {})
                users = [{"id": author["id"], "username": author["username"]}] if author else []
                return self._send(200, {"data": t, "includes": {"users": users}})
        return self._send(404, {"title": "Not Found Error"})

    def _user(self, uid, params):
        fake = self.server.fake
        if fake.user_delay_s:
            time.sleep(fake.user_delay_s)
        if fake.user_reply:
            return self._send(*fake.user_reply)
        user = fake.users.get(uid)
        if not user:
            return self._send(404, {"title": "Not Found Error"})
        if "user.fields" not in params:
            return self._send(200, {"data": {"id": user["id"], "name": user["name"],
                                             "username": user["username"]}})
        return self._send(200, {"data": user})


class XApiFake(LocalServer):
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.key_modes = {}
        self.tweets = [make_tweet(i) for i in range(25)]
        self.users = default_users()
        self.include_users = True
        self.search_reply = None
        self.fail_at_offset = {}
        self.tweet_reply = None
        self.user_reply = None
        self.user_delay_s = 0
        self.search_all_delay_s = 0

    def start(self):
        return self.serve(loopback_server(_Handler))

    @property
    def base(self):
        return "http://127.0.0.1:%d/2" % self.server.server_address[1]

    def worker_env(self, keys):
        return {"TWITTER_X_API_BASE": self.base, "TWITTER_API_KEYS": ",".join(keys)}

    def calls(self, route=None, key=None):
        with self.lock:
            return [r for r in self.requests
                    if (route is None or r["route"] == route) and (key is None or r["key"] == key)]

    def clear(self):
        with self.lock:
            self.requests = []
