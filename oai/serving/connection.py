"""One client connection on the worker's asyncio loop: read, check, answer, repeat.

The loop reads a request head under a deadline and the size limits (oai.serving.http),
then its body (up to BODY_LIMIT, under a deadline that grows with its size); only then
does a thread of the pool run the WSGI app. The thread hands the response to the loop
in chunks of FLUSH_SIZE (one in flight) and waits while the client's write buffer is full, so a slow
reader holds at most one thread and a bounded amount of memory, and is cut off when it
takes more than the write timeout to take a chunk. h11 parses the requests and frames
the responses (Content-Length or chunked, keep-alive, HEAD, 100-continue).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import h11

from oai.serving.http import Refusal, environ_for, head_end, http_date, refusal_bytes
from oai.serving.limits import (
    BODY_LIMIT,
    FLUSH_SIZE,
    LINGER_BYTES,
    LINGER_SECONDS,
    WRITE_BUFFER_HIGH,
    Limits,
)

READ_SIZE = 64 * 1024
IDLE, HEAD, BODY, BUSY = "idle", "head", "body", "busy"
#: Headers the front sets itself; an app's own would contradict h11's framing.
_FRAMING = {b"transfer-encoding"}
_FAILED = "The server failed to answer this request; the error is logged."


@dataclass
class Front:
    """What every connection of one worker process shares."""

    app: Callable[..., Iterable[bytes]]
    pool: Executor
    limits: Limits
    log: Any  # gunicorn's logger (error and access logs)
    multiprocess: bool = True
    access_log: bool = False
    stopping: bool = False
    connections: dict[Connection, None] = field(default_factory=dict)  # oldest first

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A new connection: make room if the worker is full, then serve it."""
        if len(self.connections) >= self.limits.max_connections and not self._evict():
            writer.write(refusal_bytes(503, "Too many open connections; try again shortly."))
            writer.close()
            return
        connection = Connection(self, reader, writer)
        self.connections[connection] = None
        try:
            await connection.run()
        finally:
            self.connections.pop(connection, None)

    def _evict(self) -> bool:
        """Close the oldest idle keep-alive connection, else the oldest one still sending
        its head: those cost nothing to lose. False if every connection is busy."""
        for wanted in (IDLE, HEAD):
            for connection in self.connections:
                if connection.state == wanted:
                    connection.close()
                    self.connections.pop(connection, None)
                    return True
        return False

    def stop(self) -> None:
        """SIGTERM: no new requests; responses under way finish, then their connections close."""
        self.stopping = True
        for connection in list(self.connections):
            if connection.state in (IDLE, HEAD):
                connection.close()


class _Broken(Exception):
    """The client went away or stopped reading: the response is abandoned."""


