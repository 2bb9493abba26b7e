"""Each limit of a plan, checked before the work starts: a 4xx in the envelope naming the
limit, the use and the reset, and nothing half-written behind it."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from apps.chat.models import ChatMessage
from apps.plans.quotas import team_tokens_used
from apps.projects.models import Document
from apps.usage.models import ModelCall
from launch.ai.metering import CallRecord
from tests.chat.conftest import start
from tests.plans.conftest import ask, upload

pytestmark = pytest.mark.django_db


def stored_files(project) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "documents" / str(project.pk)
    return sorted(folder.iterdir()) if folder.exists() else []


def spend(team, tokens: int, when: datetime.datetime | None = None) -> None:
    ModelCall.objects.create(
        created_at=when or timezone.now(),
        team=team,
        purpose="answer",
        provider="openai",
        model="m",
        input_tokens=tokens // 2,
        output_tokens=tokens - tokens // 2,
        status="ok",
    )


def next_month_start(now: datetime.datetime) -> datetime.datetime:
    first = now.astimezone(datetime.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + datetime.timedelta(days=32)).replace(day=1)


# --- Documents and storage: 403 ---------------------------------------------------------


def test_an_upload_past_the_documents_limit_is_403_and_stores_nothing(
    client_for, member, project, limits
):
    limits(max_documents=2)
    client = client_for(member)
    assert upload(client, project, b"one", "1.txt").status_code == 201
    assert upload(client, project, b"two", "2.txt").status_code == 201

    refused = upload(client, project, b"three", "3.txt")

    assert refused.status_code == 403
    assert refused.json() == {
        "detail": refused.json()["detail"],
        "quota": "documents",
        "limit": 2,
        "used": 2,
        "resets_at": None,
    }
    assert "2 documents" in refused.json()["detail"]
    assert "Retry-After" not in refused.headers
    assert Document.objects.filter(project=project).count() == 2
    assert len(stored_files(project)) == 2


def test_an_upload_past_the_storage_limit_is_403_and_stores_nothing(
    client_for, member, project, limits
):
    limits(max_storage_bytes=100)
    client = client_for(member)
    assert upload(client, project, b"x" * 60, "a.txt").status_code == 201

    refused = upload(client, project, b"y" * 41, "b.txt")

    assert refused.status_code == 403
    body = refused.json()
    assert (body["quota"], body["limit"], body["used"], body["resets_at"]) == (
        "storage_bytes",
        100,
        60,
        None,
    )
    assert Document.objects.filter(project=project).count() == 1
    assert len(stored_files(project)) == 1
    # What still fits is taken.
    assert upload(client, project, b"z" * 40, "c.txt").status_code == 201


def test_deleting_a_document_frees_its_place(client_for, member, project, limits):
    limits(max_documents=1)
    client = client_for(member)
    first = upload(client, project).json()["id"]
    assert upload(client, project).status_code == 403
    assert client.delete(f"/api/v1/documents/{first}").status_code == 200
    assert upload(client, project).status_code == 201


# --- Tokens per month: 429 --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/messages", "/messages/stream"])
@pytest.mark.usefixtures("member")
def test_a_message_once_the_monthly_tokens_are_spent_is_429_and_not_stored(
    client_for, team, conversation, limits, path
):
    member = team.owner
    limits(tokens_per_month=1000)
    spend(team, 1000)

    refused = ask(client_for(member), conversation, path)

    assert refused.status_code == 429
    body = refused.json()
    assert (body["quota"], body["limit"], body["used"]) == ("tokens_per_month", 1000, 1000)
    resets_at = datetime.datetime.fromisoformat(body["resets_at"])
    assert resets_at == next_month_start(timezone.now())
    assert int(refused.headers["Retry-After"]) >= 1
    assert "X-RateLimit-Limit" not in refused.headers  # a budget, not a rate
    assert not ChatMessage.objects.filter(conversation=conversation).exists()


def test_last_months_tokens_do_not_count(client_for, member, team, conversation, limits):
    limits(tokens_per_month=1000)
    start = timezone.now().astimezone(datetime.UTC).replace(day=1, hour=0, minute=0)
    spend(team, 5000, when=start - datetime.timedelta(minutes=1))
    assert ask(client_for(member), conversation).status_code == 201


def test_the_token_counter_follows_the_ledger_and_is_reconciled_with_it(
    client_for, member, team, conversation, limits
):
    from apps.usage.services import model_call_record

    limits(tokens_per_month=10_000)
    spend(team, 100)
    assert team_tokens_used(team) == 100  # summed from the ledger, then kept in the cache
    record = CallRecord(
        purpose="answer",
        provider="openai",
        model="m",
        input_tokens=30,
        output_tokens=20,
        tokens_estimated=False,
        latency_ms=1,
        status="ok",
        attribution={"user": member},
        idempotency_key=None,
    )
    model_call_record(record)  # the metering sink adds the call to the counter
    assert team_tokens_used(team) == 150
    spend(team, 7)  # a row the counter did not see (e.g. a keyed ingestion batch)
    assert team_tokens_used(team) == 150
    from django.core.cache import cache

    cache.clear()  # the counter is lost (a Redis restart)
    assert team_tokens_used(team) == 157


def test_the_token_counter_is_summed_again_each_reconciliation_period(team, settings):
    settings.USAGE_QUOTA_RECONCILE_SECONDS = 60
    now = timezone.now()
    assert team_tokens_used(team, now) == 0
    spend(team, 40)  # unseen by the counter
    assert team_tokens_used(team, now) == 0
    assert team_tokens_used(team, now + datetime.timedelta(seconds=60)) == 40


# --- Chat messages per day: 429 with X-RateLimit-* ----------------------------------------


def test_the_daily_message_limit_counts_down_in_headers_then_refuses(
    client_for, member, conversation, limits
):
    limits(chat_messages_per_day=2)
    client = client_for(member)
    first = ask(client, conversation)
    second = ask(client, conversation, "/messages/stream")
    refused = ask(client, conversation)

    assert first.status_code == 201
    assert second.status_code == 200
    assert [first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]] == [
        "2",
        "1",
    ]
    assert second.headers["X-RateLimit-Remaining"] == "0"
    tomorrow = timezone.now().astimezone(datetime.UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    ) + datetime.timedelta(days=1)
    assert first.headers["X-RateLimit-Reset"] == str(int(tomorrow.timestamp()))

    assert refused.status_code == 429
    body = refused.json()
    assert (body["quota"], body["limit"], body["used"]) == ("chat_messages_per_day", 2, 2)
    assert datetime.datetime.fromisoformat(body["resets_at"]) == tomorrow
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["Retry-After"]) >= 1
    users = ChatMessage.objects.filter(conversation=conversation, role="user")
    assert users.count() == 2


def test_the_daily_count_survives_a_lost_cache(client_for, member, conversation, limits):
    from django.core.cache import cache

    limits(chat_messages_per_day=2)
    client = client_for(member)
    assert ask(client, conversation).status_code == 201
    cache.clear()  # Redis restarted: the counter is seeded again from the stored messages
    assert ask(client, conversation).status_code == 201
    assert ask(client, conversation).status_code == 429


def test_a_message_refused_for_another_reason_does_not_use_the_days_allowance(
    client_for, member, project, limits
):
    limits(chat_messages_per_day=1)
    conversation = start(member, project)
    client = client_for(member)
    bad = client.post(
        f"/api/v1/chat/conversations/{conversation.pk}/messages",
        {"content": "Hi", "document_ids": ["00000000-0000-0000-0000-000000000000"]},
        format="json",
    )
    assert bad.status_code == 422
    assert ask(client, conversation).status_code == 201


# --- API-key requests per minute: 429 with X-RateLimit-* -----------------------------------


def test_api_key_requests_past_the_rate_are_429_with_headers(
    member, team, limits, make_key, key_client
):
    limits(api_key_requests_per_minute=3)
    if 60 - time.time() % 60 < 3:
        time.sleep(60 - time.time() % 60)  # keep the burst inside one minute's window
    _, raw = make_key(member)
    other_key = make_key(member, name="second")[1]
    answers = [key_client(raw).get("/api/v1/users/me") for _ in range(2)]
    answers.append(key_client(other_key).get("/api/v1/users/me"))  # the team's keys share it
    refused = key_client(raw).get("/api/v1/users/me")

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    reset = int(answers[0].headers["X-RateLimit-Reset"])
    assert reset % 60 == 0
    assert 0 < reset - time.time() <= 60

    assert refused.status_code == 429
    body = refused.json()
    assert (body["quota"], body["limit"], body["used"]) == ("api_key_requests_per_minute", 3, 3)
    assert int(datetime.datetime.fromisoformat(body["resets_at"]).timestamp()) == reset
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_requests_with_a_token_do_not_count_against_the_key_rate(client_for, member, team, limits):
    limits(api_key_requests_per_minute=1)
    client = client_for(member)
    answers = [client.get("/api/v1/users/me") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "X-RateLimit-Limit" not in answers[0].headers


def test_a_member_without_a_team_has_no_limits(client_for, make_member, make_key, key_client):
    loner = make_member()  # no personal team: nothing to count against
    _, raw = make_key(loner)
    answers = [key_client(raw).get("/api/v1/users/me") for _ in range(3)]
    assert {a.status_code for a in answers} == {200}


def test_the_ingest_command_reports_files_past_the_plan_and_goes_on(
    tmp_path, member, project, limits
):
    from io import StringIO

    from django.core.management import call_command

    limits(max_documents=1)
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(f"Notes {name} about kelp forests and sea otters.")
    out = StringIO()
    call_command("ingest", str(tmp_path), "--project", str(project.pk), stdout=out)
    assert out.getvalue().splitlines()[0] == "1 completed, 2 failed"
    assert "b.txt: Your plan allows 1 documents" in out.getvalue()
    assert Document.objects.filter(project=project).count() == 1
    assert len(stored_files(project)) == 1
