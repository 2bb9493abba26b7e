"""Settings as a fresh process builds them from an environment: what a deployment with
those variables would run with (settings are read once, at start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
# Variables the probes decide on: unset unless a test sets them.
PROBED = ("STORAGE_BACKEND", "AWS_STORAGE_BUCKET_NAME", "DATABASE_REPLICA_URLS")


def run_settings(
    env: dict[str, str], module: str = "config.settings.test"
) -> subprocess.CompletedProcess[str]:
    """Import `module` under `env` in a new interpreter; the completed process."""
    return _run(env, module, "pass")


def settings_value(
    env: dict[str, str], expression: str, module: str = "config.settings.test"
) -> Any:
    """The JSON value of `expression` (over `s`, the settings) under `env`."""
    result = _run(env, module, f"print(json.dumps({expression}, default=str))")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _run(env: dict[str, str], module: str, statement: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": module, **env}
    for name in PROBED:
        if name not in env:
            full.pop(name, None)
    code = (
        f"import json, django; django.setup(); from django.conf import settings as s; {statement}"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
