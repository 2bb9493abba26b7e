"""Request and response shapes of the users and login endpoints.

Input rules, the same on every endpoint:

- Unknown fields are ignored, never an error (DRF's default, kept on purpose: clients
  generated from an older schema keep working). That also makes mass assignment
  harmless: `is_superuser`, `is_staff` or `id` sent to signup or `/users/me` are
  dropped, because those serializers do not declare them.
- Strings must be JSON strings (a number or a list is a 422, not silently coerced) and
  respect the model's lengths: email 255, full name 255, password 128.

Reads use `UserPublicSerializer`, which builds the dict directly instead of running a
field object per attribute: lists of users are a hot path.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from rest_framework import serializers

from apps.users.models import normalize_email

PUBLIC_FIELDS = ("id", "email", "is_active", "is_superuser", "full_name", "is_staff", "date_joined")
# `roles` (names, sorted) is not a column: lists annotate it, single users query it.
EMAIL_MAX = 255
NAME_MAX = 255
PASSWORD_MAX = 128


class StrictStringMixin(serializers.CharField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.", code="not_a_string")
        return super().to_internal_value(data)


class StringField(StrictStringMixin, serializers.CharField):
    pass


class EmailAddressField(StrictStringMixin, serializers.EmailField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", EMAIL_MAX)
        super().__init__(**kwargs)


def password_field(**kwargs: Any) -> StringField:
    # Whitespace is part of a password: never trim it.
    return StringField(
        max_length=PASSWORD_MAX, trim_whitespace=False, style={"input_type": "password"}, **kwargs
    )


def _blank_if_null(value: str | None) -> str:
    return value or ""


def full_name_field(**kwargs: Any) -> StringField:
    return StringField(max_length=NAME_MAX, allow_blank=True, allow_null=True, **kwargs)


class UserPublicSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    is_superuser = serializers.BooleanField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    is_staff = serializers.BooleanField(read_only=True)
    date_joined = serializers.DateTimeField(read_only=True)
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # UUIDs and datetimes are left to the orjson renderer, which encodes them natively.
        if isinstance(instance, dict):
            return {name: instance[name] for name in (*PUBLIC_FIELDS, "roles")}
        from apps.rbac.services import user_role_names

        data = {name: getattr(instance, name) for name in PUBLIC_FIELDS}
        data["roles"] = user_role_names(instance)
        return data


class UserRegisterSerializer(serializers.Serializer):
    email = EmailAddressField()
    password = password_field()
    full_name = full_name_field(required=False, default="")
    validate_full_name = staticmethod(_blank_if_null)


class PrivateUserCreateSerializer(UserRegisterSerializer):
    """Upstream's local-only user creation. `is_verified` is accepted and not stored:
    Launch has no email verification, so every account is usable at once."""

    is_verified = serializers.BooleanField(required=False, default=False)


class UserCreateSerializer(UserRegisterSerializer):
    is_active = serializers.BooleanField(required=False, default=True)
    is_superuser = serializers.BooleanField(required=False, default=False)
    is_staff = serializers.BooleanField(required=False, allow_null=True, default=None)


class UserEditSerializer(serializers.Serializer):
    email = EmailAddressField(required=False)
    full_name = full_name_field(required=False)
    validate_full_name = staticmethod(_blank_if_null)


class UserUpdateMeSerializer(UserEditSerializer):
    """`/users/me`. Needs the user in its context (`user`)."""

    email = EmailAddressField(
        required=False,
        help_text="A new address needs `current_password`; it is changed once confirmed "
        "through the link emailed to it.",
    )
    current_password = password_field(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        email = attrs.get("email")
        user = self.context["user"]
        changing = email is not None and normalize_email(email) != user.email
        if changing and not attrs.get("current_password"):
            raise serializers.ValidationError(
                {
                    "current_password": serializers.ErrorDetail(
                        "Required to change the email address.", code="required"
                    )
                }
            )
        return attrs


class EmailConfirmSerializer(serializers.Serializer):
    token = StringField(max_length=1024)


class UserUpdateSerializer(UserEditSerializer):
    password = password_field(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    is_superuser = serializers.BooleanField(required=False)
    is_staff = serializers.BooleanField(required=False)
    roles = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Group.objects.all(),
        required=False,
        help_text="Role ids; replaces the user's roles.",
    )


class UpdatePasswordSerializer(serializers.Serializer):
    current_password = password_field()
    new_password = password_field()


class NewPasswordSerializer(serializers.Serializer):
    token = StringField(max_length=512)
    new_password = password_field()


class LoginSerializer(serializers.Serializer):
    """OAuth2's password grant: `username` is the email. `grant_type`, `scope`,
    `client_id` and `client_secret` are accepted for OAuth2 clients and not used."""

    username = StringField(max_length=EMAIL_MAX)
    password = password_field()
    grant_type = StringField(required=False, allow_blank=True, allow_null=True)
    scope = StringField(required=False, allow_blank=True)
    client_id = StringField(required=False, allow_blank=True, allow_null=True)
    client_secret = StringField(required=False, allow_blank=True, allow_null=True)


class RefreshSerializer(serializers.Serializer):
    """The refresh token, in the body or (when omitted) in the `refresh_token` cookie."""

    refresh_token = StringField(required=False, max_length=4096)


class TokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField(default="bearer")
    refresh_token = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()
