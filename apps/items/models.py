from __future__ import annotations

from django.db import models

from launch.models import OwnedModel, RoleGrant, UserGrant, shared_grants_index


class Item(OwnedModel):
    title = models.CharField(max_length=255)
    description = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001  (the contract returns null, not "")
    tags = models.ManyToManyField("tags.Tag", related_name="items", blank=True)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="items")

    class Meta:
        ordering = ["-created_at", "id"]
        permissions = [("share_item", "Can share item")]
        # An owner's page, in the default order, walks this index (lists cost the page).
        indexes = [
            models.Index(fields=["owner", "-created_at", "id"], name="items_item_owner_recent"),
            # A team role's "view all" list walks this one (docs/teams.md).
            models.Index(fields=["team", "-created_at", "id"], name="items_item_team_recent"),
        ]

    def __str__(self) -> str:
        return self.title


class ItemUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(Item, on_delete=models.CASCADE)

    class Meta(UserGrant.Meta):
        indexes = [shared_grants_index("items")]


class ItemGroupObjectPermission(RoleGrant):
    content_object = models.ForeignKey(Item, on_delete=models.CASCADE)
