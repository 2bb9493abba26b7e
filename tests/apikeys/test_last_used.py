"""`last_used_at` is kept without a write on every request: one conditional UPDATE per
interval (or per new address), none in between."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.apikeys.models import ApiKey

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me"
TABLE = ApiKey._meta.db_table


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'UPDATE "{TABLE}"')]


def test_last_used_at_is_written_once_per_interval_not_per_request(
    key_client, member, make_key, settings
):
    settings.API_KEY_LAST_USED_INTERVAL_SECONDS = 300
    key, raw = make_key(member)
    program = key_client(raw, address="192.0.2.10")

    with CaptureQueriesContext(connection) as first:
        assert program.get(ME).status_code == 200
    assert len(_writes(first)) == 1  # first use: a new address, and the time
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert key.last_used_ip == "192.0.2.10"
    stamped = key.last_used_at

    with CaptureQueriesContext(connection) as repeated:
        for _ in range(5):
            assert program.get(ME).status_code == 200
    assert _writes(repeated) == []
    # Authentication costs one query per request: the key with its user.
    key_reads = [q for q in repeated.captured_queries if f'FROM "{TABLE}"' in q["sql"]]
    assert len(key_reads) == 5
    key.refresh_from_db()
    assert key.last_used_at == stamped

    # Past the interval, the next request writes once, with the condition in its WHERE.
    old = timezone.now() - timedelta(seconds=301)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=old)
    with CaptureQueriesContext(connection) as later:
        for _ in range(3):
            assert program.get(ME).status_code == 200
    writes = _writes(later)
    assert len(writes) == 1
    assert '"last_used_at" <' in writes[0]
    assert '"last_used_at" IS NULL' in writes[0]
    key.refresh_from_db()
    assert key.last_used_at > old


def test_a_stale_copy_of_the_key_does_not_write_twice(member, make_key, settings):
    """Two requests that read the key before either wrote: the second UPDATE matches no
    row, because its WHERE repeats the staleness condition."""
    from apps.apikeys.services import apikey_record_use

    settings.API_KEY_LAST_USED_INTERVAL_SECONDS = 300
    key, _ = make_key(member)
    first, second = ApiKey.objects.get(pk=key.pk), ApiKey.objects.get(pk=key.pk)
    first.seen_addresses = second.seen_addresses = ["192.0.2.20"]
    ApiKey.objects.filter(pk=key.pk).update(seen_addresses=["192.0.2.20"])
    now = timezone.now()
    apikey_record_use(key=first, address="192.0.2.20", now=now)
    apikey_record_use(key=second, address="192.0.2.20", now=now + timedelta(seconds=1))
    key.refresh_from_db()
    assert key.last_used_at == now
