"""A server that replays recorded answers byte for byte, so benchmarks measure the tap, not it.

Fill `ImitationServer.prepared` during a warm-up run, then serve those answers from here: asyncio
on its own thread (or in a process of its own, `in_subprocess`), no header parsing beyond the
request line. Convotic's window ends at "now", which differs per run; a request not recorded
exactly, whose `to` is later than any recorded for the same query, gets the answer recorded for
that query with the latest `to`. Anything else (the walk's one probe may fall on another
conversation in another run) is computed by `fallback` and counted in `computed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import threading
import typing as t
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

    def __init__(
        self, answers: dict[str, Response], fallback: t.Callable[[str], Response] | None = None
    ) -> None:
        self._fallback, self.computed = fallback, 0
        self._exact = {target: _wire(response) for target, response in answers.items()}
        self._latest: dict[str, tuple[str, bytes]] = {}
        for target, wire in self._exact.items():
            key, to = _without_to(target)
            if to >= self._latest.get(key, ("", b""))[0]:
                self._latest[key] = (to, wire)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.base_url = ""
        self._thread = threading.Thread(target=self._run, daemon=True)

    def answer(self, target: str) -> bytes:
        found = self._exact.get(target)
        if found is None:
            key, to = _without_to(target)
            latest_to, latest = self._latest.get(key, ("", _MISSING))
            found = latest if to > latest_to else _MISSING
            if found is _MISSING and self._fallback is not None:
                self.computed += 1
                found = _wire(self._fallback(target))
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


@contextlib.contextmanager
def in_subprocess(
    answers: dict[str, Response], fallback: t.Callable[[str], Response] | None = None
) -> t.Iterator[str]:
    """Serve from a forked process, so a client in this one has an interpreter to itself."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()

    def serve() -> None:
        gc.freeze()  # the parent's data, inherited: never worth a collection pass here
        with PreparedServer(answers, fallback) as server:
            theirs.send(server.base_url)
            theirs.recv()  # until told to stop

    process = context.Process(target=serve, daemon=True)
    process.start()
    try:
        yield ours.recv()
    finally:
        ours.send("stop")
        process.join(timeout=5)
