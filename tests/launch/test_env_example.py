""".env.example documents every environment variable the settings read.

The reads are found in the settings' source (config/settings/*.py), not in a list kept
by hand: `env("X")`, `env.<kind>("X", ...)`, `os.environ.get("X")`, `os.environ["X"]`,
`os.environ.setdefault("X", ...)` and `os.getenv("X")`, wherever they sit in the files,
so moving a default or a read between settings modules keeps the test honest. A name
built at run time (tests' `TEST_THROTTLE_<SCOPE>_RATE`) cannot be found this way and is
documented beside its read instead.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = sorted((ROOT / "config" / "settings").glob("*.py"))
EXAMPLE = ROOT / ".env.example"
# `NAME=value`, or `# NAME=value` for one documented but left unset on purpose.
DOCUMENTED = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _read_name(node: ast.AST) -> str | None:
    """The variable `node` reads from the environment, if it is such a read."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return _string(node.slice)
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    if isinstance(func, ast.Name) and func.id == "env":
        return _string(node.args[0])
    if not isinstance(func, ast.Attribute):
        return None
    owner = func.value
    reads = (
        (isinstance(owner, ast.Name) and owner.id == "env")
        or (_is_environ(owner) and func.attr in ("get", "setdefault", "pop"))
        or (isinstance(owner, ast.Name) and owner.id == "os" and func.attr == "getenv")
    )
    return _string(node.args[0]) if reads else None


def settings_reads() -> dict[str, set[str]]:
    reads: dict[str, set[str]] = {}
    for path in SETTINGS:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            name = _read_name(node)
            if name:
                reads.setdefault(name, set()).add(path.name)
    return reads


def documented() -> list[str]:
    return [match.group(2) for match in DOCUMENTED.finditer(EXAMPLE.read_text())]


def test_the_scan_finds_each_kind_of_read():
    reads = settings_reads()
    # One of each form the settings use today: env.<kind>, env.db_url, os.environ.get,
    # os.environ.setdefault; if these move, pick others, but the scan must see them.
    for name in ("SECRET_KEY", "DATABASE_URL", "DB_POOL_MAX_SIZE", "TEST_DB_NAME", "DEBUG"):
        assert name in reads, name
    assert len(reads) > 80


def test_every_variable_the_settings_read_is_in_env_example():
    missing = {
        name: sorted(files) for name, files in settings_reads().items() if name not in documented()
    }
    assert missing == {}, f"add these to .env.example, with a line saying what they do: {missing}"


def test_env_example_names_each_variable_once():
    twice = sorted(name for name, count in Counter(documented()).items() if count > 1)
    assert twice == []
