"""Cookie sessions as a browser front end uses them: the origin check on writes, renewal
from the refresh cookie, and the events that end a session.

Clients here enforce CSRF (`enforce_csrf_checks=True`) and send what a browser sends
(`Origin`, `Referer`, `Sec-Fetch-Site`); the same flows in a real browser are
tests/browser.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.users import services
from apps.users.models import User
from apps.users.tokens import successor_jti, token_pair_issue, token_renew
from tests.conftest import PASSWORD
from tests.users.conftest import assert_envelope, login
from tests.users.test_services import run_in_threads

pytestmark = pytest.mark.django_db

SPA = "http://localhost:5173"
ATTACKER = "http://localhost:5174"  # same site as the API (cookies travel), not trusted
ME = "/api/v1/users/me"
TEST_TOKEN = "/api/v1/login/test-token"
REFRESH = "/api/v1/login/refresh"
LOGOUT = "/api/v1/logout"


@pytest.fixture(autouse=True)
def _spa_is_trusted(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    settings.CSRF_TRUSTED_ORIGINS = []


def browser(user: User, **login_headers: Any) -> APIClient:
    """A client holding the cookies of a login, enforcing CSRF as a browser would."""
    client = APIClient(enforce_csrf_checks=True)
    assert login(client, user.email, HTTP_ORIGIN=SPA, **login_headers).status_code == 200
    return client


def cookie(response: Any, name: str) -> Any:
    return response.cookies.get(name)


def expired_access(user: User) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def is_cleared(response: Any) -> bool:
    return all(
        response.cookies[name].value == "" and response.cookies[name]["max-age"] == 0
        for name in ("access_token", "refresh_token")
    )


# --- the origin check on the API ------------------------------------------------------------


def test_a_cookie_write_from_the_trusted_front_end_passes(user):
    client = browser(user)
    response = client.patch(ME, {"full_name": "From the SPA"}, format="json", HTTP_ORIGIN=SPA)
    assert response.status_code == 200
    assert response.json()["full_name"] == "From the SPA"


def test_a_cookie_write_from_an_untrusted_origin_is_403_and_changes_nothing(user):
    client = browser(user)
    response = client.patch(ME, {"full_name": "pwned"}, format="json", HTTP_ORIGIN=ATTACKER)
    detail = assert_envelope(response, 403)
    assert "CSRF failed" in detail
    assert ATTACKER in detail
    user.refresh_from_db()
    assert user.full_name == "Ada Lovelace"


def test_a_form_post_from_an_untrusted_page_is_refused_too(user):
    # What a page can send without a CORS preflight: a form-encoded body.
    client = browser(user)
    response = client.post(
        TEST_TOKEN, "a=b", content_type="application/x-www-form-urlencoded", HTTP_ORIGIN="null"
    )
    assert_envelope(response, 403)


def test_a_cookie_write_with_neither_origin_nor_referer_is_403(user):
    detail = assert_envelope(browser(user).post(TEST_TOKEN), 403)
    assert "Origin or Referer" in detail


def test_referer_stands_in_for_a_missing_origin(user):
    client = browser(user)
    assert client.post(TEST_TOKEN, HTTP_REFERER=f"{SPA}/settings").status_code == 200
    assert_envelope(client.post(TEST_TOKEN, HTTP_REFERER=f"{ATTACKER}/x"), 403)


def test_sec_fetch_site_same_origin_passes_and_cross_site_untrusted_does_not(user):
    client = browser(user)
    assert client.post(TEST_TOKEN, HTTP_SEC_FETCH_SITE="same-origin").status_code == 200
    refused = client.post(TEST_TOKEN, HTTP_SEC_FETCH_SITE="cross-site", HTTP_ORIGIN=ATTACKER)
    assert_envelope(refused, 403)


def test_the_apis_own_origin_is_trusted(user):
    client = browser(user)
    assert client.post(TEST_TOKEN, HTTP_ORIGIN="http://testserver").status_code == 200


def test_a_django_csrf_token_still_passes(user):
    client = browser(user)
    client.get("/admin/login/")  # any Django page sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    assert client.post(TEST_TOKEN, HTTP_X_CSRFTOKEN=csrf).status_code == 200


def test_bearer_requests_are_unaffected_by_origin_and_cookies(user, make_user):
    other = make_user()
    client = browser(other)  # carries other's cookies, which the header path ignores
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    response = client.post(TEST_TOKEN, HTTP_ORIGIN=ATTACKER)
    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


def test_safe_requests_with_cookies_need_no_origin(user):
    assert browser(user).get(ME).status_code == 200


def test_login_from_an_untrusted_page_is_refused_and_sets_no_cookie(user):
    client = APIClient(enforce_csrf_checks=True)
    response = login(client, user.email, HTTP_ORIGIN=ATTACKER)
    assert_envelope(response, 403)
    assert "access_token" not in response.cookies


def test_login_from_a_program_or_the_front_end_works(user):
    assert login(APIClient(enforce_csrf_checks=True), user.email).status_code == 200
    assert login(APIClient(), user.email, HTTP_ORIGIN=SPA).status_code == 200


def test_logout_and_refresh_with_the_cookie_from_an_untrusted_page_are_refused(user):
    client = browser(user)
    refresh = client.cookies["refresh_token"].value
    assert_envelope(client.post(LOGOUT, HTTP_ORIGIN=ATTACKER), 403)
    assert_envelope(client.post(REFRESH, HTTP_ORIGIN=ATTACKER), 403)
    jti = RefreshToken(refresh)["jti"]  # type: ignore[arg-type]
    assert not BlacklistedToken.objects.filter(token__jti=jti).exists()


def test_logout_and_refresh_with_a_token_in_the_body_need_no_origin(api, user):
    tokens = login(api, user.email).json()
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert response.status_code == 200
    refresh = response.json()["refresh_token"]
    assert client.post(LOGOUT, {"refresh_token": refresh}, format="json").status_code == 200


@pytest.mark.parametrize("path", [LOGOUT, REFRESH])
def test_an_untrusted_page_cannot_set_or_clear_the_cookies_with_a_body_token(api, user, path):
    # Refresh would sign the browser into the attacker's account (its token, our cookies);
    # logout would sign the victim out.
    attackers = login(api, user.email).json()["refresh_token"]
    victim = browser(user)
    response = victim.post(
        path,
        f"refresh_token={attackers}",
        content_type="application/x-www-form-urlencoded",
        HTTP_ORIGIN=ATTACKER,
    )
    assert_envelope(response, 403)
    assert "access_token" not in response.cookies


# --- renewal ------------------------------------------------------------------------------


def test_an_expired_access_cookie_is_renewed_from_the_refresh_cookie(user):
    client = browser(user)
    old_refresh = client.cookies["refresh_token"].value
    client.cookies["access_token"] = expired_access(user)
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)
    new_access, new_refresh = cookie(response, "access_token"), cookie(response, "refresh_token")
    assert new_refresh.value != old_refresh
    assert AccessToken(new_access.value)["sub"] == str(user.pk)
    assert new_access["httponly"]
    assert new_refresh["httponly"]
    assert new_access["samesite"] == "Lax"
    # rotation as /login/refresh: the old refresh token is spent
    assert_envelope(APIClient().post(REFRESH, {"refresh_token": old_refresh}, format="json"), 401)
    # and the new cookies carry the session on
    assert client.get(ME).status_code == 200


def test_a_missing_access_cookie_is_renewed(user):
    # The browser drops the access cookie when it expires (its max-age is the lifetime).
    client = browser(user)
    del client.cookies["access_token"]
    response = client.get(ME)
    assert response.status_code == 200
    assert cookie(response, "access_token").value


def test_renewal_on_a_write_runs_after_the_origin_check(user):
    client = browser(user)
    client.cookies["access_token"] = expired_access(user)
    assert_envelope(client.post(TEST_TOKEN, HTTP_ORIGIN=ATTACKER), 403)
    assert BlacklistedToken.objects.count() == 0  # refused before anything was rotated
    response = client.post(TEST_TOKEN, HTTP_ORIGIN=SPA)
    assert response.status_code == 200
    assert cookie(response, "refresh_token").value


def test_a_valid_access_cookie_is_not_renewed(user):
    response = browser(user).get(ME)
    assert "access_token" not in response.cookies
    assert BlacklistedToken.objects.count() == 0


def test_a_revoked_refresh_cookie_is_401_and_clears_both_cookies(user):
    client = browser(user)
    refresh = client.cookies["refresh_token"].value
    RefreshToken(refresh).blacklist()  # type: ignore[arg-type]
    del client.cookies["access_token"]
    response = client.get(ME)
    assert_envelope(response, 401)
    assert is_cleared(response)


def test_a_garbage_refresh_cookie_is_401_and_clears_both_cookies(user):
    client = browser(user)
    client.cookies["refresh_token"] = "garbage"
    client.cookies["access_token"] = expired_access(user)
    response = client.get(ME)
    assert_envelope(response, 401)
    assert is_cleared(response)


def test_an_expired_access_cookie_without_a_refresh_cookie_is_401_and_cleared(user):
    client = APIClient()
    client.cookies["access_token"] = expired_access(user)
    response = client.get(ME)
    assert_envelope(response, 401)
    assert is_cleared(response)


def test_no_cookies_is_anonymous(api):
    response = api.get(ME)
    assert_envelope(response, 401)
    assert "access_token" not in response.cookies


# --- what ends a cookie session at once -------------------------------------------------------


def test_logout_ends_the_cookie_session(user):
    client = browser(user)
    stolen = {name: client.cookies[name].value for name in ("access_token", "refresh_token")}
    response = client.post(LOGOUT, HTTP_ORIGIN=SPA)
    assert response.status_code == 200
    assert is_cleared(response)
    assert_envelope(client.get(ME), 401)  # the browser is anonymous
    # Replaying the refresh cookie after logout renews nothing.
    replay = APIClient()
    replay.cookies["refresh_token"] = stolen["refresh_token"]
    response = replay.get(ME)
    assert_envelope(response, 401)
    assert is_cleared(response)


def test_a_password_change_ends_the_cookie_session(user):
    client = browser(user)
    body = {"current_password": PASSWORD, "new_password": "another-long-passphrase"}
    assert client.patch(f"{ME}/password", body, format="json", HTTP_ORIGIN=SPA).status_code == 200
    response = client.get(ME)
    assert_envelope(response, 401)
    assert is_cleared(response)


@pytest.mark.parametrize("event", ["deactivate", "delete", "password-elsewhere"])
def test_deactivation_deletion_and_a_password_reset_end_the_cookie_session(make_user, event):
    user = make_user()
    client = browser(user)
    if event == "deactivate":
        services.user_set_active(user=user, is_active=False)
    elif event == "delete":
        services.user_delete(user=user)
    else:
        services.user_set_password(user=user, password="another-long-passphrase")
    response = client.get(ME)
    assert_envelope(response, 401)
    assert is_cleared(response)
    # An expired access cookie does not let the refresh cookie bring it back either.
    client.cookies["access_token"] = expired_access(user)
    assert_envelope(client.get(ME), 401)


# --- renewal races ------------------------------------------------------------------------------


def test_a_request_that_lost_the_renewal_race_is_served_without_new_cookies(user):
    client = browser(user)
    stale = {"refresh_token": client.cookies["refresh_token"].value}
    del client.cookies["access_token"]
    assert client.get(ME).status_code == 200  # the winner rotated the refresh token
    late = APIClient()
    late.cookies["refresh_token"] = stale["refresh_token"]
    response = late.get(ME)  # a request sent with the cookies of before
    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)
    assert "refresh_token" not in response.cookies  # the winner's cookies stand


def test_the_grace_is_only_for_rotation_not_revocation_nor_after_it_expires(user, settings):
    pair = token_pair_issue(user=user)
    renewed = token_renew(raw=pair.refresh_token)
    assert renewed.pair is not None
    assert token_renew(raw=pair.refresh_token).pair is None  # rotated: grace
    settings.REFRESH_TOKEN_REUSE_SECONDS = 0
    with pytest.raises(Exception, match="invalid, expired or revoked"):
        token_renew(raw=pair.refresh_token)
    settings.REFRESH_TOKEN_REUSE_SECONDS = 30
    # The successor logged out: the chain ends in a revoked token, so no grace either.
    RefreshToken(renewed.pair.refresh_token).blacklist()  # type: ignore[arg-type]
    with pytest.raises(Exception, match="invalid, expired or revoked"):
        token_renew(raw=pair.refresh_token)


def test_a_logged_out_token_gets_no_grace(user):
    pair = token_pair_issue(user=user)
    RefreshToken(pair.refresh_token).blacklist()  # type: ignore[arg-type]
    with pytest.raises(Exception, match="invalid, expired or revoked"):
        token_renew(raw=pair.refresh_token)


def test_rotation_records_the_successor_under_its_derived_jti(user):
    pair = token_pair_issue(user=user)
    old = RefreshToken(pair.refresh_token)["jti"]  # type: ignore[arg-type]
    renewed = token_renew(raw=pair.refresh_token).pair
    assert renewed is not None
    new = RefreshToken(renewed.refresh_token)  # type: ignore[arg-type]
    assert new["jti"] == successor_jti(old)
    assert OutstandingToken.objects.get(jti=new["jti"]).token == renewed.refresh_token


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_after_expiry_all_pass_and_one_rotates():
    user = User.objects.create_user(email="tabs@example.com", password=PASSWORD)
    refresh = token_pair_issue(user=user).refresh_token

    def request() -> Any:
        client = APIClient()
        client.cookies["refresh_token"] = refresh
        return client.get(ME)

    responses = run_in_threads([request for _ in range(5)])
    assert [r.status_code for r in responses] == [200] * 5
    rotated = [r for r in responses if "refresh_token" in r.cookies]
    assert len(rotated) == 1
    assert OutstandingToken.objects.filter(user=user).count() == 2
