#!/usr/bin/env python3
"""An HTTP server (Python's http.server) that receives webhook posts for the
notification tests. Prints `READY <port>`, then `HOOK <json>` per request
(path, content type, parsed JSON body). Paths ending in /404 or /500 answer
with that status and a short text; everything else 200. Stops on SIGTERM."""

import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Requests are served on threads: one write per line, under a lock, so two
# concurrent posts never interleave their lines (print writes in pieces).
OUT = threading.Lock()


def emit(line: str) -> None:
    with OUT:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        emit("HOOK " + json.dumps({"path": self.path, "content_type": self.headers.get("Content-Type"), "user_agent": self.headers.get("User-Agent"), "body": body, "raw": raw.decode("utf-8", "replace") if body is None else None}, ensure_ascii=False))
        status = 200
        for code in (404, 500):
            if self.path.endswith(f"/{code}"):
                status = code
        text = {200: b"ok", 404: b"no such hook here", 500: b"internal trouble"}[status]
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    emit(f"READY {server.server_address[1]}")
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
