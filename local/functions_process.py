"""The functions alone, in an OS process of their own, so that a run can kill them for real.

`FunctionsProcess` starts `python -m local.functions_process` on a fixed port with settings given
through a fresh environment (never the caller's shell), kills it with SIGKILL — no handler runs, no
request finishes, whatever was between two writes stays there — and starts it again on the same
port, where the emulators keep delivering their webhooks and people's links keep pointing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import requests

from emulators.server import BackgroundServer, quiet_request_logs
from local.processes import stop
from shared import bootstrap
from shared.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0  # seconds for a cold start (imports of every function)


def environment_of(settings: Settings) -> dict[str, str]:
    """The child's whole environment: the values these settings were given explicitly, and no more."""
    given = {name: getattr(settings, name) for name in settings.model_fields_set}
    env = {name: str(value) for name, value in given.items()}
    return {**env, "PATH": os.defpath, "PYTHONPATH": str(ROOT), "BINOME_LOG_FORMAT": "text"}


def die_with_parent() -> None:
    """In the child, before it runs: SIGKILL it if the process that started it dies (an interrupted
    run leaves no functions behind on their port)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class FunctionsProcess:
    def __init__(self, settings: Settings, log_path: Path | None = None):
        self.settings = settings
        self.url = f"http://127.0.0.1:{settings.BINOME_FUNCTIONS_PORT}"
        self._workdir = tempfile.TemporaryDirectory(prefix="binome-functions-")  # no `.env` to read there
        self.log_path = log_path or Path(self._workdir.name) / "functions.log"
        self._log: IO[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> "FunctionsProcess":
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "local.functions_process"],
                                        env=environment_of(self.settings), cwd=self._workdir.name,
                                        stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the functions process exited ({self.process.returncode}): see {self.log_path}")
            try:
                if requests.get(f"{self.url}/", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)  # polling a port that is not bound yet: nothing to wait on instead
        raise RuntimeError(f"the functions process did not answer within {READY_TIMEOUT:.0f} s")

    def kill(self) -> None:
        """SIGKILL: the process ends between two instructions, its requests with it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1
        if self._log:
            self._log.close()

    def restart(self) -> None:
        self.start()

    def stop(self) -> None:
        stop(self.process)
        if self._log:
            self._log.close()
        self._workdir.cleanup()

    def __enter__(self) -> "FunctionsProcess":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


def main() -> int:
    """The child: serve every function on the environment's settings until SIGTERM."""
    from local.stack import functions_app

    quiet_request_logs()
    settings = get_settings()
    bootstrap.configure(settings)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with BackgroundServer(functions_app(), settings.BINOME_FUNCTIONS_PORT):
        stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
