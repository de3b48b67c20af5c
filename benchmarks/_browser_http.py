"""A lean HTTP/1.1 client for simulated browsers: one keep-alive connection, plain bytes.

The load benchmarks run hundreds of browsers in one process on the server's own two
cores, so what a browser costs there is taken from the server. httpx spends several times
the server's own time per request (URL and header models, a pool scanned on every
request); a browser here is a socket, a request line, a few headers and a body read by
``Content-Length`` or chunks. Enough for Maya's page and the sandbox's checkout, no more:
``http://`` only, no redirects, no compression (nothing asks for it).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import anyio
import anyio.abc

__all__ = ["Connection", "HttpError", "Reply"]

_MAX_HEAD = 64 * 1024


class HttpError(Exception):
    """The connection broke, or the server answered something this client cannot read."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One browser connection to ``base`` (``http://host:port``), reopened when closed."""

    def __init__(self, base: str, *, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"not an http://host:port address: {base!r}")
        self.host, self.port = parts.hostname, parts.port
        self._authority = parts.netloc
        self._headers = headers or {}
        self._stream: anyio.abc.SocketStream | None = None
        self._buffer = bytearray()

    async def aclose(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.aclose()
        self._buffer.clear()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _head(self, method: str, path: str, headers: dict[str, str], length: int) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._authority}"]
        lines += [f"{name}: {value}" for name, value in {**self._headers, **headers}.items()]
        if method != "GET" or length:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        if self._stream is None:
            self._stream = await anyio.connect_tcp(self.host, self.port)
            self._buffer.clear()
        await self._stream.send(self._head(method, path, headers, len(body)) + body)

    async def _fill(self) -> None:
        assert self._stream is not None
        try:
            data = await self._stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError) as exc:
            await self.aclose()
            raise HttpError(f"connection lost: {type(exc).__name__}") from exc
        self._buffer += data

    async def _line(self) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > _MAX_HEAD:
                raise HttpError("a line longer than 64 KiB")
            await self._fill()
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    async def _exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            await self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def _response_head(self) -> tuple[int, dict[str, str]]:
        status_line = (await self._line()).decode("latin-1")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise HttpError(f"not an HTTP status line: {status_line[:60]!r}") from exc
        headers: dict[str, str] = {}
        while line := await self._line():
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    async def _chunks(self) -> AsyncIterator[bytes]:
        while True:
            size = int((await self._line()).split(b";", 1)[0], 16)
            if size == 0:
                await self._line()  # no trailers are sent: the empty line that ends them
                return
            data = await self._exactly(size)
            await self._exactly(2)
            yield data

    async def _finish(self, headers: dict[str, str]) -> None:
        if headers.get("connection", "").lower() == "close":
            await self.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
    ) -> Reply:
        """Send one request and read its whole reply (chunked or by length)."""
        extra = dict(headers or {})
        body = b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            extra["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode(form).encode()
            extra["Content-Type"] = "application/x-www-form-urlencoded"
        await self._send(method, path, extra, body)
        status, got = await self._response_head()
        if got.get("transfer-encoding", "").lower() == "chunked":
            content = b"".join([chunk async for chunk in self._chunks()])
        else:
            content = await self._exactly(int(got.get("content-length", "0")))
        await self._finish(got)
        return Reply(status, got, content)

    async def stream_lines(
        self, path: str, *, headers: dict[str, str] | None = None
    ) -> AsyncIterator[str]:
        """GET ``path`` and yield its body's lines as they come (server-sent events)."""
        await self._send("GET", path, dict(headers or {}), b"")
        status, got = await self._response_head()
        if status >= 300:
            await self.aclose()
            raise HttpError(f"stream {status}")
        if got.get("transfer-encoding", "").lower() != "chunked":
            await self.aclose()
            raise HttpError("a stream that is not chunked")
        pending = b""
        async for chunk in self._chunks():
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.decode()
        await self._finish(got)
