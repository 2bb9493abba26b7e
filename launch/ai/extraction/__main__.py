"""The sandboxed extraction child: ``python -m launch.ai.extraction --type pdf < file``.

Started by :func:`launch.ai.extraction.extract_pages_limited`; not a user-facing command.
Limits are applied before any parser is imported, so parsing happens entirely under them.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from typing import Any

from launch.ai.extraction.base import ExtractionError, UnsupportedDocumentType
from launch.ai.extraction.limited import EXIT_MEMORY


def _apply_limits(memory_mb: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: run without limits rather than not at all
        return
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launch.ai.extraction")
    parser.add_argument("--type", required=True)
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("--max-pages", type=int, required=True)
    parser.add_argument("--max-unpacked-mb", type=int, required=True)
    parser.add_argument("--max-compression-ratio", type=int, required=True)
    args = parser.parse_args(argv)
    output = sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints from libraries must not corrupt the JSON
    _apply_limits(args.memory_mb, args.cpu_seconds)
    try:
        from launch.ai.extraction.extract import extract_pages

        data = sys.stdin.buffer.read()
        result: dict[str, Any]
        try:
            pages = extract_pages(
                data,
                args.type,
                max_pages=args.max_pages,
                max_unpacked_mb=args.max_unpacked_mb,
                max_compression_ratio=args.max_compression_ratio,
            )
            result = {"pages": [[page.number, page.text] for page in pages]}
        except UnsupportedDocumentType as exc:
            result = {"error": exc.message, "unsupported": True}
        except ExtractionError as exc:
            result = {"error": exc.message}
        except MemoryError:
            raise
        except Exception:
            traceback.print_exc()
            result = {"error": "The document could not be read: it is damaged or unsupported."}
        del data
        output.write(json.dumps(result, ensure_ascii=False).encode("utf-8"))
        output.flush()
    except MemoryError:
        return EXIT_MEMORY
    return 0


if __name__ == "__main__":
    sys.exit(main())
