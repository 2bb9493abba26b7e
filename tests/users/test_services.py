"""Services: concurrency guarantees, token revocation, the first superuser, bootstrap."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from functools import partial
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.users import services
from apps.users.models import User
from apps.users.recovery import make_reset_token, password_reset
from apps.users.tokens import token_pair_issue, token_refresh, token_revoke
from launch.errors import Conflict, Invalid, NotAuthenticated
from tests.conftest import PASSWORD


def run_in_threads(targets: Sequence[Callable[[], Any]]) -> list[Any]:
    """Start every target at once (behind a barrier); each thread closes its DB connection."""
    barrier = threading.Barrier(len(targets))
    results: list[Any] = [None] * len(targets)

    def run(index: int, target: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = target()
        except Exception as exc:  # the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_signups_with_one_email_in_two_cases_make_one_account():
    def signup(email: str) -> Callable[[], int]:
        def call() -> int:
            body = {"email": email, "password": PASSWORD}
            return APIClient().post("/api/v1/users/signup", body, format="json").status_code

        return call

    statuses = run_in_threads([signup(e) for e in ["A@x.io", "a@x.io"] * 4])
    assert sorted(statuses) == [201] + [409] * 7
    assert User.objects.filter(email="a@x.io").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.promise(3)
def test_parallel_refreshes_of_one_token_exactly_one_wins():
    user = User.objects.create_user(email="race@example.com", password=PASSWORD)
    raw = token_pair_issue(user=user).refresh_token
    results = run_in_threads([lambda: token_refresh(raw=raw) for _ in range(6)])
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, NotAuthenticated) for r in results if r not in winners)
    # the winner's new token works; the presented one is blacklisted
    assert token_refresh(raw=winners[0].refresh_token).access_token


@pytest.mark.django_db(transaction=True)
def test_parallel_resets_with_one_token_exactly_one_wins():
    user = User.objects.create_user(email="reset-race@example.com", password=PASSWORD)
    token = make_reset_token(user)
    passwords = [f"parallel-passphrase-{i}" for i in range(4)]
    targets = [partial(password_reset, token=token, new_password=p) for p in passwords]
    results = run_in_threads(targets)
    assert sum(not isinstance(r, Exception) for r in results) == 1


@pytest.mark.django_db
def test_create_conflict_is_case_insensitive(make_user):
    make_user(email="taken@example.com")
    with pytest.raises(Conflict):
        services.user_create(email="TAKEN@example.com", password=PASSWORD)


@pytest.mark.django_db
def test_integrity_error_becomes_conflict(make_user, monkeypatch):
    # The pre-check can lose a race; the database constraint is the real guard.
    make_user(email="late@example.com")
    monkeypatch.setattr(User.objects, "filter", lambda **kw: User.objects.none())
    with pytest.raises(Conflict):
        services.user_create(email="late@example.com", password=PASSWORD)


@pytest.mark.django_db
def test_user_create_without_password_is_unusable():
    user = services.user_create(email="sso@example.com", password=None)
    assert not user.has_usable_password()


@pytest.mark.django_db
def test_revoke_blacklists_every_outstanding_token_once(user):
    for _ in range(3):
        token_pair_issue(user=user)
    assert services.user_revoke_tokens(user=user) == 3
    assert services.user_revoke_tokens(user=user) == 0
    assert BlacklistedToken.objects.filter(token__user=user).count() == 3


@pytest.mark.django_db
def test_activation_does_not_revoke(user):
    token_pair_issue(user=user)
    services.user_set_active(user=user, is_active=True)
    assert not BlacklistedToken.objects.exists()


@pytest.mark.django_db
def test_deleted_users_tokens_stay_blacklisted(user):
    raw = token_pair_issue(user=user).refresh_token
    services.user_delete(user=user)
    assert OutstandingToken.objects.filter(user=None, blacklistedtoken__isnull=False).exists()
    with pytest.raises(NotAuthenticated):
        token_refresh(raw=raw)


@pytest.mark.django_db
def test_token_revoke_reports_whether_it_revoked(user):
    raw = token_pair_issue(user=user).refresh_token
    assert token_revoke(raw=raw) is True
    assert token_revoke(raw="garbage") is False


@pytest.mark.django_db
def test_set_unusable_password_revokes(user):
    token_pair_issue(user=user)
    services.user_set_password(user=user, password=None)
    assert not user.has_usable_password()
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1


@pytest.mark.django_db
def test_authenticate_runs_for_unknown_email():
    with pytest.raises(Invalid):
        services.user_authenticate(email="nobody@example.com", password=PASSWORD)


# --- first superuser and bootstrap ---------------------------------------------------------


@pytest.fixture
def superuser_settings(settings, tmp_path):
    settings.FIRST_SUPERUSER = "Boss@Example.com"
    settings.FIRST_SUPERUSER_PASSWORD = ""
    settings.LOCAL_GENERATE_SUPERUSER_PASSWORD = True
    settings.FIRST_SUPERUSER_FILE = str(tmp_path / "first_superuser.txt")
    return settings


@pytest.mark.django_db
def test_bootstrap_generates_and_saves_a_password_once(superuser_settings, tmp_path):
    out = StringIO()
    call_command("bootstrap", stdout=out)
    user = User.objects.get(email="boss@example.com")
    assert user.is_superuser
    assert user.is_staff
    saved = tmp_path / "first_superuser.txt"
    assert os.stat(saved).st_mode & 0o777 == 0o600
    password = saved.read_text().split("password: ")[1].strip()
    assert user.check_password(password)
    assert password in out.getvalue()

    again = StringIO()
    call_command("bootstrap", stdout=again)  # idempotent: nothing changes, nothing printed
    assert "already exists" in again.getvalue()
    assert password not in again.getvalue()
    assert User.objects.filter(is_superuser=True).count() == 1


@pytest.mark.django_db
def test_bootstrap_uses_the_configured_password(superuser_settings):
    superuser_settings.FIRST_SUPERUSER_PASSWORD = "a-configured-passphrase"
    out = StringIO()
    call_command("bootstrap", stdout=out)
    assert User.objects.get(email="boss@example.com").check_password("a-configured-passphrase")
    assert "a-configured-passphrase" not in out.getvalue()


@pytest.mark.django_db
def test_bootstrap_without_password_outside_local_fails_naming_the_variable(superuser_settings):
    superuser_settings.LOCAL_GENERATE_SUPERUSER_PASSWORD = False
    with pytest.raises(CommandError, match="FIRST_SUPERUSER_PASSWORD"):
        call_command("bootstrap", stdout=StringIO())
    assert not User.objects.exists()


@pytest.mark.django_db
def test_bootstrap_rejects_a_weak_password(superuser_settings):
    superuser_settings.FIRST_SUPERUSER_PASSWORD = "password"
    with pytest.raises(CommandError, match="FIRST_SUPERUSER_PASSWORD"):
        call_command("bootstrap", stdout=StringIO())


@pytest.mark.django_db
def test_first_superuser_needs_an_email(superuser_settings):
    superuser_settings.FIRST_SUPERUSER = ""
    with pytest.raises(CommandError, match="FIRST_SUPERUSER"):
        call_command("bootstrap", stdout=StringIO())


@pytest.mark.django_db
def test_password_validation_errors_name_the_field(user):
    with pytest.raises(DjangoValidationError) as info:
        services.user_update(user=user, password="123")
    assert "password" in info.value.message_dict
