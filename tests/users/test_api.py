"""`/users/...`: success shapes, every error status, bad input, the permission matrix."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.users.models import User
from tests.conftest import PASSWORD
from tests.users.conftest import assert_envelope, login

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"
SIGNUP = "/api/v1/users/signup"
ME = "/api/v1/users/me"
ME_PASSWORD = "/api/v1/users/me/password"
PUBLIC = {
    "id",
    "email",
    "is_active",
    "is_superuser",
    "full_name",
    "is_staff",
    "date_joined",
    "roles",
}
NEW_PASSWORD = "a-brand-new-passphrase"


def detail_url(user_or_id) -> str:
    return f"/api/v1/users/{getattr(user_or_id, 'id', user_or_id)}"


# --- list ----------------------------------------------------------------------------------


def test_list_users_as_superuser(superuser, make_user, client_for):
    for _ in range(3):
        make_user()
    response = client_for(superuser).get(USERS, {"skip": 1, "limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert len(body["data"]) == 2
    assert set(body["data"][0]) == PUBLIC
    emails = [u["email"] for u in client_for(superuser).get(USERS).json()["data"]]
    assert emails == sorted(emails)


def test_list_users_is_one_query_for_the_page_and_its_count(superuser, make_user, client_for):
    for _ in range(5):
        make_user()
    client = client_for(superuser)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(USERS, {"limit": 2}).json()["count"] == 6
    # the request's user (not cached yet), then the page with its count (one statement)
    assert len(queries) == 2
    with CaptureQueriesContext(connection) as queries:
        assert client.get(USERS).json()["count"] == 6
    # the user now comes from the cache (launch/rights_cache.py): the page alone
    assert len(queries) == 1


def test_list_users_search(superuser, make_user, client_for):
    make_user(email="grace@example.com", full_name="Grace Hopper")
    body = client_for(superuser).get(USERS, {"search": "hopper"}).json()
    assert [u["email"] for u in body["data"]] == ["grace@example.com"]
    assert body["count"] == 1


def test_list_users_forbidden_for_normal_user_and_anonymous(api, user, client_for):
    assert assert_envelope(client_for(user).get(USERS), 403) == (
        "The user doesn't have enough privileges"
    )
    assert_envelope(api.get(USERS), 401)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 100000}, {"skip": -1}, {"limit": "x"}])
def test_list_users_pagination_bounds_are_422(superuser, client_for, params):
    detail = assert_envelope(client_for(superuser).get(USERS, params), 422)
    assert detail[0]["loc"][0] == "query"


# --- create --------------------------------------------------------------------------------


def test_create_user_as_superuser(superuser, client_for):
    body = {
        "email": "New@Example.com",
        "password": PASSWORD,
        "full_name": "New Person",
        "is_superuser": True,
    }
    response = client_for(superuser).post(USERS, body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert set(data) == PUBLIC
    assert data["email"] == "new@example.com"
    assert data["is_superuser"] is True
    assert data["is_staff"] is True  # a superuser can open the admin
    assert User.objects.get(pk=data["id"]).check_password(PASSWORD)


def test_create_user_duplicate_email_is_409(superuser, user, client_for):
    body = {"email": user.email.upper(), "password": PASSWORD}
    detail = assert_envelope(client_for(superuser).post(USERS, body, format="json"), 409)
    assert detail == "The user with this email already exists in the system."


def test_create_user_forbidden_for_normal_user(user, client_for):
    body = {"email": "x@example.com", "password": PASSWORD}
    assert_envelope(client_for(user).post(USERS, body, format="json"), 403)


@pytest.mark.parametrize(
    "body",
    [
        {"password": PASSWORD},
        {"email": "not-an-email", "password": PASSWORD},
        {"email": 42, "password": PASSWORD},
        {"email": "x@example.com", "password": PASSWORD, "is_active": "maybe"},
        {"email": "x@example.com", "password": "short"},
        {"email": "x@example.com", "password": "12345678901"},
        {"email": f"{'a' * 250}@example.com", "password": PASSWORD},
        {"email": "x@example.com", "password": PASSWORD, "full_name": "n" * 256},
        {"email": "x@example.com", "password": "p" * 129},
    ],
)
def test_create_user_bad_input_is_422(superuser, client_for, body):
    assert_envelope(client_for(superuser).post(USERS, body, format="json"), 422)


def test_create_user_weak_password_reports_the_field(superuser, client_for):
    body = {"email": "x@example.com", "password": "password"}
    detail = assert_envelope(client_for(superuser).post(USERS, body, format="json"), 422)
    assert detail[0]["loc"] == ["body", "password"]


@pytest.mark.parametrize("blank", [" " * 8, "\t" * 12, " \n " * 10, "\u3000" * 9])
def test_a_password_of_whitespace_only_is_refused_everywhere(
    api, superuser, user, client_for, blank
):
    """Signup, creation by a superuser, change and reset all run the same validators."""
    from apps.users.recovery import make_reset_token

    refused = [
        api.post(SIGNUP, {"email": "w@example.com", "password": blank}, format="json"),
        client_for(superuser).post(
            USERS, {"email": "w@example.com", "password": blank}, format="json"
        ),
        client_for(user).patch(
            ME_PASSWORD, {"current_password": PASSWORD, "new_password": blank}, format="json"
        ),
        api.post(
            "/api/v1/reset-password/",
            {"token": make_reset_token(user), "new_password": blank},
            format="json",
        ),
    ]
    for response in refused:
        detail = assert_envelope(response, 422)
        assert "only whitespace" in detail[0]["msg"]
    assert not User.objects.filter(email="w@example.com").exists()
    assert login(api, user.email).status_code == 200  # the old password still works


def test_whitespace_inside_a_password_is_fine(api):
    body = {"email": "s@example.com", "password": "  correct horse  battery  "}
    assert api.post(SIGNUP, body, format="json").status_code == 201
    assert login(api, "s@example.com", "  correct horse  battery  ").status_code == 200


def test_create_user_non_object_body_is_422(superuser, client_for):
    assert_envelope(client_for(superuser).post(USERS, [1, 2], format="json"), 422)


# --- signup --------------------------------------------------------------------------------


def test_signup(api):
    body = {"email": "Me@Example.com", "password": PASSWORD, "full_name": "Me"}
    response = api.post(SIGNUP, body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert set(data) == PUBLIC
    assert data["email"] == "me@example.com"
    assert data["is_superuser"] is False
    assert login(api, "me@example.com").status_code == 200


@pytest.mark.promise(4)
def test_signup_ignores_mass_assignment_and_unknown_fields(api):
    body = {
        "email": "sneaky@example.com",
        "password": PASSWORD,
        "is_superuser": True,
        "is_staff": True,
        "is_active": False,
        "id": str(uuid.uuid4()),
        "favourite_colour": "green",
    }
    response = api.post(SIGNUP, body, format="json")
    assert response.status_code == 201
    user = User.objects.get(email="sneaky@example.com")
    assert (user.is_superuser, user.is_staff, user.is_active) == (False, False, True)
    assert str(user.id) != body["id"]


def test_signup_null_full_name_is_stored_blank(api):
    body = {"email": "n@example.com", "password": PASSWORD, "full_name": None}
    assert api.post(SIGNUP, body, format="json").json()["full_name"] == ""


def test_signup_duplicate_is_409(api, user):
    body = {"email": f"  {user.email.upper()} ", "password": PASSWORD}
    assert_envelope(api.post(SIGNUP, body, format="json"), 409)


def test_signup_closed_is_403(api, settings):
    settings.USERS_OPEN_REGISTRATION = False
    body = {"email": "late@example.com", "password": PASSWORD}
    assert_envelope(api.post(SIGNUP, body, format="json"), 403)
    assert not User.objects.filter(email="late@example.com").exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@example.com"},
        {"email": "a@example.com", "password": 12345678},
        {"email": "a@example.com", "password": PASSWORD, "full_name": ["x"]},
        {"email": "a@example.com", "password": PASSWORD, "full_name": "x" * 256},
    ],
)
def test_signup_bad_input_is_422(api, body):
    assert_envelope(api.post(SIGNUP, body, format="json"), 422)


def test_signup_malformed_json_is_400(api):
    assert_envelope(api.post(SIGNUP, "{nope", content_type="application/json"), 400)


def test_signup_unsupported_media_type_is_415(api):
    assert_envelope(api.post(SIGNUP, "x", content_type="text/plain"), 415)


# --- me --------------------------------------------------------------------------------------


def test_read_me(user, client_for):
    response = client_for(user).get(ME)
    assert response.status_code == 200
    assert response.json()["full_name"] == "Ada Lovelace"
    assert client_for(user).get(ME + "/").status_code == 200


def test_me_anonymous_is_401(api):
    assert_envelope(api.get(ME), 401)
    assert_envelope(api.patch(ME, {"full_name": "x"}, format="json"), 401)
    assert_envelope(api.delete(ME), 401)
    assert_envelope(api.patch(ME_PASSWORD, {}, format="json"), 401)


def test_update_me(user, client_for):
    body = {"full_name": "Ada King", "email": user.email.upper()}
    response = client_for(user).patch(ME, body, format="json")
    assert response.status_code == 200
    assert response.json()["full_name"] == "Ada King"
    user.refresh_from_db()
    assert user.full_name == "Ada King"


@pytest.mark.promise(4)
def test_update_me_ignores_privilege_fields(user, client_for):
    body = {"is_superuser": True, "is_staff": True, "is_active": False, "id": str(uuid.uuid4())}
    response = client_for(user).patch(ME, body, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.is_superuser, user.is_staff, user.is_active) == (False, False, True)


def test_update_me_taken_email_needs_the_password_and_tells_nothing(user, make_user, client_for):
    # The email change flow itself: tests/users/test_email_change.py.
    other = make_user()
    without = client_for(user).patch(ME, {"email": other.email.upper()}, format="json")
    assert assert_envelope(without, 422)[0]["loc"] == ["body", "current_password"]
    body = {"email": other.email.upper(), "current_password": PASSWORD}
    response = client_for(user).patch(ME, body, format="json")
    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_update_me_own_email_is_fine(user, client_for):
    response = client_for(user).patch(ME, {"email": user.email.upper()}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize("body", [{"email": "nope"}, {"full_name": 3}, {"email": None}])
def test_update_me_bad_input_is_422(user, client_for, body):
    assert_envelope(client_for(user).patch(ME, body, format="json"), 422)


def test_delete_me(user, client_for):
    response = client_for(user).delete(ME)
    assert response.status_code == 200
    assert response.json() == {"message": "User deleted successfully"}
    assert not User.objects.filter(pk=user.pk).exists()


def test_superuser_cannot_delete_itself(superuser, client_for):
    detail = assert_envelope(client_for(superuser).delete(ME), 403)
    assert detail == "Super users are not allowed to delete themselves"
    assert User.objects.filter(pk=superuser.pk).exists()


# --- me/password ---------------------------------------------------------------------------


def test_update_password_me(api, user, client_for):
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = client_for(user).patch(ME_PASSWORD, body, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"message"}
    assert login(api, user.email, NEW_PASSWORD).status_code == 200
    assert login(api, user.email, PASSWORD).status_code == 400


def test_update_password_me_wrong_current_is_400(user, client_for):
    body = {"current_password": "wrong-password-1", "new_password": NEW_PASSWORD}
    response = client_for(user).patch(ME_PASSWORD, body, format="json")
    assert assert_envelope(response, 400) == "Incorrect password"


def test_update_password_me_same_is_400(user, client_for):
    body = {"current_password": PASSWORD, "new_password": PASSWORD}
    assert_envelope(client_for(user).patch(ME_PASSWORD, body, format="json"), 400)


@pytest.mark.parametrize(
    "body",
    [
        {"current_password": PASSWORD, "new_password": "short"},
        {"current_password": PASSWORD, "new_password": "password123"},
        {"current_password": PASSWORD},
        {"current_password": PASSWORD, "new_password": 123456789},
        {"current_password": PASSWORD, "new_password": "x" * 129},
    ],
)
def test_update_password_me_bad_new_password_is_422(user, client_for, body):
    assert_envelope(client_for(user).patch(ME_PASSWORD, body, format="json"), 422)


# --- by id ---------------------------------------------------------------------------------


def test_read_user_by_id_self_and_superuser(user, superuser, client_for):
    assert client_for(user).get(detail_url(user)).json()["id"] == str(user.id)
    assert client_for(superuser).get(detail_url(user) + "/").json()["email"] == user.email


def test_read_other_user_is_403_whether_or_not_it_exists(user, make_user, client_for):
    assert_envelope(client_for(user).get(detail_url(make_user())), 403)
    assert_envelope(client_for(user).get(detail_url(uuid.uuid4())), 403)


def test_read_user_by_id_missing_or_malformed_is_404(superuser, client_for):
    assert_envelope(client_for(superuser).get(detail_url(uuid.uuid4())), 404)
    assert_envelope(client_for(superuser).get(detail_url("not-a-uuid")), 404)


def test_read_user_by_id_anonymous_is_401(api, user):
    assert_envelope(api.get(detail_url(user)), 401)


def test_update_user_as_superuser(api, superuser, user, client_for):
    body = {"full_name": "Renamed", "is_active": False, "password": NEW_PASSWORD}
    response = client_for(superuser).patch(detail_url(user), body, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    user.refresh_from_db()
    assert user.full_name == "Renamed"
    assert user.check_password(NEW_PASSWORD)


def test_update_user_taken_email_is_409(superuser, user, client_for):
    body = {"email": superuser.email}
    assert_envelope(client_for(superuser).patch(detail_url(user), body, format="json"), 409)


def test_update_user_errors(user, make_user, superuser, client_for):
    other = make_user()
    assert_envelope(client_for(user).patch(detail_url(other), {}, format="json"), 403)
    assert_envelope(client_for(user).patch(detail_url(user), {}, format="json"), 403)
    missing = client_for(superuser).patch(detail_url(uuid.uuid4()), {}, format="json")
    assert_envelope(missing, 404)
    bad = client_for(superuser).patch(detail_url(other), {"is_superuser": "x"}, format="json")
    assert_envelope(bad, 422)


def test_put_is_not_allowed(superuser, user, client_for):
    assert_envelope(client_for(superuser).put(detail_url(user), {}, format="json"), 405)


def test_delete_user_as_superuser(superuser, user, client_for):
    response = client_for(superuser).delete(detail_url(user))
    assert response.status_code == 200
    assert response.json() == {"message": "User deleted successfully"}
    assert not User.objects.filter(pk=user.pk).exists()


def test_delete_user_errors(superuser, user, make_user, client_for):
    assert_envelope(client_for(user).delete(detail_url(make_user())), 403)
    assert_envelope(client_for(superuser).delete(detail_url(uuid.uuid4())), 404)
    detail = assert_envelope(client_for(superuser).delete(detail_url(superuser)), 403)
    assert detail == "Super users are not allowed to delete themselves"
