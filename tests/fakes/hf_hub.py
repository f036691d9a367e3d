"""A fake Hugging Face Hub on 127.0.0.1: serves local model folders as repositories, for
``mouthpiece models pull`` through the real ``huggingface_hub`` client (``HF_ENDPOINT``)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

_INFO = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?$")
_TREE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)$")
_FILE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")


@dataclass
class FakeHub:
    """Repositories by id (``"openai/whisper-base"``) → the folder whose files they hold."""

    repos: dict[str, Path] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def files(self, repo: str) -> list[str]:
        root = self.repos[repo]
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def commit(self, repo: str) -> str:
        return hashlib.sha1(repo.encode()).hexdigest()


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet: the tests read ``hub.requests``
            pass

        def do_HEAD(self) -> None:  # noqa: N802 (the http.server naming)
            self._answer(body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.requests.append(f"{self.command} {path}")
            if (info := _INFO.match(path)) and info["repo"] in hub.repos:
                repo = info["repo"]
                siblings = [{"rfilename": name, "size": (hub.repos[repo] / name).stat().st_size}
                            for name in hub.files(repo)]
                self._send(200, json.dumps({"id": repo, "modelId": repo, "sha": hub.commit(repo),
                                            "siblings": siblings, "private": False}).encode(),
                           "application/json", body)
                return
            if (tree := _TREE.match(path)) and tree["repo"] in hub.repos:
                root = hub.repos[tree["repo"]]
                entries = [{"type": "file", "path": name, "size": (root / name).stat().st_size,
                            "oid": hashlib.sha1((root / name).read_bytes()).hexdigest()}
                           for name in hub.files(tree["repo"])]
                self._send(200, json.dumps(entries).encode(), "application/json", body)
                return
            if (wanted := _FILE.match(path)) and wanted["repo"] in hub.repos:
                file = hub.repos[wanted["repo"]] / wanted["path"]
                if file.is_file() and wanted["path"] in hub.files(wanted["repo"]):
                    data = file.read_bytes()
                    self._send(200, data, "application/octet-stream", body, {
                        "X-Repo-Commit": hub.commit(wanted["repo"]),
                        "ETag": f'"{hashlib.sha256(data).hexdigest()}"'})
                    return
            self._send(404, json.dumps({"error": "Repository not found"}).encode(), "application/json", body,
                       {"X-Error-Code": "RepoNotFound"})

        def _send(self, status: int, data: bytes, kind: str, body: bool, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler


@contextmanager
def serve(hub: FakeHub) -> Iterator[FakeHub]:
    """Serve ``hub`` on a free port of 127.0.0.1 until the block ends; ``hub.url`` is its address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    thread = threading.Thread(target=server.serve_forever, name="fake-hub", daemon=True)
    thread.start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
