from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import models


class RoleProfile(models.Model):
    """What a Django `Group` lacks to be a role: a description.

    Whether a role is the default is not stored: `settings.DEFAULT_ROLE` names it, so
    there is one source of truth and no flag to keep unique.
    """

    role = models.OneToOneField(
        Group, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    description = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        verbose_name = "role description"

    def __str__(self) -> str:
        return self.role.name
