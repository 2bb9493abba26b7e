"""Write docs/reliability.md: each promise, the tests that prove it, the last run's figures.

    python -m tests.support.reliability_report [pytest arguments]     (or: make reliability)

Runs `pytest -m promise` with this module as a plugin, which notes every test's promise
markers and outcome, while the tests record their figures (tests/support/reliability.py)
into a temporary file. The document is written even when a test fails (it says so), and
the command exits with pytest's status. Extra arguments go to pytest.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.reliability import FIGURES_ENV, PROMISES

RESULTS_ENV = "LAUNCH_RELIABILITY_RESULTS"
OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
# The figures the issue asks for, listed even when nothing recorded them.
HEADLINE = (
    "requests fuzzed",
    "faults injected",
    "hostile files tried",
    "rows lost",
    "escalation sequences tried",
    "rights gained",
)
COMMAND = "make reliability"

# --- the pytest plugin: `-p tests.support.reliability_report` -------------------------------

_promises: dict[str, list[int]] = {}
_outcomes: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        numbers = sorted({int(marker.args[0]) for marker in item.iter_markers("promise")})
        if numbers:
            _promises[item.nodeid] = numbers


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped:
        _outcomes.setdefault(report.nodeid, "skipped")
    elif report.when == "call":
        _outcomes.setdefault(report.nodeid, "passed")


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get(RESULTS_ENV)
    if path:
        results = [
            {"nodeid": nodeid, "promises": numbers, "outcome": _outcomes.get(nodeid, "not run")}
            for nodeid, numbers in _promises.items()
        ]
        Path(path).write_text(json.dumps(results), encoding="utf-8")


# --- the renderer -------------------------------------------------------------------------


def sum_figures(path: Path) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            totals[entry["figure"]] += int(entry["amount"])
    return dict(totals)


def grouped(results: list[dict[str, Any]], promise: int) -> list[tuple[str, int, str]]:
    """(test, cases, outcome) per test function: parametrized cases are folded into one."""
    cases: dict[str, list[str]] = defaultdict(list)
    for result in results:
        if promise in result["promises"]:
            cases[re.sub(r"\[.*\]$", "", result["nodeid"])].append(result["outcome"])
    rows = []
    for test, outcomes in sorted(cases.items()):
        worst = next((o for o in ("failed", "not run", "skipped") if o in outcomes), "passed")
        rows.append((test, len(outcomes), worst))
    return rows


def render(results: list[dict[str, Any]], figures: dict[str, int], exit_code: int) -> str:
    outcomes = [result["outcome"] for result in results]
    verdict = "all passed" if exit_code == 0 else f"FAILED (pytest exit status {exit_code})"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Reliability",
        "",
        f"Regenerate with `{COMMAND}` (`python -m tests.support.reliability_report`), which "
        "runs every test marked `@pytest.mark.promise(N)` and rewrites this file; do not edit "
        "it by hand. The schema fuzzer prints its seed; replay a failure with "
        "`LAUNCH_FUZZ_SEED=<seed>`.",
        "",
        f"Last run: {when}: {len(results)} tests, "
        f"{outcomes.count('passed')} passed, {outcomes.count('failed')} failed, "
        f"{outcomes.count('skipped')} skipped: {verdict}.",
        "",
        "## Figures of the last run",
        "",
        "| figure | amount |",
        "|---|---:|",
    ]
    names = list(HEADLINE) + sorted(set(figures) - set(HEADLINE))
    for name in names:
        amount = figures.get(name)
        lines.append(f"| {name} | {amount if amount is not None else 'not recorded'} |")
    for number, text in PROMISES.items():
        rows = grouped(results, number)
        lines += ["", f"## {number}. {text}", ""]
        if not rows:
            lines.append("No test proves this promise yet.")
            continue
        lines += ["| test | cases | outcome |", "|---|---:|---|"]
        lines += [f"| `{test}` | {count} | {outcome} |" for test, count, outcome in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="launch-reliability-") as tmp:
        figures_path, results_path = Path(tmp) / "figures.jsonl", Path(tmp) / "results.json"
        figures_path.touch()
        env = {**os.environ, FIGURES_ENV: str(figures_path), RESULTS_ENV: str(results_path)}
        command = [sys.executable, "-m", "pytest", "-m", "promise", "-q"]
        command += ["-p", "tests.support.reliability_report", *argv]
        exit_code = subprocess.call(command, env=env)
        if not results_path.exists():
            print("pytest collected nothing; docs/reliability.md is unchanged", file=sys.stderr)
            return exit_code or 1
        results = json.loads(results_path.read_text(encoding="utf-8"))
        document = render(results, sum_figures(figures_path), exit_code)
    OUTPUT.write_text(document, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
