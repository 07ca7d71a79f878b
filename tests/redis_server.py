"""A Redis server of the test's own, on a Unix socket in a temporary folder: the store deployed
functions share their Airtable budget in (Memorystore in production). Debian's `redis-server`;
nothing written to disk, nothing listening on a port."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import redis


def redis_server() -> Iterator[str]:
    """Start a server, yield its URL, stop it."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is missing: `make test` installs Debian's redis-server")
    with tempfile.TemporaryDirectory(prefix="binome-redis-") as folder:
        socket = Path(folder) / "redis.sock"
        process = subprocess.Popen([binary, "--port", "0", "--unixsocket", str(socket), "--save", "",
                                    "--appendonly", "no", "--dir", folder], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        url = f"unix://{socket}"
        try:
            client = redis.Redis.from_url(url)
            deadline = time.monotonic() + 10
            while True:  # the server opens its socket within milliseconds
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("redis-server did not start")
                    time.sleep(0.01)
            client.close()
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)
