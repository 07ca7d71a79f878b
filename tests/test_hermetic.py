"""The suite does not care what the shell exports: with another stack's ports and production-looking
values in the environment and in `.env`, its fixtures still start their own stack, and nothing
leaves loopback (the guard in `tests/netguard.py` fails any test that tries)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests import netguard
from tests.test_settings import PRODUCTION

ROOT = Path(__file__).resolve().parent.parent
# Tests whose fixtures build settings, start stacks and call the functions.
SAMPLE = ["tests/test_intake_webhook.py", "tests/test_gateway.py", "tests/test_provision.py",
          "tests/test_stack.py::test_stack_serves_emulators_and_functions_on_free_ports"]
HOSTILE = {**PRODUCTION, "BINOME_ENV": "production", "BINOME_EMULATOR_PORT": "18787",
           "BINOME_FUNCTIONS_PORT": "18080", "BINOME_AIRTABLE_RATE": "5"}


def test_the_guard_refuses_anything_but_loopback():
    with pytest.raises(netguard.NetworkLeak):
        socket.getaddrinfo("api.airtable.com", 443)
    with pytest.raises(netguard.NetworkLeak), socket.socket() as sock:
        sock.connect(("192.0.2.1", 443))
    assert netguard.leaks[-2:] == ["api.airtable.com", "192.0.2.1"]
    del netguard.leaks[-2:]  # expected here, not a leak of this test
    assert netguard.is_loopback("127.0.0.1") and netguard.is_loopback("::1") and netguard.is_loopback("localhost")


def test_the_suite_ignores_a_hostile_environment_and_dotenv(tmp_path):
    (tmp_path / ".env").write_text("".join(f"{name}={value}\n" for name, value in HOSTILE.items()))
    env = {**os.environ, **HOSTILE, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
         "-c", str(ROOT / "pytest.ini"), *(str(ROOT / t) for t in SAMPLE)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
