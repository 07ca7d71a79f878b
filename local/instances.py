"""Function instances in processes of their own, as Cloud Functions runs them: the real
`functions-framework` command serving one entry point of `main.py`, with the settings given in its
environment (and nothing else of the caller's). Tests start them to cross process boundaries; the
benchmarks, so a function's answer times are not those of a process shared with the stand-ins."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from local.processes import free_port, stop

ROOT = Path(__file__).resolve().parent.parent
READY_LINE = "Listening at:"  # gunicorn, at log level info


class FunctionInstance:
    def __init__(self, target: str, settings: dict[str, str], workdir: Path):
        self.target = target
        self.port = free_port()
        self.settings = settings
        self.workdir = workdir  # an empty folder: no `.env` of anyone's
        self.process: subprocess.Popen[str] | None = None
        self.log: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 30) -> "FunctionInstance":
        env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
               "PYTHONPATH": str(ROOT), "GUNICORN_LOG_LEVEL": "info", **self.settings}
        command = [str(Path(sys.executable).with_name("functions-framework")), "--target", self.target,
                   "--source", str(ROOT / "main.py"), "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=self.workdir, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        ready = threading.Event()
        threading.Thread(target=self._read_log, args=(ready,), daemon=True).start()
        if not ready.wait(timeout):
            self.stop()
            raise RuntimeError(f"{self.target} did not start: {''.join(self.log)[-2000:]}")
        return self

    def _read_log(self, ready: threading.Event) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if READY_LINE in line:
                ready.set()

    def stop(self) -> None:
        stop(self.process)

    def __enter__(self) -> "FunctionInstance":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()
