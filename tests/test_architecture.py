"""The emulators are a second, independent implementation of the vendors: they share no code with
`shared/` or `functions/`, and those never import them. Only the local-stack runner and the demo
(with its campaign generator) know both sides."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORCHESTRATION = {"emulators/stack.py", "emulators/demo.py", "emulators/campaign.py"}


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
        if str(path.relative_to(ROOT)) in ORCHESTRATION:
            continue
        assert not imported_packages(path) & {"shared", "functions", "schemas", "main"}, path


def test_our_code_never_imports_the_emulators():
    for folder in ("shared", "functions", "schemas"):
        for path in python_files(folder):
            assert "emulators" not in imported_packages(path), path
    assert "emulators" not in imported_packages(ROOT / "main.py")


def test_nothing_reads_the_environment_at_import_time():
    for folder in ("shared", "functions", "schemas"):
        for path in python_files(folder):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:  # module level statements only
                source = ast.unparse(node)
                assert "os.environ" not in source and "getenv" not in source, path
