"""Run extraction in a child process with a memory limit and a wall-clock timeout.

A crafted PDF can make a parser loop for minutes or allocate gigabytes; inside a Celery
worker that would hang or kill the worker and every task it holds. So the parser runs in
``python -m launch.ai.extraction``: the document goes in on stdin, the pages come back as
JSON on stdout, and the child caps its own address space (``RLIMIT_AS``) and CPU time
before importing any parser. A plain subprocess rather than ``multiprocessing`` because
Celery's prefork workers are daemonic processes, which may not start multiprocessing
children, and because a fresh interpreter shares no state with the worker.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from launch.ai.extraction.base import (
    ExtractionError,
    ExtractionLimits,
    Page,
    UnsupportedDocumentType,
)

EXIT_MEMORY = 3
_PROJECT_ROOT = str(Path(__file__).resolve().parents[3])
_MIN_MEMORY_MB = 128


def extract_pages_limited(
    data: bytes,
    document_type: str,
    *,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
    max_pages: int | None = None,
    max_unpacked_mb: int | None = None,
    max_compression_ratio: int | None = None,
) -> list[Page]:
    """:func:`extract_pages` in a sandboxed child process; same result, same errors.

    Limits not given come from the settings (`ExtractionLimits`): ``timeout_s`` from
    ``DOCUMENT_PARSE_TIMEOUT`` (wall clock) and ``memory_mb`` from
    ``DOCUMENT_PARSE_MEMORY_MB`` (address space, at least 128). A child that runs out of
    either becomes an :class:`ExtractionError` saying which limit the document exceeded.
    """
    given: dict[str, Any] = {
        "parse_timeout": timeout_s,
        "parse_memory_mb": memory_mb,
        "max_pages": max_pages,
        "max_unpacked_mb": max_unpacked_mb,
        "max_compression_ratio": max_compression_ratio,
    }
    chosen = replace(
        ExtractionLimits.from_settings(), **{k: v for k, v in given.items() if v is not None}
    )
    timeout = float(chosen.parse_timeout)
    memory = max(int(chosen.parse_memory_mb), _MIN_MEMORY_MB)
    limits = {
        "--max-pages": chosen.max_pages,
        "--max-unpacked-mb": chosen.max_unpacked_mb,
        "--max-compression-ratio": chosen.max_compression_ratio,
    }
    command = [sys.executable, "-m", "launch.ai.extraction", "--type", document_type]
    command += ["--memory-mb", str(memory), "--cpu-seconds", str(math.ceil(timeout) + 5)]
    for flag, value in limits.items():
        command += [flag, str(int(value))]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PROJECT_ROOT, env.get("PYTHONPATH")]))
    try:
        completed = subprocess.run(
            command, input=data, capture_output=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        raise ExtractionError(
            f"Reading the document exceeded the time limit ({timeout:g} s); "
            "the file may be malformed or too complex."
        ) from None
    return _parse_result(completed, memory)


def _parse_result(completed: subprocess.CompletedProcess[bytes], memory_mb: int) -> list[Page]:
    code = completed.returncode
    stderr = completed.stderr.decode("utf-8", errors="replace")
    if code == EXIT_MEMORY or "MemoryError" in stderr or code == -signal.SIGKILL:
        raise ExtractionError(
            f"Reading the document exceeded the memory limit ({memory_mb} MB); "
            "the file may be malformed or too large."
        )
    if code == -signal.SIGXCPU:
        raise ExtractionError("Reading the document exceeded the time limit (CPU time).")
    try:
        if code != 0:
            raise ValueError(f"exit code {code}")
        result = json.loads(completed.stdout)
        if "error" in result:
            error_class = UnsupportedDocumentType if result.get("unsupported") else ExtractionError
            raise error_class(str(result["error"]))
        return [Page(number, text) for number, text in result["pages"]]
    except (ValueError, KeyError, TypeError):
        raise ExtractionError(
            "The document could not be read: the document reader stopped unexpectedly."
        ) from None
