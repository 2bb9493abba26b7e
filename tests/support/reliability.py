"""Figures for docs/reliability.md, recorded by the tests that prove Launch's promises.

Tests mark themselves `@pytest.mark.promise(N)` (N = 1..6, see docs/reliability.md) and
call `record(name, amount)` for what they did: requests fuzzed, faults injected, hostile
files tried, rows lost. Recording is a no-op unless LAUNCH_RELIABILITY_FIGURES names a
file, which the report command (`make reliability`) sets; figures append as JSON lines,
so parallel processes may record into one file.
"""

from __future__ import annotations

import json
import os

FIGURES_ENV = "LAUNCH_RELIABILITY_FIGURES"

PROMISES = {
    1: "No accepted upload is ever lost: every 201 upload ends completed or failed(reason).",
    2: "No read crosses users: lists, search, chat and the admin show only what was granted.",
    3: "Revocation has a fixed time bound: refresh tokens fail at once, access tokens "
    "within their lifetime.",
    4: "Hostile input never crashes the service or exhausts it.",
    5: "Retries never duplicate chunks, emails or model charges.",
    6: "No escalation: nothing a non-superuser does through the API or the admin leaves "
    "anyone with a right it did not hold, and every change of rights is in the activity log.",
}


def record(figure: str, amount: int = 1) -> None:
    """Add `amount` to `figure` (e.g. "requests fuzzed", "rows lost") for the report."""
    path = os.environ.get(FIGURES_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"figure": figure, "amount": amount}) + "\n")
