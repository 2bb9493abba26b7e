"""JSON logs: one object per line with request id, user id and duration."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from launch.logging import JsonFormatter, configure_sentry
from launch.middleware import request_id_var

pytestmark = pytest.mark.django_db


@pytest.fixture
def access_lines(caplog):
    caplog.set_level(logging.INFO, logger="launch.request")
    formatter = JsonFormatter()

    def lines() -> list[dict]:
        return [
            json.loads(formatter.format(r)) for r in caplog.records if r.name == "launch.request"
        ]

    return lines


def test_request_line_has_request_user_status_and_duration(client_for, member, access_lines):
    client_for(member).get("/api/v1/items/", HTTP_X_REQUEST_ID="trace-1")
    (line,) = access_lines()
    assert line["request_id"] == "trace-1"
    assert line["user_id"] == str(member.pk)
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/items/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"


def test_anonymous_request_has_no_user(api, access_lines):
    api.get("/api/v1/items/")
    (line,) = access_lines()
    assert line["status"] == 401
    assert line["user_id"] is None


def test_formatter_outside_a_request_keeps_extras_and_traceback():
    token = request_id_var.set("")
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("job",),
            sys.exc_info(),
            extra={"job_id": 7},
        )
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed job"
    assert line["job_id"] == 7
    assert "ValueError: broken" in line["exc_info"]
    assert "request_id" not in line


def test_sentry_stays_off_without_a_dsn():
    assert configure_sentry(dsn="", environment="test", traces_sample_rate=0.0) is False
