"""apify_fake.py - a local fake of the Apify API v2 (tiktok-reddit-apify.md 4.2, twitter.md 10.3).

Routes (all under /v2):
  GET  /users/me                       200 for the good token, 401 otherwise (users_me_status overrides)
  POST /acts/<actor>/runs              records actor + input; 201 {"data":{"id","status","defaultDatasetId"}}
  GET  /actor-runs/<id>                the next status of the run's script (the last one repeats)
  POST /actor-runs/<id>/abort          recorded in .aborts; the run is ABORTED afterwards
  GET  /datasets/<id>/items            fixture[offset:offset+limit] as a bare JSON array
The token is accepted from `Authorization: Bearer <t>` or `?token=<t>`; which one came is recorded.

Scenario knobs (attributes, changeable between jobs; each run takes them when it starts):
  datasets[actor]      list of raw items (any JSON values, None = a literal null item)
  statuses             list of statuses returned by successive polls, e.g. ["RUNNING", "SUCCEEDED"]
  status_message       statusMessage of the run object
  start_reply          (status, body bytes) to answer the start request with instead of 201
  status_reply         (status, body bytes) for run status polls instead of the script
  dataset_reply        (status, body bytes) for dataset reads instead of the fixture
  poll_delay_s         sleep before answering each status poll
  users_me_delay_s     sleep before answering GET /users/me (the worker's start-up key check)
Usage:  with ApifyFake() as fake: env = fake.worker_env(); ...; fake.runs, fake.aborts, fake.polls
"""
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from fakes.base import LocalServer, loopback_server

