"""Login, refresh, logout, test-token and the token lifecycle."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.users import services
from tests.conftest import PASSWORD
from tests.users.conftest import assert_envelope, login

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/login/access-token"
REFRESH = "/api/v1/login/refresh"
LOGOUT = "/api/v1/logout"
TEST_TOKEN = "/api/v1/login/test-token"
ME = "/api/v1/users/me"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def tokens_for(api, user) -> dict:
    response = login(api, user.email)
    assert response.status_code == 200
    return response.json()


# --- login -------------------------------------------------------------------------------


def test_login_with_form_answers_token_and_sets_httponly_cookies(api, user):
    response = api.post(LOGIN, {"username": user.email, "password": PASSWORD}, format="multipart")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()
    for name in ("access_token", "refresh_token"):
        cookie = response.cookies[name]
        assert cookie.value == body[name]
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"


def test_login_with_urlencoded_form_and_json(api, user):
    form = api.post(
        LOGIN,
        f"username={user.email}&password={PASSWORD}&grant_type=password",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 200
    assert login(api, user.email.upper()).status_code == 200  # the email is case-insensitive


@pytest.mark.parametrize(
    ("email", "password"),
    [("user@example.com", "wrong-password-123"), ("nobody@example.com", PASSWORD)],
)
def test_login_wrong_credentials_is_400(api, make_user, email, password):
    make_user(email="user@example.com")
    detail = assert_envelope(login(api, email, password), 400)
    assert detail == "Incorrect email or password"


def test_login_inactive_user_is_400(api, make_user):
    inactive = make_user(is_active=False)
    assert assert_envelope(login(api, inactive.email), 400) == "Inactive user"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "a@example.com"},
        {"username": 12, "password": PASSWORD},
        {"username": ["a"], "password": PASSWORD},
        {"username": "a@example.com", "password": "x" * 129},
        {"username": "a" * 256, "password": PASSWORD},
    ],
)
def test_login_bad_input_is_422(api, body):
    assert_envelope(api.post(LOGIN, body, format="json"), 422)


def test_login_malformed_json_is_400(api):
    response = api.post(LOGIN, '{"username": ', content_type="application/json")
    assert_envelope(response, 400)


def test_login_ignores_a_stale_access_cookie(api, user):
    api.cookies["access_token"] = "garbage"
    assert login(api, user.email).status_code == 200


# --- test-token and cookies ---------------------------------------------------------------


def test_test_token_returns_user_public(api, user):
    token = tokens_for(api, user)["access_token"]
    response = bearer(token).post(TEST_TOKEN)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(user.id)
    assert body["email"] == user.email
    assert {"id", "email", "is_active", "is_superuser", "full_name"} <= set(body)


def test_test_token_anonymous_is_401(api):
    assert_envelope(api.post(TEST_TOKEN), 401)


def test_access_token_from_cookie_authenticates_safe_methods(user):
    client = APIClient()
    login(client, user.email)  # the client keeps the cookies
    assert client.get(ME).json()["email"] == user.email


@pytest.mark.promise(4)
def test_cookie_authentication_needs_csrf_for_unsafe_methods(user):
    client = APIClient(enforce_csrf_checks=True)
    assert login(client, user.email).status_code == 200
    detail = assert_envelope(client.post(TEST_TOKEN), 403)
    assert "CSRF" in detail
    client.get("/admin/login/")  # any Django page sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    assert client.post(TEST_TOKEN, HTTP_X_CSRFTOKEN=csrf).status_code == 200


def test_bearer_header_needs_no_csrf(api, user):
    token = tokens_for(api, user)["access_token"]
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post(TEST_TOKEN).status_code == 200


# --- invalid access tokens -----------------------------------------------------------------


def _signed(payload: dict, key: str) -> str:
    return jwt.encode(payload, key, algorithm="HS256")


@pytest.mark.promise(3)
def test_expired_access_token_is_401(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    assert_envelope(bearer(str(token)).get(ME), 401)


@pytest.mark.promise(3)
def test_tampered_access_token_is_401(user, make_user):
    other = make_user()
    token = str(AccessToken.for_user(user))
    header, payload, signature = token.split(".")
    forged = str(AccessToken.for_user(other)).split(".")[1]
    assert_envelope(bearer(f"{header}.{forged}.{signature}").get(ME), 401)
    assert_envelope(bearer(f"{header}.{payload}.{signature[:-2]}xx").get(ME), 401)


@pytest.mark.promise(3)
def test_alg_none_token_is_401(user):
    payload = dict(AccessToken.for_user(user).payload)
    unsigned = jwt.encode(payload, key=None, algorithm="none")  # type: ignore[arg-type]
    assert_envelope(bearer(unsigned).get(ME), 401)


@pytest.mark.promise(3)
def test_token_signed_with_another_key_is_401(user):
    payload = dict(AccessToken.for_user(user).payload)
    assert_envelope(bearer(_signed(payload, key="another-key-" + "x" * 40)).get(ME), 401)


@pytest.mark.promise(3)
def test_refresh_token_used_as_access_is_401(api, user):
    refresh = tokens_for(api, user)["refresh_token"]
    assert_envelope(bearer(refresh).get(ME), 401)


def test_malformed_authorization_header_is_401(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer a b")
    assert_envelope(client.get(ME), 401)
    assert_envelope(bearer("not-a-jwt").get(ME), 401)


@pytest.mark.promise(3)
def test_access_token_dies_with_password_change_deactivation_and_deletion(api, make_user):
    changed, deactivated, deleted = make_user(), make_user(), make_user()
    tokens = {u.pk: tokens_for(api, u)["access_token"] for u in (changed, deactivated, deleted)}
    services.user_set_password(user=changed, password="another-long-passphrase")
    services.user_set_active(user=deactivated, is_active=False)
    services.user_delete(user=deleted)
    for token in tokens.values():
        assert_envelope(bearer(token).get(ME), 401)


@pytest.mark.promise(3)
@pytest.mark.parametrize("how", ["service", "api", "admin"])
def test_reactivation_never_revives_tokens_issued_before_deactivation(
    make_user, superuser, client_for, admin_client, how
):
    api = APIClient()
    user = make_user()
    before = tokens_for(api, user)
    assert bearer(before["access_token"]).get(ME).status_code == 200
    if how == "service":
        services.user_set_active(user=user, is_active=False)
        services.user_set_active(user=user, is_active=True)
    elif how == "api":
        admin = client_for(superuser)
        for active in (False, True):
            body = {"is_active": active}
            assert admin.patch(f"/api/v1/users/{user.pk}", body, format="json").status_code == 200
    else:
        action = "/admin/users/user/"
        for name in ("deactivate_users", "activate_users"):
            admin_client.post(action, {"action": name, "_selected_action": [user.pk]})
    user.refresh_from_db()
    assert user.is_active

    assert_envelope(bearer(before["access_token"]).get(ME), 401)
    stale = api.post(REFRESH, {"refresh_token": before["refresh_token"]}, format="json")
    assert_envelope(stale, 401)
    after = tokens_for(api, user)
    assert bearer(after["access_token"]).get(ME).status_code == 200


def test_a_token_carries_the_users_token_version(api, user):
    services.user_set_password(user=user, password="another-long-passphrase")
    user.refresh_from_db()
    response = login(api, user.email, "another-long-passphrase")
    token = AccessToken(response.json()["access_token"])
    assert user.token_version == 1
    assert token["ver"] == 1


# --- refresh -------------------------------------------------------------------------------


@pytest.mark.promise(3)
def test_refresh_rotates_and_the_old_token_is_refused(api, user):
    first = tokens_for(api, user)
    response = api.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json")
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert response.cookies["refresh_token"].value == second["refresh_token"]
    assert bearer(second["access_token"]).get(ME).status_code == 200
    reuse = api.post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json")
    assert_envelope(reuse, 401)


def test_refresh_from_cookie(user):
    client = APIClient()
    login(client, user.email)
    response = client.post(REFRESH)
    assert response.status_code == 200
    assert client.cookies["refresh_token"].value == response.json()["refresh_token"]


def test_refresh_without_token_is_401(api):
    assert_envelope(api.post(REFRESH), 401)


@pytest.mark.parametrize("raw", ["garbage", "a.b.c"])
def test_refresh_with_garbage_is_401(api, raw):
    assert_envelope(api.post(REFRESH, {"refresh_token": raw}, format="json"), 401)


@pytest.mark.promise(3)
def test_refresh_with_access_token_is_401(api, user):
    access = tokens_for(api, user)["access_token"]
    assert_envelope(api.post(REFRESH, {"refresh_token": access}, format="json"), 401)


def test_refresh_with_wrong_type_is_422(api):
    assert_envelope(api.post(REFRESH, {"refresh_token": 5}, format="json"), 422)


@pytest.mark.promise(3)
def test_expired_refresh_token_is_401(api, user):
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    assert_envelope(api.post(REFRESH, {"refresh_token": str(token)}, format="json"), 401)


def test_refresh_token_not_recorded_as_outstanding_is_401(api, user):
    # Validly signed but never issued by the login (no outstanding row): refused.
    token = RefreshToken.for_user(user)
    token.set_jti()
    assert_envelope(api.post(REFRESH, {"refresh_token": str(token)}, format="json"), 401)


@pytest.mark.parametrize("event", ["password", "deactivate", "delete", "reset"])
@pytest.mark.promise(3)
def test_every_refresh_token_fails_after_losing_access(api, make_user, event):
    user = make_user()
    refresh_tokens = [tokens_for(api, user)["refresh_token"] for _ in range(3)]
    if event == "password":
        services.user_set_password(user=user, password="another-long-passphrase")
    elif event == "deactivate":
        services.user_set_active(user=user, is_active=False)
    elif event == "delete":
        services.user_delete(user=user)
    else:
        from apps.users.recovery import make_reset_token, password_reset

        password_reset(token=make_reset_token(user), new_password="another-long-passphrase")
    for raw in refresh_tokens:
        assert_envelope(api.post(REFRESH, {"refresh_token": raw}, format="json"), 401)


def test_refresh_checks_the_password_claim_even_without_revocation(api, user):
    refresh = tokens_for(api, user)["refresh_token"]
    user.set_password("another-long-passphrase")
    user.save()  # bypasses the service on purpose: the claim check alone must refuse it
    assert_envelope(api.post(REFRESH, {"refresh_token": refresh}, format="json"), 401)


# --- logout --------------------------------------------------------------------------------


@pytest.mark.promise(3)
def test_logout_revokes_refresh_token_and_clears_cookies(api, user):
    tokens = tokens_for(api, user)
    response = api.post(LOGOUT, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"message"}
    for name in ("access_token", "refresh_token"):
        assert response.cookies[name].value == ""
        assert response.cookies[name]["max-age"] == 0
    after = api.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert_envelope(after, 401)


def test_logout_with_cookie(user):
    client = APIClient()
    tokens = login(client, user.email).json()
    assert client.post(LOGOUT).status_code == 200
    again = APIClient().post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert_envelope(again, 401)


def test_logout_is_idempotent(api):
    assert api.post(LOGOUT).status_code == 200
    assert api.post(LOGOUT, {"refresh_token": "garbage"}, format="json").status_code == 200


# --- throttling ----------------------------------------------------------------------------


def _rates(settings, **rates):
    base = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**base, **rates},
    }


@pytest.mark.promise(4)
def test_login_is_throttled_per_account(api, user, settings):
    _rates(settings, login="2/min")
    for _ in range(2):
        assert login(api, user.email, "wrong-password-123").status_code == 400
    # Another address, same account (spelled differently): still throttled.
    response = login(api, user.email.upper(), REMOTE_ADDR="10.0.0.9")
    assert_envelope(response, 429)
    assert int(response["Retry-After"]) >= 1
    assert login(api, "someone-else@example.com", "x").status_code == 400


@pytest.mark.promise(4)
def test_login_is_throttled_per_address(api, make_user, settings):
    _rates(settings, login_address="2/min")
    for _ in range(2):
        assert login(api, make_user().email).status_code == 200
    response = login(api, make_user().email)
    assert_envelope(response, 429)
    assert "Retry-After" in response
    assert login(api, make_user().email, REMOTE_ADDR="10.0.0.8").status_code == 200


def test_password_checks_of_a_signed_in_user_share_the_login_budget(api, user, settings):
    # A stolen access token must not turn `current_password` into an unthrottled oracle:
    # guesses through login and through the password routes add up per account.
    _rates(settings, login="3/min")
    client = bearer(tokens_for(api, user)["access_token"])
    wrong = {"current_password": "wrong-password-1", "new_password": "another-pass-4567"}
    assert client.patch(ME + "/password", wrong, format="json").status_code == 400
    email_change = {"email": "ada2@example.com", "current_password": "wrong-password-1"}
    assert client.patch(ME, email_change, format="json").status_code == 400
    response = client.patch(ME + "/password", wrong, format="json")
    assert_envelope(response, 429)
    assert int(response["Retry-After"]) >= 1
    assert_envelope(login(api, user.email), 429)


def test_a_profile_change_without_a_password_is_not_throttled(api, user, settings):
    _rates(settings, login="1/min")
    client = bearer(tokens_for(api, user)["access_token"])
    for name in ("Ada", "Ada King", "Ada Lovelace"):
        assert client.patch(ME, {"full_name": name}, format="json").status_code == 200


@pytest.mark.promise(4)
def test_signup_is_throttled(api, settings):
    _rates(settings, signup="1/min")
    body = {"email": "first@example.com", "password": PASSWORD}
    assert api.post("/api/v1/users/signup", body, format="json").status_code == 201
    body = {"email": "second@example.com", "password": PASSWORD}
    response = api.post("/api/v1/users/signup", body, format="json")
    assert_envelope(response, 429)
    assert "Retry-After" in response


@pytest.mark.promise(4)
def test_password_recovery_is_throttled(api, settings):
    _rates(settings, recovery="1/min")
    assert api.post("/api/v1/password-recovery/a@example.com").status_code == 200
    response = api.post("/api/v1/password-recovery/a@example.com")
    assert_envelope(response, 429)
    assert "Retry-After" in response


@pytest.mark.promise(3)
def test_access_token_lifetime_follows_settings(api, user):
    payload = AccessToken(tokens_for(api, user)["access_token"]).payload
    lifetime = api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()
    assert payload["exp"] - payload["iat"] == lifetime
