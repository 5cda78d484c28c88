"""Process-local copies of values bound to Redis keys, kept true by Redis itself.

Server-assisted client-side caching (Redis ≥ 6, RESP3 ``CLIENT TRACKING ... BCAST PREFIX``):
each web process holds one extra connection on which Redis pushes the name of every key under
the tracked prefix that changes, expires, is evicted or flushed, whoever changed it. A copy is
used only after that connection's socket has been drained, so a hit costs one non-blocking
``poll`` instead of a round trip (measured: the round trip was most of the origin's cost).

Why a copy is never staler than the next request: the package docstring (``fastpath``),
"What invalidates" and "A lost push or connection". In short: Redis queues an invalidation
before it answers the write; writers wait for one PING after writing (``settle``); readers
drain before trusting; a read that raced a write is never kept (``reserve``/``fill``); and
copies are trusted only while the connection answered a PING within ``TRUST_SECONDS``.

redis-py's own client-side cache (``cache_config``) was not used: it refuses servers older
than 7.4 (Debian 12 ships 7.0) and deep-copies and unpickles the cached reply on every hit.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 0.5
TRUST_SECONDS = 1.5
RETRY_SECONDS = 1.0
CONNECT_TIMEOUT = 0.5
_READ_SIZE = 65536
_PING = b"*1\r\n$4\r\nPING\r\n"
# Behind Sentinel the heartbeat asks ROLE instead: its answer proves the loop went round as a
# PONG does, and also that this server is still the master. One demoted by a failover (which
# Sentinel normally disconnects us from, but a partition may not) is left at once, and the
# next connection goes to the master the Sentinels name now.
_ROLE = b"*1\r\n$4\r\nROLE\r\n"


class _PollFd(ctypes.Structure):
    _fields_ = (("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short))


def _libc_poll() -> Any:
    """poll(2) called with the GIL held (``ctypes.PyDLL``), or None where unavailable.

    A non-blocking poll takes ~1 µs; releasing the GIL around it, as ``select.poll`` does,
    cost ~80 µs a hit under load (py-spy: 29 % of a worker's samples) because the calling
    thread then queues behind the other request threads to get the GIL back."""
    try:
        libc = ctypes.PyDLL(ctypes.util.find_library("c"))
        poll = libc.poll
    except (OSError, AttributeError):
        return None
    poll.argtypes = (ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int)
    poll.restype = ctypes.c_int
    return poll


_poll = _libc_poll()


class Incomplete(Exception):
    """The buffer ends inside a frame: wait for more bytes."""


def parse_resp(buf: bytes | bytearray, pos: int) -> tuple[Any, int]:
    """One RESP2/RESP3 value from ``buf`` at ``pos``: (value, next position).

    Pushes come back as ``("push", [...])`` and errors as ``("error", text)``, so callers can
    tell them from replies."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete
    kind, line, nxt = buf[pos : pos + 1], bytes(buf[pos + 1 : end]), end + 2
    if kind in (b"+", b"(", b","):
        return line, nxt
    if kind == b"-":
        return ("error", line.decode(errors="replace")), nxt
    if kind == b":":
        return int(line), nxt
    if kind == b"#":
        return line == b"t", nxt
    if kind == b"_":
        return None, nxt
    if kind in (b"$", b"=", b"!"):
        size = int(line)
        if size < 0:
            return None, nxt
        if len(buf) < nxt + size + 2:
            raise Incomplete
        data = bytes(buf[nxt : nxt + size])
        return (("error", data.decode(errors="replace")) if kind == b"!" else data), nxt + size + 2
    if kind in (b"*", b"~", b">", b"%", b"|"):
        count = int(line)
        if count < 0:
            return None, nxt
        items = []
        for _ in range(count * (2 if kind in (b"%", b"|") else 1)):
            item, nxt = parse_resp(buf, nxt)
            items.append(item)
        if kind == b"|":  # an attribute annotates the value that follows: skip it
            return parse_resp(buf, nxt)
        if kind == b">":
            return ("push", items), nxt
        return items, nxt
    raise ValueError(f"unexpected RESP type {kind!r}")


def _command(*parts: str | bytes) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class Reservation:
    """The mark ``reserve`` leaves on a key: ``fill`` keeps a value only while it survives."""

    __slots__ = ()


class KeyMirror:
    """Values bound to Redis keys under ``prefix`` (full Redis key names), dropped the moment
    Redis reports the key changed. Thread-safe; one per process and prefix."""

    # 2,048 snapshots of a few KB each: ~10 MB of a web worker's 150 MB budget (performance.md).
    def __init__(
        self,
        url: str,
        prefix: str,
        *,
        size: int = 2048,
        resolve: Callable[[], tuple[str, int]] | None = None,
        password: str | None = None,
    ) -> None:
        """``url`` names the one server to track; with ``resolve`` (Sentinel) the address is
        asked for at every connection instead, and ``password`` authenticates."""
        self.url = url
        self.prefix = prefix
        self.size = size
        self.resolve = resolve
        self.password = password
        self._heartbeat = _ROLE if resolve is not None else _PING
        self.disabled = False
        self.client_id: int | None = None
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._sock: socket.socket | None = None
        self._buf = bytearray()
        self._pid = os.getpid()
        self._retry_at = 0.0
        self._pong_at = float("-inf")
        self._ping_sent_at: float | None = None
        self._draining = False
        self._threads = threading.local()
        self._pollfd: tuple[socket.socket | None, Any] = (None, None)

    # --- the copies ---------------------------------------------------------------------
    def get(self, key: str) -> Any:
        """The value held for ``key``, or None when there is none or it cannot be trusted."""
        if not self._quiet():
            with self._lock:
                if not self._trusted():
                    return None
        value = self._entries.get(key)
        if value is None or isinstance(value, Reservation):
            return None
        with contextlib.suppress(KeyError):  # dropped by another thread just now
            self._entries.move_to_end(key)
        return value

    def _quiet(self) -> bool:
        """The lock-free fast path of ``_trusted``: true when the connection is healthy, no
        heartbeat is due and nothing waits in its socket, so no invalidation is pending.

        Waiting on the lock while another thread drains cost a third of a worker's time under
        load (measured with py-spy). Without it the check stays exact: ``_draining`` is set before
        a drain's ``recv`` and cleared after its pushes are applied, and is read after the
        poll, so bytes another thread has taken but not yet applied are never missed."""
        sock = self._sock
        if self._draining or sock is None or self._pid != os.getpid():
            return False
        if self._ping_sent_at is not None or time.monotonic() - self._pong_at > HEARTBEAT_SECONDS:
            return False
        if self._readable(sock):
            return False
        return not self._draining

    def _readable(self, sock: socket.socket) -> bool:
        """Whether ``sock`` has bytes (or a hang-up) waiting; True when unsure."""
        watched, pollfd = self._pollfd
        if _poll is not None and watched is sock:
            return _poll(pollfd, 1, 0) != 0
        # select.poll releases the GIL, and takes a poll object per thread.
        local = self._threads
        try:
            if getattr(local, "sock", None) is not sock:
                local.poller = select.poll()
                local.poller.register(sock, select.POLLIN | select.POLLPRI)
                local.sock = sock
            return bool(local.poller.poll(0))
        except (OSError, ValueError):  # closed by another thread meanwhile
            return True

    def reserve(self, key: str) -> Reservation | None:
        """Mark ``key`` before reading it from Redis; pass the mark to ``fill``."""
        with self._lock:
            if not self._connected():
                return None
            mark = Reservation()
            self._entries[key] = mark
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return mark

    def fill(self, key: str, mark: Reservation | None, value: Any) -> bool:
        """Keep ``value`` for ``key`` unless the key changed since ``reserve``."""
        if mark is None or value is None:
            return False
        with self._lock:
            if self._sock is not None:
                self._drain()
            if self._entries.get(key) is not mark:
                return False
            self._entries[key] = value
            return True

    def forget(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def flush(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return sum(1 for v in self._entries.values() if not isinstance(v, Reservation))

    # --- the tracking connection ----------------------------------------------------------
    def _connected(self) -> bool:
        if self.disabled:
            return False
        if self._pid != os.getpid():
            # A forked child must not read its parent's socket, nor trust its parent's copies.
            self._sock, self._buf, self._pid = None, bytearray(), os.getpid()
            self._entries.clear()
        if self._sock is None:
            now = time.monotonic()
            if now < self._retry_at:
                return False
            try:
                self._connect()
            except Exception as exc:
                self._retry_at = now + RETRY_SECONDS
                log.warning("cache tracking unavailable (%s); reading Redis on every hit", exc)
                return False
        self._drain()
        return self._sock is not None

    def _trusted(self) -> bool:
        if not self._connected():
            return False
        now = time.monotonic()
        if self._ping_sent_at is not None:
            if now - self._ping_sent_at > TRUST_SECONDS:
                self._broken("no answer to PING")
                return False
        elif now - self._pong_at > HEARTBEAT_SECONDS:
            self._send_ping(now)
        return now - self._pong_at <= TRUST_SECONDS

    def _connect(self) -> None:
        parts = urlsplit(self.url)
        if self.resolve is not None:
            host, port = self.resolve()  # the master the Sentinels name now
            sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        elif parts.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(parts.path)
        elif parts.scheme in ("redis", "rediss"):
            sock = socket.create_connection(
                (parts.hostname or "localhost", parts.port or 6379), timeout=CONNECT_TIMEOUT
            )
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if parts.scheme == "rediss":
                context = ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        else:
            self.disabled = True
            raise ValueError(f"cache tracking does not support {parts.scheme}:// URLs")
        try:
            hello: list[str | bytes] = ["HELLO", "3"]
            if self.password:
                hello += ["AUTH", "default", self.password]
            elif parts.password is not None:
                hello += ["AUTH", unquote(parts.username or "default"), unquote(parts.password)]
            hello += ["SETNAME", "trustseal-tracking"]
            tracking = ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self.prefix]
            sock.sendall(
                _command(*hello) + _command(*tracking) + _command("CLIENT", "ID") + _command("ROLE")
            )
            replies = self._blocking_replies(sock, 4)
            for reply in replies:
                if isinstance(reply, tuple) and reply[0] == "error":
                    # An old server (no RESP3) stays old: stop trying until restart.
                    self.disabled = "unknown" in reply[1].lower() or "HELLO" in reply[1]
                    raise ConnectionError(reply[1])
            if not _is_master(replies[3]):
                # A replica never sees the writes' invalidations first: tracking it could keep
                # a copy the primary already changed.
                raise ConnectionError("the tracked server is not the master")
            self.client_id = replies[2]  # for CLIENT LIST / CLIENT KILL by an operator
        except BaseException:
            sock.close()
            raise
        sock.setblocking(False)
        self._pollfd = (sock, ctypes.byref(_PollFd(sock.fileno(), select.POLLIN | select.POLLPRI)))
        self._sock, self._pong_at, self._ping_sent_at = sock, time.monotonic(), None
        # Anything held from before this connection may have missed its invalidation.
        self._entries.clear()

    def _blocking_replies(self, sock: socket.socket, count: int) -> list[Any]:
        buf, pos, replies = bytearray(), 0, list[Any]()
        while len(replies) < count:
            try:
                value, nxt = parse_resp(buf, pos)
            except Incomplete:
                chunk = sock.recv(_READ_SIZE)
                if not chunk:
                    raise ConnectionError("connection closed during handshake") from None
                buf += chunk
                continue
            pos = nxt
            if not (isinstance(value, tuple) and value[0] == "push"):
                replies.append(value)
        self._buf = buf[pos:]
        return replies

    def _drain(self) -> None:
        sock = self._sock
        if sock is None:
            return
        self._draining = True
        try:
            while True:
                chunk = sock.recv(_READ_SIZE)
                if not chunk:
                    self._broken("closed by the server")
                    return
                self._buf += chunk
                if len(chunk) < _READ_SIZE:
                    break
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError as exc:
            self._broken(str(exc))
            return
        finally:
            if self._buf:
                self._apply()
            self._draining = False

    def _apply(self) -> None:
        pos = 0
        try:
            while pos < len(self._buf):
                value, pos_next = parse_resp(self._buf, pos)
                pos = pos_next
                if isinstance(value, tuple) and value[0] == "push":
                    self._on_push(value[1])
                elif value == b"PONG" or _is_master(value):
                    self._pong_at, self._ping_sent_at = time.monotonic(), None
                elif isinstance(value, list) and value:  # ROLE: a replica or a Sentinel now
                    self._broken("the server is no longer the master; following the new one")
                    return
                elif isinstance(value, tuple) and value[0] == "error":
                    self._broken(value[1])
                    return
        except Incomplete:
            pass
        except ValueError as exc:
            self._broken(str(exc))
            return
        del self._buf[:pos]

    def _on_push(self, items: list[Any]) -> None:
        if not items or items[0] not in (b"invalidate", "invalidate"):
            return
        keys = items[1] if len(items) > 1 else None
        if keys is None:  # FLUSHDB / FLUSHALL: everything goes
            self._entries.clear()
            return
        for key in keys:
            self._entries.pop(key.decode() if isinstance(key, bytes) else key, None)

    def _send_ping(self, now: float) -> None:
        if self._sock is None:
            return
        try:
            sent = self._sock.send(self._heartbeat)
        except (BlockingIOError, ssl.SSLWantWriteError):
            return  # the send buffer is full; the next hit tries again
        except OSError as exc:
            self._broken(str(exc))
            return
        if sent != len(self._heartbeat):
            self._broken("partial write")
            return
        self._ping_sent_at = now

    def close(self) -> None:
        """Drop the copies and the connection (a later use reconnects)."""
        with self._lock:
            self._broken("")

    def _broken(self, why: str) -> None:
        if why:
            log.warning("cache tracking connection lost (%s); local copies dropped", why)
        sock = self._sock
        # Copies first, socket last: its descriptor number may be reused as soon as it is
        # closed, and a lock-free reader polling that number must find no copy left.
        self._sock, self._buf, self._ping_sent_at = None, bytearray(), None
        self._pong_at = float("-inf")
        self._entries.clear()
        self._pollfd = (None, None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()


def _is_master(reply: Any) -> bool:
    return isinstance(reply, list) and bool(reply) and reply[0] in (b"master", "master")


class LocalCopies:
    """A ``KeyMirror`` addressed with the cache's own (unprefixed) keys."""

    def __init__(
        self, mirror: KeyMirror, make_key: Callable[[str], str], settle: Callable[[], None]
    ):
        self.mirror = mirror
        self._make_key = make_key
        self._settle = settle

    def get(self, key: str) -> Any:
        return self.mirror.get(self._make_key(key))

    def reserve(self, key: str) -> Reservation | None:
        return self.mirror.reserve(self._make_key(key))

    def fill(self, key: str, mark: Reservation | None, value: Any) -> bool:
        return self.mirror.fill(self._make_key(key), mark, value)

    def forget(self, keys: Iterable[str]) -> None:
        """Call after writing ``keys``: drops this process's copies at once and waits until
        Redis has sent every other node the invalidation (module docstring, step 2)."""
        self.mirror.forget(self._make_key(k) for k in keys)
        self._settle()
