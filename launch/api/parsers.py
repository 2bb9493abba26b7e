"""Request body parsers that refuse hostile input before any view, throttle or query sees it.

- JSON nested deeper than `API_JSON_MAX_DEPTH` (default 32) is a 400: deep nesting used
  to reach Python's recursion limit (a 500) and no Launch body nests past a few levels.
- A NUL character or an unpaired surrogate (`"\\u0000"`, `"\\ud800"`) in any key or
  string of a JSON, form or multipart body is a 422 naming the field: PostgreSQL cannot
  store NUL in text, and a lone surrogate cannot be encoded to UTF-8 at all, so either
  one used to turn into a 500 wherever it reached the database or a response.

Uploaded files are not checked here: their bytes are the document pipeline's business,
and their names are sanitised by the upload service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The most problems listed in one answer; the rest are alike.
MAX_REPORTED = 20
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
NUL_MESSAGE = ("Null characters are not allowed.", "null_characters_not_allowed")
SURROGATE_MESSAGE = ("Unpaired surrogate characters are not allowed.", "invalid_unicode")

Path = tuple[str | int, ...]


def max_depth() -> int:
    return int(settings.API_JSON_MAX_DEPTH)


def printable(part: str | int) -> str | int:
    """A location part that can be rendered: surrogates escaped as `\\udXXX`."""
    if isinstance(part, str):
        return part.encode("utf-8", "backslashreplace").decode("utf-8")
    return part


def text_problem(value: str) -> tuple[str, str] | None:
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


class TextProblems:
    """Collects `{loc, msg, type}` items for bad text, then raises them as one 422."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.items: list[dict[str, Any]] = []

    def check(self, value: str, path: Path) -> None:
        problem = text_problem(value)
        if problem is not None and len(self.items) < MAX_REPORTED:
            msg, code = problem
            loc = [self.location, *(printable(p) for p in path)]
            self.items.append({"loc": loc, "msg": msg, "type": code})

    def raise_any(self) -> None:
        # Imported here: DRF's APIView loads these parsers while launch.api.exceptions,
        # which imports rest_framework.views, is still loading.
        from launch.api.exceptions import InvalidText

        if self.items:
            raise InvalidText(self.items)


def check_json(data: Any, *, location: str = "body") -> None:
    """400 if `data` nests deeper than the limit; 422 for bad text in any key or string.

    Iterative, so the check itself cannot exhaust the stack."""
    limit = max_depth()
    problems = TextProblems(location)
    stack: list[tuple[Any, Path, int]] = [(data, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            problems.check(value, path)
        elif isinstance(value, dict | list):
            if depth > limit:
                raise ParseError(f"JSON nested deeper than {limit} levels is not accepted.")
            pairs: Iterable[tuple[Any, Any]] = (
                value.items() if isinstance(value, dict) else enumerate(value)
            )
            for key, item in pairs:
                if isinstance(key, str):
                    problems.check(key, (*path, key))
                stack.append((item, (*path, key), depth + 1))
    problems.raise_any()


def check_form(data: Mapping[str, Any], *, location: str = "body") -> None:
    """422 for bad text in any field name or value of a parsed form."""
    problems = TextProblems(location)
    lists = data.lists() if hasattr(data, "lists") else ((k, [v]) for k, v in data.items())
    for key, values in lists:
        problems.check(key, (key,))
        for value in values:
            if isinstance(value, str):
                problems.check(value, (key,))
    problems.raise_any()


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                f"JSON nested deeper than {max_depth()} levels is not accepted."
            ) from None
        check_json(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        check_form(parsed.data)
        return parsed
