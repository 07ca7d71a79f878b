"""Run the Airtable automation scripts of `deploy/airtable/` under Node, as Airtable would: the
runner provides `input.config()`, `output.set` and Node's real `fetch`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "deploy" / "airtable"
RUNNER = Path(__file__).with_name("airtable_runner.mjs")
NODE_MAJOR = 18  # the first Node with a global fetch, as Airtable's script runtime has


@dataclass
class ScriptRun:
    outputs: dict[str, Any]
    error: str | None  # the message of what the script threw: Airtable shows the run red with it


def node() -> str:
    """Node's path; a missing or too old Node fails the test (never skips it)."""
    found = shutil.which("node")
    if found is None:
        pytest.fail("node not found: the Airtable scripts are tested under Node >= 18 "
                    "(apt-get install nodejs; .ci/run installs it).", pytrace=False)
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout
    if int(version.lstrip("v").split(".")[0]) < NODE_MAJOR:
        pytest.fail(f"node {version.strip()} has no global fetch: Node >= {NODE_MAJOR} is needed.", pytrace=False)
    return found


def run_script(name: str, **inputs: str) -> ScriptRun:
    """Run `deploy/airtable/<name>` with these input variables."""
    done = subprocess.run([node(), str(RUNNER), str(SCRIPTS / name)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AIRTABLE_INPUT": json.dumps(inputs)})
    assert done.stdout, f"the runner printed nothing (exit {done.returncode}): {done.stderr}"
    result = json.loads(done.stdout)
    assert (done.returncode != 0) == (result["error"] is not None), done.stderr
    return ScriptRun(result["outputs"], result["error"])
