"""The emulators are a second, independent implementation of the vendors: they share no code with
`shared/` or `functions/`, and those never import them. Only `local/` (the runner, the demo and its
campaign generator) knows both sides."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"shared", "functions", "schemas", "main", "commands", "local"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_emulators_import_nothing_of_ours():
    for path in python_files("emulators"):
        assert not imported_packages(path) & OURS, path


def test_our_code_never_imports_the_emulators_or_the_local_runner():
    for folder in ("shared", "functions", "schemas"):
        for path in python_files(folder):
            assert not imported_packages(path) & {"emulators", "local", "commands"}, path
    assert not imported_packages(ROOT / "main.py") & {"emulators", "local", "commands"}


def test_only_the_local_runner_calls_the_emulators_control_endpoints():
    for folder in ("shared", "functions", "schemas", "commands"):
        for path in python_files(folder):
            assert "/_emulator" not in path.read_text(encoding="utf-8"), path


def test_nothing_reads_the_environment_at_import_time():
    for folder in ("shared", "functions", "schemas"):
        for path in python_files(folder):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:  # module level statements only
                source = ast.unparse(node)
                assert "os.environ" not in source and "getenv" not in source, path
