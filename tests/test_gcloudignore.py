"""What `gcloud functions deploy --source=.` uploads: the functions' tree and nothing else — no
tests, stand-ins, benches, local runner, virtualenv, local data or `.env` — and the uploaded code
imports nothing that stays behind."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pathspec

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ["main.py", "requirements.txt", "functions/typeform_webhook.py", "shared/settings.py",
          "shared/http.py", "schemas/base.py"]
LEFT_OUT = ["tests/test_settings.py", "emulators/__init__.py", "bench/__init__.py", "local/stack.py",
            ".venv/bin/python", "var/binome.sqlite3", ".env", "commands/provision.py", "deploy/plan.py",
            "shared/__pycache__/settings.cpython-312.pyc"]


def ignored() -> pathspec.PathSpec:
    lines = (ROOT / ".gcloudignore").read_text(encoding="utf-8").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines)


def uploaded(paths: list[str]) -> list[str]:
    spec = ignored()
    return [path for path in paths if not spec.match_file(path)]


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return listed.stdout.splitlines()


def test_the_functions_tree_is_uploaded():
    assert uploaded(NEEDED) == NEEDED
    assert any(path.startswith("functions/") for path in uploaded(tracked_files()))


def test_development_folders_local_data_and_secrets_stay_behind():
    assert uploaded(LEFT_OUT) == []


def test_every_uploaded_top_level_entry_is_one_the_functions_need():
    tops = {path.split("/")[0] for path in uploaded(tracked_files())}
    assert tops == {"main.py", "requirements.txt", "functions", "shared", "schemas"}, tops


def imported_tops(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_uploaded_code_imports_nothing_of_ours_that_stays_behind():
    ours = {path.split("/")[0].removesuffix(".py") for path in tracked_files()
            if path.endswith(".py") or "/" in path}
    kept = {path.split("/")[0].removesuffix(".py") for path in uploaded(tracked_files())}
    for path in uploaded(tracked_files()):
        if path.endswith(".py"):
            assert not (imported_tops(ROOT / path) & ours) - kept, path
