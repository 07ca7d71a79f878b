"""Tests never leave this machine's loopback: every connection and name lookup made by the test
process is checked, and one aimed elsewhere is refused and remembered, so the test that made it
fails even where the code under test swallows the error (a 5xx, a retry)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
leaks: list[str] = []


class NetworkLeak(RuntimeError):
    """A test tried to reach something other than loopback."""


def is_loopback(host: Any) -> bool:
    if not isinstance(host, str):
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def refuse_unless_loopback(host: Any) -> None:
    if not is_loopback(host):
        leaks.append(str(host))
        raise NetworkLeak(f"tests stay on loopback; refused a connection to {host!r}")


_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        refuse_unless_loopback(address[0])
    return _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        refuse_unless_loopback(address[0])
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None:
        refuse_unless_loopback(host.decode() if isinstance(host, bytes) else host)
    return _getaddrinfo(host, *args, **kwargs)


def install() -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo
