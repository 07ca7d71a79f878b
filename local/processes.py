"""What starting and stopping a process of our own takes: a free loopback port, and a stop that
asks first and insists after a grace period."""

from __future__ import annotations

import socket
import subprocess
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: "subprocess.Popen[Any] | None", grace: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `grace` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