class Connection:
    """A client connection; ``state`` says what it waits for (eviction and shutdown read it)."""

    def __init__(
        self, front: Front, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.front = front
        self.reader = reader
        self.writer = writer
        self.state = HEAD
        self.opened = time.monotonic()
        self.buffer = bytearray()
        self.task = asyncio.current_task()
        transport = writer.transport
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)  # type: ignore[attr-defined]
        self.peer = writer.get_extra_info("peername")
        self.local = writer.get_extra_info("sockname")

    def close(self) -> None:
        """Drop the connection now (eviction, shutdown); the task stops at its next read."""
        self.writer.transport.abort()
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    async def run(self) -> None:
        try:
            first = True
            while not self.front.stopping:
                received = await self._receive(first)
                if received is None:
                    break
                conn, request, body = received
                if not await self._respond(conn, request, body):
                    break
                first = False
        except Refusal as refusal:
            await self._refuse(refusal)
        except (_Broken, ConnectionError, asyncio.CancelledError):
            self.writer.transport.abort()
            return
        except Exception:  # a bug of ours or a response h11 cannot frame: logged, cut off
            self.front.log.exception("connection from %s failed", self.peer)
            self.writer.transport.abort()
            return
        await self._close_gently()

    async def _close_gently(self) -> None:
        """Close once what is buffered has been sent (abort would drop the end of a
        response), within the write timeout."""
        self.writer.close()
        try:
            async with asyncio.timeout(self.front.limits.write_timeout):
                await self.writer.wait_closed()
        except (TimeoutError, ConnectionError, OSError, asyncio.CancelledError):
            self.writer.transport.abort()

    # ---------------------------------------------------------------- reading

    async def _read(self, timeout: float) -> bytes | None:
        """Up to READ_SIZE bytes; b"" at the end of the stream, None when time is up."""
        if timeout <= 0:
            return None
        try:
            async with asyncio.timeout(timeout):
                return await self.reader.read(READ_SIZE)
        except TimeoutError:
            return None

    async def _receive(self, first: bool) -> tuple[h11.Connection, h11.Request, bytes] | None:
        """The next complete request, or None when the client closes or idles out."""
        limits = self.front.limits
        if first:
            deadline = self.opened + limits.header_timeout
        else:
            if not self.buffer.lstrip(b"\r\n"):
                self.state = IDLE
                data = await self._read(limits.keepalive_timeout)
                if not data:  # idle too long, or closed: nothing to answer
                    return None
                self.buffer += data
            deadline = time.monotonic() + limits.header_timeout
        self.state = HEAD
        while True:
            while self.buffer[:1] in (b"\r", b"\n"):  # RFC 9112 §2.2: ignore blank lines
                del self.buffer[:1]
            end = head_end(self.buffer)
            if end is not None:
                break
            data = await self._read(deadline - time.monotonic())
            if data is None:
                if self.buffer:
                    raise Refusal(408, "The request head did not arrive in time.")
                return None
            if not data:
                return None
            self.buffer += data
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=end + 1)
        conn.receive_data(bytes(self.buffer[:end]))
        rest = bytes(self.buffer[end:])
        self.buffer.clear()
        try:
            request = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise Refusal(400, f"The request is not valid HTTP ({exc}).") from None
        if not isinstance(request, h11.Request):
            raise Refusal(400, "The request is not valid HTTP.")
        if rest:
            conn.receive_data(rest)
        body = await self._read_body(conn, request)
        if body is None:
            return None
        return conn, request, body

    async def _read_body(self, conn: h11.Connection, request: h11.Request) -> bytes | None:
        declared = None
        for name, value in request.headers:
            if name == b"content-length":
                declared = int(value)  # h11 has checked it is a number
        if declared is not None and declared > BODY_LIMIT:
            raise _too_large()
        if conn.they_are_waiting_for_100_continue:
            self.writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
        self.state = BODY
        started = time.monotonic()
        body = bytearray()
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                if conn.their_state is h11.ERROR and not self.reader.at_eof():
                    raise Refusal(400, f"The request body is malformed ({exc}).") from None
                return None  # the client closed before the end of its body
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > BODY_LIMIT:
                    raise _too_large()
            elif isinstance(event, h11.EndOfMessage):
                return bytes(body)
            elif event is h11.NEED_DATA:
                allowed = self.front.limits.body_deadline(max(declared or 0, len(body)))
                data = await self._read(started + allowed - time.monotonic())
                if data is None:
                    raise Refusal(408, "The request body did not arrive in time.")
                conn.receive_data(data)  # b"" tells h11 the client closed
            else:
                return None

    # ---------------------------------------------------------------- answering

    async def _respond(self, conn: h11.Connection, request: h11.Request, body: bytes) -> bool:
        """Run the app in the pool and send its answer; True if the connection may be reused."""
        self.state = BUSY
        started = time.monotonic()
        environ = environ_for(
            request, body, self.peer, self.local, multiprocess=self.front.multiprocess
        )
        exchange = _Exchange(self, conn, request.method == b"HEAD")
        loop = asyncio.get_running_loop()
        tail = await loop.run_in_executor(self.front.pool, exchange.run_app, environ)
        if exchange.broken:
            return False
        if exchange.error is not None:
            if exchange.head_sent:
                return False  # the client sees a truncated response: all we can do now
            self.front.log.error("the app failed", exc_info=exchange.error)
            self.writer.write(refusal_bytes(500, _FAILED))
            await self._drain()
            return False
        try:
            if not exchange.head_sent:  # the whole body is known: its length is too
                self._send_head(exchange, None if exchange.head_only else len(tail))
            if tail and not exchange.head_only:
                self.writer.write(conn.send(h11.Data(data=tail)))
            self.writer.write(conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError as exc:  # e.g. the app's Content-Length was wrong
            self.front.log.error("bad response from the app: %s", exc)
            return False
        await self._drain()
        if self.front.access_log:
            self._log_access(environ, exchange, time.monotonic() - started)
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return False
        trailing, closed = conn.trailing_data
        self.buffer = bytearray(trailing)
        return not closed

    def _send_head(self, exchange: _Exchange, length: int | None) -> None:
        """Write the status line and headers; ``length`` when the whole body is known."""
        code = int(exchange.status[:3])
        headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in exchange.headers
            if name.lower().encode("latin-1") not in _FRAMING
        ]
        names = {name.lower() for name, _ in headers}
        if b"date" not in names:
            headers.append((b"Date", http_date().encode("ascii")))
        if length is not None and b"content-length" not in names and code not in (204, 304):
            headers.append((b"Content-Length", str(length).encode("ascii")))
        if self.front.stopping:
            headers.append((b"Connection", b"close"))
        reason = exchange.status[4:].encode("latin-1")
        response = h11.Response(status_code=code, headers=headers, reason=reason)
        self.writer.write(exchange.conn.send(response))
        exchange.head_sent = True

    async def send_part(self, exchange: _Exchange, data: bytes) -> None:
        """A chunk from the app's thread: sent, then waited for while the buffer is full."""
        if not exchange.head_sent:
            self._send_head(exchange, None)
        if data and not exchange.head_only:
            self.writer.write(exchange.conn.send(h11.Data(data=data)))
        await self._drain()

    async def _drain(self) -> None:
        try:
            async with asyncio.timeout(self.front.limits.write_timeout):
                await self.writer.drain()
        except (TimeoutError, ConnectionError) as exc:
            self.writer.transport.abort()
            raise _Broken(str(exc)) from None

    async def _refuse(self, refusal: Refusal) -> None:
        """Answer the refusal, then read (and drop) what the client still sends for a
        moment before closing, so that it reads the answer rather than a reset."""
        self.writer.write(refusal_bytes(refusal.status, refusal.message))
        try:
            await self._drain()
            if self.writer.can_write_eof():
                self.writer.write_eof()
            deadline = time.monotonic() + LINGER_SECONDS
            dropped = 0
            while dropped < LINGER_BYTES:
                data = await self._read(deadline - time.monotonic())
                if not data:
                    break
                dropped += len(data)
        except (_Broken, ConnectionError, OSError):
            pass

    def _log_access(self, environ: dict[str, Any], exchange: _Exchange, seconds: float) -> None:
        response = SimpleNamespace(
            status=exchange.status, sent=exchange.sent, headers=exchange.headers
        )
        request = SimpleNamespace(
            headers=[
                (key[5:].replace("_", "-"), value)
                for key, value in environ.items()
                if key.startswith("HTTP_")
            ]
        )
        self.front.log.access(response, request, environ, timedelta(seconds=seconds))


def _too_large() -> Refusal:
    return Refusal(413, f"The request body is over {BODY_LIMIT} bytes.")


class _Exchange:
    """One request's response as the app's thread produces it."""

    def __init__(self, connection: Connection, conn: h11.Connection, head_only: bool) -> None:
        self.connection = connection
        self.conn = conn
        self.head_only = head_only
        self.loop = asyncio.get_running_loop()
        self.status = "500 Internal Server Error"
        self.headers: list[tuple[str, str]] = []
        self.head_sent = False
        self.broken = False
        self.error: BaseException | None = None
        self.sent = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._previous: Future[None] | None = None

    def run_app(self, environ: dict[str, Any]) -> bytes:
        """In a pool thread: call the app, flush large bodies as they come; return the rest."""
        try:
            iterable = self.connection.front.app(environ, self._start_response)
            try:
                for chunk in iterable:
                    if chunk:
                        self._write(chunk)
            finally:
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()
            self._wait_for_previous()
        except _Broken:
            self.broken = True
        except Exception as exc:  # noqa: BLE001 - answered as a 500 or a cut connection
            self.error = exc
        finally:  # the loop must have sent every flushed chunk before it sends the rest
            try:
                self._wait_for_previous()
            except _Broken:
                self.broken = True
        tail = b"".join(self._pending)
        self.sent += len(tail)
        return tail

    def _start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and self.head_sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers = status, list(headers)
        return self._write

    def _write(self, data: bytes) -> None:
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= FLUSH_SIZE:
            data = b"".join(self._pending)
            self._pending, self._pending_size = [], 0
            self.sent += len(data)
            # One chunk in flight: the loop sends it while the app makes the next one;
            # the thread waits only when the loop has not finished the one before (the
            # client's buffer is full: that is the backpressure).
            self._wait_for_previous()
            self._previous = asyncio.run_coroutine_threadsafe(
                self.connection.send_part(self, data), self.loop
            )

    def _wait_for_previous(self) -> None:
        future, self._previous = self._previous, None
        if future is None:
            return
        try:
            future.result(timeout=self.connection.front.limits.write_timeout + 10)
        except _Broken:
            raise
        except Exception as exc:  # closed, cancelled, timed out, bad framing
            future.cancel()
            raise _Broken(str(exc)) from None
