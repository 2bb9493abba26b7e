"""The deferred ledger writer: a request only queues its rows (no query), a thread writes
them in batches, and a failed batch is logged without stopping the writer."""

from __future__ import annotations

import logging
import uuid

import pytest

from apps.teams.services import team_ensure_personal
from apps.usage.models import ModelCall
from apps.usage.writer import DeferredWriter
from launch.ai.metering import CallRecord

pytestmark = pytest.mark.django_db(transaction=True)


def call(user=None, *, key=None, tokens=(3, 4), **attribution):
    return CallRecord(
        purpose="answer",
        provider="openai",
        model="m-1",
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        tokens_estimated=False,
        latency_ms=2,
        status="ok",
        idempotency_key=key,
        attribution={"user": user, **attribution},
    )


def test_submitting_runs_no_query_and_the_thread_writes_every_row(
    make_user, django_assert_num_queries
):
    user = make_user()
    team = team_ensure_personal(user=user)
    writer = DeferredWriter()
    with django_assert_num_queries(0):
        for n in range(20):
            writer.submit(call(user, tokens=(n, 1)))
    writer.flush()
    rows = ModelCall.objects.filter(user=user)
    assert rows.count() == 20
    assert set(rows.values_list("team_id", flat=True)) == {team.pk}
    assert sorted(rows.values_list("input_tokens", flat=True)) == list(range(20))


def test_a_replayed_idempotency_key_is_written_once(make_user):
    user = make_user()
    writer = DeferredWriter()
    key = f"ingest:{uuid.uuid4()}"
    writer.submit(call(user, key=key))
    writer.submit(call(user, key=key))
    writer.flush()
    writer.submit(call(user, key=key))
    writer.flush()
    assert ModelCall.objects.filter(idempotency_key=key).count() == 1


def test_a_failed_batch_is_logged_and_the_writer_goes_on(make_user, caplog):
    user = make_user()
    writer = DeferredWriter()
    # A key that names no row: the batch's insert fails on its foreign key.
    with caplog.at_level(logging.ERROR, logger="apps.usage.writer"):
        writer.submit(call(None, api_key=uuid.uuid4()))
        writer.flush()
    assert "could not write 1 call(s)" in caplog.text
    writer.submit(call(user))
    writer.flush()
    assert ModelCall.objects.filter(user=user).count() == 1
