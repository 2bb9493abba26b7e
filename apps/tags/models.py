from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

from launch.models import RoleGrant, UserGrant, UUIDModel, shared_grants_index

DEFAULT_COLOR = "#6366f1"
color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Enter a colour as #rrggbb.")


class Tag(UUIDModel):
    owner_field: ClassVar[str] = "created_by"

    name = models.CharField(max_length=50)
    color = models.CharField(max_length=7, default=DEFAULT_COLOR, validators=[color_validator])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="tags")

    class Meta:
        ordering = ["name", "id"]
        permissions = [("share_tag", "Can share tag")]
        constraints = [
            # Per creator, so one user's names never block (or reveal) another's.
            models.UniqueConstraint(
                "created_by",
                Lower("name"),
                name="tags_tag_creator_name_ci_unique",
                violation_error_message="You already have a tag with this name.",
            ),
        ]
        indexes = [
            models.Index(fields=["created_by", "name", "id"], name="tags_tag_creator_name"),
            models.Index(fields=["team", "name", "id"], name="tags_tag_team_name"),
        ]

    def __str__(self) -> str:
        return self.name


class TagUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta(UserGrant.Meta):
        indexes = [shared_grants_index("tags")]


class TagGroupObjectPermission(RoleGrant):
    content_object = models.ForeignKey(Tag, on_delete=models.CASCADE)
