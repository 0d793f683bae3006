"""Free TCP ports on the loopback interface, and waiting for a port to accept."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable

from harness.core.clock import Clock, SystemClock

__all__ = ["LOOPBACK", "free_port", "free_ports", "wait_for_port"]

LOOPBACK = "127.0.0.1"


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Return ``count`` distinct TCP ports that were free on ``host`` a moment ago.

    All sockets are held open until every port is picked, so the ports differ from each
    other. Another process can still take a port before the caller binds it; callers that
    start subprocesses should retry on a bind failure. In-process servers should bind
    port 0 themselves instead of using this.
    """
    if count < 1:
        raise ValueError("count must be >= 1")
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def free_port(host: str = LOOPBACK) -> int:
    """Return one TCP port that was free on ``host`` a moment ago (see :func:`free_ports`)."""
    return free_ports(1, host)[0]


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str,
    port: int,
    *,
    timeout: float,
    pause: Callable[[float], bool],
    clock: Clock | None = None,
) -> None:
    """Block until ``host:port`` accepts a TCP connection, or raise :class:`TimeoutError`.

    A closed port refuses instantly, so there is nothing to wait *on*; between probes this
    calls ``pause(seconds)``, which should wait for an event that makes further waiting
    pointless (for a subprocess: ``Popen.wait`` returning because the server died) and
    return True when that event happened. Then this raises :class:`ConnectionError`.
    """
    clock = clock or SystemClock()
    deadline = clock.monotonic() + timeout
    interval = 0.002
    while not _accepts(host, port):
        if clock.monotonic() >= deadline:
            raise TimeoutError(f"nothing accepted connections on {host}:{port} within {timeout} s")
        if pause(interval):
            raise ConnectionError(f"gave up waiting for {host}:{port}: the server went away")
        interval = min(interval * 2, 0.05)
