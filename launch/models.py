"""Abstract bases every app's models share. No concrete models live here."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class UUIDModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class TimestampedModel(UUIDModel):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OwnedModel(TimestampedModel):
    """A row that belongs to the user who created it. The owner is granted every object
    action at creation and nobody may change those grants (`launch.permissions.owner_id_of`),
    so lists find the owner's rows through this column's index instead of its grants."""

    owner_field: ClassVar[str] = "owner"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=True
    )

    class Meta:
        abstract = True


class UserGrant(UserObjectPermissionBase):
    """A user's object grant (guardian's direct foreign-key row) and who made it.

    `granted_by` is what the revocation rule reads: a sharer other than the owner may
    take back only the grants it made itself. It is empty for the grants an object's
    creator receives and for those made by commands; a deleted granter leaves it empty.
    """

    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set on the grants of the object's owner (`launch.permissions._set_grants`). Owners
    # see their rows through the owner column; lists read the other grants through a
    # partial index on this flag, so a user's own rows never count as shares.
    owner_grant = models.BooleanField(default=False, db_default=False, editable=False)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = True


def shared_grants_index(prefix: str) -> models.Index:
    """The grants of users other than the owner, by principal: what a list reads to find
    the rows shared with a user (each concrete user grant model declares it)."""
    return models.Index(
        fields=["user", "permission", "content_object"],
        condition=models.Q(owner_grant=False),
        name=f"{prefix}_shared_grants",
    )


class RoleGrant(GroupObjectPermissionBase):
    """A role's object grant and who made it (see `UserGrant`)."""

    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = True
