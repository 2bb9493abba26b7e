"""Where measured calls go, as a fresh process decides from its settings: the deferred
writer in web processes, inline writes in Celery workers, nowhere when the ledger is off."""

from __future__ import annotations

import pytest

from tests.support.settings_probe import settings_value

SINKS = "[f.__qualname__ for f in __import__('launch.ai.metering', fromlist=['_'])._sinks]"
WORKER_STARTS = "__import__('celery.signals', fromlist=['_']).worker_process_init.send(sender=None)"


@pytest.mark.parametrize(
    ("env", "sinks"),
    [
        ({"USAGE_LEDGER_DEFERRED": "true"}, ["DeferredWriter.submit"]),
        ({"USAGE_LEDGER_DEFERRED": "false"}, ["model_call_record"]),
        ({"USAGE_LEDGER_ENABLED": "false", "USAGE_LEDGER_DEFERRED": "true"}, []),
    ],
)
def test_the_sink_follows_the_settings(env, sinks):
    assert settings_value(env, SINKS) == sinks


def test_a_celery_worker_process_writes_inline():
    expression = f"({WORKER_STARTS}, {SINKS})[1]"
    assert settings_value({"USAGE_LEDGER_DEFERRED": "true"}, expression) == ["model_call_record"]


def test_a_celery_worker_with_the_ledger_off_writes_nothing():
    expression = f"({WORKER_STARTS}, {SINKS})[1]"
    assert settings_value({"USAGE_LEDGER_ENABLED": "false"}, expression) == []
