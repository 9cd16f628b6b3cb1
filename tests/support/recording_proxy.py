"""A forward proxy stand-in on loopback that records request targets and answers itself.

``RecordingProxy`` never forwards anything: it records the absolute-form target of each
request (``http://provider.test/v1/models``) and answers like an OpenAI-compatible provider
that accepts only ``key``, so tests of proxied calls never leave the machine.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordingProxy:
    """Records absolute-form request targets in ``targets``, answers as OpenAI would."""

    def __init__(self, key: str) -> None:
        self.targets: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy.targets.append(self.path)
                if self.headers.get("Authorization") == f"Bearer {key}":
                    status, body = 200, {"object": "list", "data": [{"id": "gpt-test"}]}
                else:
                    status, body = 401, {"error": {"message": "Incorrect API key"}}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
