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
    """A row that belongs to the user who created it. The owner's access comes from the
    object permissions granted at creation, not from this column; the column says whose
    grants nobody may change (`launch.permissions.owner_id_of`)."""

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

    class Meta(UserObjectPermissionBase.Meta):
        abstract = True


class RoleGrant(GroupObjectPermissionBase):
    """A role's object grant and who made it (see `UserGrant`)."""

    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = True
