"""A forward proxy for HTTPS on a loopback port: CONNECT tunnels, with Basic credentials."""

from __future__ import annotations

import base64
import contextlib
import select
import socket
import socketserver
import threading
from types import TracebackType


class _Tunnel(socketserver.StreamRequestHandler):
    server: TunnelProxy

    def handle(self) -> None:
        head = self.rfile.readline(65537).decode("latin-1")
        headers = {}
        while (line := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        method, target, _ = [*head.split(), "", "", ""][:3]
        self.server.seen.append((method, target, headers.get("proxy-authorization", "")))
        if method != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if headers.get("proxy-authorization") != self.server.expected_auth:
            self.wfile.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            return
        host, _, port = target.rpartition(":")
        with socket.create_connection((host, int(port))) as upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            self._relay(self.connection, upstream)

    @staticmethod
    def _relay(client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        while True:
            ready, _, _ = select.select(list(peers), [], [], 30)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                peers[sock].sendall(data)


class TunnelProxy(socketserver.ThreadingTCPServer):
    """Tunnels CONNECT requests that carry `user:password`; records each request it was sent."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, user: str, password: str) -> None:
        """Bind to a free loopback port; serving starts with `with`."""
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.expected_auth = f"Basic {token}"
        self.credentials = f"{user}:{password}"
        self.seen: list[tuple[str, str, str]] = []  # method, target, Proxy-Authorization
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The proxy's address with its credentials, as HTTPS_PROXY names it."""
        return f"http://{self.credentials}@127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> TunnelProxy:
        """Start serving."""
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        self.shutdown()
        with contextlib.suppress(OSError):
            self.server_close()
