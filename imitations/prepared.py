"""A server that replays recorded answers byte for byte, so benchmarks measure the tap, not it.

Fill `ImitationServer.prepared` during a warm-up run, then serve those answers from here: asyncio
on its own thread, no header parsing beyond the request line. Convotic's window ends at "now",
which differs per run; a request not recorded exactly, whose `to` is later than any recorded,
gets the answer recorded for the same query with the warm-up's own end (the latest `to`).
"""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit

from imitations.base import Response

_REASONS = {200: "OK", 404: "Not Found"}
_MISSING = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def _wire(response: Response) -> bytes:
    headers = {"Content-Length": str(len(response.body)), **response.headers}
    head = f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'OK')}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode() + b"\r\n" + response.body


def _without_to(target: str) -> tuple[str, str]:
    parts = urlsplit(target)
    query = parse_qsl(parts.query, keep_blank_values=True)
    to = next((value for name, value in query if name == "to"), "")
    rest = urlencode([(name, value) for name, value in query if name != "to"])
    return f"{parts.path}?{rest}", to


class PreparedServer:
    """Serves `answers` (request target -> recorded Response) on 127.0.0.1."""

    def __init__(self, answers: dict[str, Response]) -> None:
        self._exact = {target: _wire(response) for target, response in answers.items()}
        split = {target: _without_to(target) for target in self._exact}
        self._end = max((to for _, to in split.values()), default="")
        self._latest = {key: self._exact[t] for t, (key, to) in split.items() if to == self._end}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.base_url = ""
        self._thread = threading.Thread(target=self._run, daemon=True)

    def answer(self, target: str) -> bytes:
        found = self._exact.get(target)
        if found is None:
            key, to = _without_to(target)
            found = self._latest.get(key, _MISSING) if to > self._end else _MISSING
        return found

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                writer.write(self.answer(target))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if not self._loop.is_closed():
                writer.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> PreparedServer:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
