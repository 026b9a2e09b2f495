"""A scripted HTTP API on 127.0.0.1 standing in for Twilio or Stripe: real SDKs talk to it."""
import json
import threading
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

Request = namedtuple("Request", "method path form authorization")


class _Handler(BaseHTTPRequestHandler):
    def _answer(self):
        api = self.server.api
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        api.received.append(Request(self.command, self.path, parse_qs(body), self.headers.get("Authorization")))
        status, payload = api.script.pop(0) if api.script else (500, {"message": "fake API: no answer scripted"})
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


class FakeApi:
    """Answers each request with the next scripted (status, json) pair and records what it got."""

    def __init__(self):
        self.script, self.received = [], []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.api = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self):
        self._server.shutdown()
        self._server.server_close()
