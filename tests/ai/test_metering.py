"""The metering seam on its own: what a `metered` block hands the sink."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from launch.ai import metering
from launch.ai.embeddings import HashingEmbeddingProvider
from launch.ai.metering import CallRecord, attributed, metered, report_usage


@pytest.fixture
def records() -> Iterator[list[CallRecord]]:
    """Capture what is recorded, instead of the ledger, for one test."""
    captured: list[CallRecord] = []
    previous = list(metering._sinks)
    metering.set_sink(captured.append)
    yield captured
    metering._sinks[:] = previous


PROVIDER = HashingEmbeddingProvider(8)


def test_reported_counts_win_over_the_estimate(records):
    with (
        attributed(user="u-1"),
        attributed(project_id="p-1"),
        metered("ingest", PROVIDER, input_estimate=50),
    ):
        report_usage(input_tokens=7)
        report_usage(input_tokens=5)  # a second request of the same call
    (record,) = records
    assert (record.input_tokens, record.tokens_estimated, record.status) == (12, False, "ok")
    assert (record.provider, record.model) == ("hashing", PROVIDER.model_name)
    assert dict(record.attribution) == {"user": "u-1", "project_id": "p-1"}


def test_without_a_report_the_estimate_is_kept_and_marked(records):
    with metered("query_embedding", PROVIDER, input_estimate=9):
        embedding = [0.0, 1.0]  # a provider call that reports no token counts
    assert embedding == [0.0, 1.0]
    assert (records[0].input_tokens, records[0].tokens_estimated) == (9, True)


def test_an_exception_records_an_error_and_propagates(records):
    with pytest.raises(RuntimeError), metered("answer", PROVIDER, input_estimate=9):
        raise RuntimeError("model down")
    assert (records[0].status, records[0].input_tokens) == ("error", 0)


def test_an_interruption_records_cancelled(records):
    with pytest.raises(GeneratorExit), metered("stream_answer", PROVIDER, input_estimate=3):
        raise GeneratorExit
    assert records[0].status == "cancelled"


def test_a_failing_sink_is_logged_and_never_raises(caplog):
    previous = list(metering._sinks)

    def broken(record: CallRecord) -> None:
        raise ValueError("ledger down")

    metering.set_sink(broken)
    try:
        with (
            caplog.at_level(logging.ERROR, logger="launch.ai.metering"),
            metered("answer", PROVIDER),
        ):
            result = "answered"
    finally:
        metering._sinks[:] = previous
    assert result == "answered"
    assert "could not record" in caplog.text


def test_a_meter_records_once(records):
    meter = metering.Meter("answer", PROVIDER)
    meter.finish("ok", input_tokens=1, output_tokens=2)
    meter.finish("cancelled")
    assert [r.status for r in records] == ["ok"]
    assert metering.provider_name(PROVIDER) == "hashing"


def test_nothing_is_reported_outside_a_metered_block(records):
    report_usage(input_tokens=3)
    assert records == []
