"""pyflakes over the project's Python: no unused import or variable, no undefined name.

A fixture imported from another test module looks unused to pyflakes (pytest finds it by its name);
such an import says so with `# noqa` on its line (or on the first line of its statement), and only
the names it marks are let through, unused or redefined by the tests' parameters.
"""
import ast
from collections.abc import Iterator
from pathlib import Path

from pyflakes import messages
from pyflakes.checker import Checker

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pages", "data_access", "exports", "server", "bench", "tests")
SCRIPTS = ("app.py", "router/dashboard.py")


def project_files() -> Iterator[Path]:
    yield from (ROOT / name for name in SCRIPTS)
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def marked_imports(tree: ast.Module, lines: list[str]) -> set[tuple[int, str]]:
    """(the statement's line, the bound name) of each import marked `# noqa`."""
    marked = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if "# noqa" in lines[alias.lineno - 1] or "# noqa" in lines[node.lineno - 1]:
                    marked.add((node.lineno, alias.asname or alias.name.split(".")[0]))
    return marked


def warnings_of(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    marked = marked_imports(tree, source.splitlines())
    found = []
    for message in sorted(Checker(tree, filename=str(path)).messages, key=lambda m: (m.lineno, m.col)):
        if isinstance(message, messages.UnusedImport):
            bound = message.message_args[0].split(" as ")[-1].rsplit(".", 1)[-1]
            if (message.lineno, bound) in marked:
                continue
        if isinstance(message, messages.RedefinedWhileUnused) and tuple(message.message_args[::-1]) in marked:
            continue
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        found.append(f"{shown}:{message.lineno}: {message.message % message.message_args}")
    return found


def test_the_project_s_python_has_no_pyflakes_warnings():
    files = list(project_files())
    assert len(files) > 100 and ROOT / "server" / "direct.py" in files
    assert [warning for path in files for warning in warnings_of(path)] == []


def test_an_unmarked_unused_import_is_reported_and_a_marked_fixture_is_not(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text(
        "import os\n"
        "from tests.test_export_rows import NOV10_11, data  # noqa: F401 (fixture)\n"
        "from tests.test_pages import (  # noqa: F401\n    duck,\n)\n"
        "from tests.test_export_rows import (\n    MOS,\n    data as rows,  # noqa: F401 (fixture)\n)\n\n\n"
        "def test_x(data, duck, rows):\n    return undefined_name\n",
        encoding="utf-8")
    assert warnings_of(module) == [
        "probe.py:1: 'os' imported but unused",
        "probe.py:6: 'tests.test_export_rows.MOS' imported but unused",
        "probe.py:13: undefined name 'undefined_name'",
    ]