GOOD_TOKEN = "apify-good-token"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    # -- plumbing

    def _send(self, status, body):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _token(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[7:], "header"
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if "token" in q:
            return q["token"][0], "query"
        return "", "none"

    def _authorised(self):
        token, where = self._token()
        fake = self.server.fake
        with fake.lock:
            fake.token_places.append(where)
        if token != fake.token:
            self._send(401, {"error": {"type": "token-not-provided",
                                       "message": "Authentication token was not provided or is invalid"}})
            return False
        return True

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # -- routes

    def do_GET(self):
        fake = self.server.fake
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        with fake.lock:
            fake.requests.append(("GET", path, parts.query))
        if path == "/v2/users/me":
            if fake.users_me_delay_s:
                time.sleep(fake.users_me_delay_s)
            if fake.users_me_status is not None:
                return self._send(fake.users_me_status, {"error": {"type": "x", "message": "scripted"}})
            if not self._authorised():
                return None
            return self._send(200, {"data": {"id": "user1", "username": "tester"}})
        if not self._authorised():
            return None
        if path.startswith("/v2/actor-runs/"):
            return self._run_status(path[len("/v2/actor-runs/"):])
        if path.startswith("/v2/datasets/") and path.endswith("/items"):
            return self._dataset(path[len("/v2/datasets/"):-len("/items")], parts.query)
        return self._send(404, {"error": {"type": "record-not-found", "message": "no route"}})

    def do_POST(self):
        fake = self.server.fake
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        body = self._body()
        with fake.lock:
            fake.requests.append(("POST", path, parts.query))
        if not self._authorised():
            return None
        if path.startswith("/v2/acts/") and path.endswith("/runs"):
            return self._start(urllib.parse.unquote(path[len("/v2/acts/"):-len("/runs")]), body)
        if path.startswith("/v2/actor-runs/") and path.endswith("/abort"):
            run_id = path[len("/v2/actor-runs/"):-len("/abort")]
            with fake.lock:
                fake.aborts.append(run_id)
                run = fake.run_by_id.get(run_id)
                if run:
                    run["aborted"] = True
            return self._send(200, {"data": {"id": run_id, "status": "ABORTING"}})
        return self._send(404, {"error": {"type": "record-not-found", "message": "no route"}})

    def _start(self, actor, body):
        fake = self.server.fake
        try:
            actor_input = json.loads(body.decode("utf-8"))
        except ValueError:
            actor_input = {"__unparsable__": body.decode("utf-8", "replace")}
        with fake.lock:
            n = len(fake.runs) + 1
            run = {"actor": actor, "input": actor_input, "raw_input": body, "id": "run%d" % n,
                   "dataset": "ds%d" % n, "statuses": list(fake.statuses), "polls": 0,
                   "aborted": False, "items": list(fake.datasets.get(actor, [])),
                   "status_message": fake.status_message,
                   "content_type": self.headers.get("Content-Type")}
            fake.runs.append(run)
            fake.run_by_id[run["id"]] = run
            fake.run_by_dataset[run["dataset"]] = run
            reply = fake.start_reply
        if reply:
            return self._send(reply[0], reply[1])
        return self._send(201, {"data": {"id": run["id"], "status": "READY",
                                         "defaultDatasetId": run["dataset"], "actId": actor}})

    def _run_status(self, run_id):
        fake = self.server.fake
        if fake.poll_delay_s:
            time.sleep(fake.poll_delay_s)
        with fake.lock:
            run = fake.run_by_id.get(run_id)
            fake.polls += 1
            reply = fake.status_reply
            if run:
                run["polls"] += 1
                i = min(run["polls"], len(run["statuses"])) - 1
                status = "ABORTED" if run["aborted"] else run["statuses"][i]
        if reply:
            return self._send(reply[0], reply[1])
        if not run:
            return self._send(404, {"error": {"type": "record-not-found", "message": "no run"}})
        data = {"id": run_id, "status": status, "defaultDatasetId": run["dataset"]}
        if run["status_message"]:
            data["statusMessage"] = run["status_message"]
        return self._send(200, {"data": data})

    def _dataset(self, ds, query):
        fake = self.server.fake
        q = urllib.parse.parse_qs(query)
        with fake.lock:
            run = fake.run_by_dataset.get(ds)
            reply = fake.dataset_reply
            fake.dataset_reads.append({"dataset": ds, "offset": q.get("offset", [None])[0],
                                       "limit": q.get("limit", [None])[0]})
        if reply:
            return self._send(reply[0], reply[1])
        if not run:
            return self._send(404, {"error": {"type": "record-not-found", "message": "no dataset"}})
        offset = int(q.get("offset", ["0"])[0])
        limit = int(q.get("limit", ["0"])[0])
        items = run["items"][offset:offset + limit] if limit else run["items"][offset:]
        return self._send(200, json.dumps(items).encode("utf-8"))


class ApifyFake(LocalServer):
    def __init__(self, token=GOOD_TOKEN):
        self.token = token
        self.lock = threading.Lock()
        self.datasets = {}
        self.statuses = ["SUCCEEDED"]
        self.status_message = None
        self.start_reply = None
        self.status_reply = None
        self.dataset_reply = None
        self.users_me_status = None
        self.poll_delay_s = 0.0
        self.users_me_delay_s = 0.0
        self.runs = []
        self.run_by_id = {}
        self.run_by_dataset = {}
        self.aborts = []
        self.polls = 0
        self.dataset_reads = []
        self.requests = []
        self.token_places = []

    @property
    def base_url(self):
        return "http://127.0.0.1:%d/v2" % self.server.server_address[1]

    def worker_env(self, key=GOOD_TOKEN, poll_ms=20, timeout_s=None):
        env = {"APIFY_BASE_URL": self.base_url, "APIFY_API_KEY": key,
               "APIFY_POLL_INTERVAL_MS": str(poll_ms)}
        if timeout_s is not None:
            env["JOB_TIMEOUT_SECONDS"] = str(timeout_s)
        return env

    def reset_scenario(self):
        with self.lock:
            self.statuses = ["SUCCEEDED"]
            self.status_message = None
            self.start_reply = self.status_reply = self.dataset_reply = None
            self.poll_delay_s = 0.0

    def start(self):
        return self.serve(loopback_server(_Handler))
