"""A key authenticates as its user through either header; anything wrong with it is a
401 in the error envelope, from the next request after a revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.apikeys.models import ApiKey
from tests.conftest import bearer

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me"


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_a_key_authenticates_as_its_user_through_either_header(
    key_client, member, make_key, header
):
    _, raw = make_key(member)
    response = key_client(raw, header=header).get(ME)
    assert response.status_code == 200
    assert response.json()["id"] == str(member.pk)


def test_a_jwt_still_authenticates_beside_keys(client_for, member, make_key):
    make_key(member)
    assert client_for(member).get(ME).json()["id"] == str(member.pk)


def _assert_401(response, detail):
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "value",
    [
        "lk_",
        "lk_short",
        "lk_AAAAAAAA_" + "B" * 40,  # well-formed, unknown prefix
        "lk_AAAAAAAA_" + "B" * 400,  # too long
        "lk_AAAA-AAA_" + "B" * 40,  # a character keys never contain
    ],
)
@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_an_unknown_or_malformed_key_is_401(key_client, db, value, header):
    _assert_401(key_client(value, header=header).get(ME), "Invalid API key.")


def test_a_known_prefix_with_a_wrong_secret_is_401(key_client, member, make_key):
    _key, raw = make_key(member)
    forged = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    _assert_401(key_client(forged).get(ME), "Invalid API key.")


def test_both_headers_at_once_are_refused(api, member, make_key):
    _, raw = make_key(member)
    api.credentials(HTTP_AUTHORIZATION=bearer(member), HTTP_X_API_KEY=raw)
    response = api.get(ME)
    assert response.status_code == 401
    assert "not both" in response.json()["detail"]


@pytest.mark.promise(3)
def test_a_revoked_key_fails_at_once(key_client, client_for, member, make_key):
    key, raw = make_key(member)
    program = key_client(raw)
    assert program.get(ME).status_code == 200
    assert client_for(member).delete(f"/api/v1/api-keys/{key.pk}").status_code == 204
    _assert_401(program.get(ME), "API key has been revoked.")


@pytest.mark.promise(3)
def test_an_expired_key_fails(key_client, member, make_key):
    key, raw = make_key(member, expires_at=timezone.now() + timedelta(days=1))
    program = key_client(raw)
    assert program.get(ME).status_code == 200
    # Time passes: the expiry is now behind us.
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _assert_401(program.get(ME), "API key has expired.")


@pytest.mark.promise(3)
def test_a_key_of_a_deactivated_user_fails(key_client, member, make_key):
    _, raw = make_key(member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    _assert_401(key_client(raw).get(ME), "Invalid API key.")
