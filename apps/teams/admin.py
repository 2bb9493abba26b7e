"""Teams in the admin: each team's page shows its members, roles and invitations.

The pages are for superusers (no global role carries the teams app's model
permissions: team rights live in team roles). Writes go through the services with the
staff user as the actor: creating, renaming and deleting a team, revoking invitations.
Memberships and roles are read-only here; they change through the API, where the
last-owner and no-escalation rules answer in the error envelope."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from rest_framework.exceptions import APIException

from apps.rbac.admin import refusal_message, refusals_as_403
from apps.teams import services
from apps.teams.models import Invitation, Membership, Team, TeamRole
from apps.teams.roles import role_permission_codenames
from apps.teams.selectors import team_contents
from apps.teams.services.invitations import invitation_state
from apps.usage.selectors import team_usage_this_month


def count_of(model: type[Model], condition: Q | None = None) -> Coalesce:
    """A correlated count of `model` rows of the outer team."""
    rows = model._default_manager.filter(team=OuterRef("pk"))
    if condition is not None:
        rows = rows.filter(condition)
    counted = rows.order_by().values("team").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "role", "is_default", "joined_at")
    readonly_fields = fields
    ordering = ["joined_at"]


class TeamRoleInline(ReadOnlyInline):
    model = TeamRole
    fields = ("name", "key", "description", "permission_list")
    readonly_fields = fields

    @admin.display(description="permissions")
    def permission_list(self, role: TeamRole) -> str:
        return ", ".join(sorted(role_permission_codenames(role)))


class InvitationInline(ReadOnlyInline):
    model = Invitation
    fields = ("email", "role", "state", "invited_by", "created_at", "expires_at")
    readonly_fields = fields

    @admin.display(description="state")
    def state(self, invitation: Invitation) -> str:
        return invitation_state(invitation)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "owner",
        "is_personal",
        "plan",
        "members",
        "roles_count",
        "pending_invitations",
        "created_at",
    ]
    list_filter = ["is_personal", "plan", "created_at"]
    search_fields = ["name", "slug", "owner__email"]
    list_select_related = ["owner"]
    fields = [
        "name",
        "slug",
        "plan",
        "owner",
        "is_personal",
        "contents",
        "usage_this_month",
        "created_at",
    ]
    readonly_fields = ["owner", "is_personal", "contents", "usage_this_month", "created_at"]
    inlines = [MembershipInline, TeamRoleInline, InvitationInline]

    @admin.display(description="contents")
    def contents(self, team: Team) -> str:
        """Its objects by kind and the storage its documents take (one query)."""
        if team._state.adding:
            return "-"
        held = team_contents(team=team)
        storage = filesizeformat(held.pop("storage"))
        return ", ".join(f"{count} {kind}" for kind, count in held.items()) + f"; {storage}"

    @admin.display(description="usage this month")
    def usage_this_month(self, team: Team) -> str:
        """Tokens and cost of the team's model calls since the first of the month."""
        if team._state.adding:
            return "-"
        used = team_usage_this_month(team_id=team.pk)
        tokens = used["input_tokens"] + used["output_tokens"]
        return (
            f"{tokens} tokens ({used['input_tokens']} in, {used['output_tokens']} out) "
            f"in {used['calls']} calls; cost {used['cost']:.4f}"
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        # One subquery per count: joining the three relations at once would multiply
        # members by roles by invitations before counting.
        pending = Q(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=count_of(Membership),
                role_count=count_of(TeamRole),
                pending_count=count_of(Invitation, pending),
            )
        )

    @admin.display(description="members", ordering="member_count")
    def members(self, team: Any) -> int:
        return int(team.member_count)

    @admin.display(description="roles", ordering="role_count")
    def roles_count(self, team: Any) -> int:
        return int(team.role_count)

    @admin.display(description="pending invitations", ordering="pending_count")
    def pending_invitations(self, team: Any) -> int:
        return int(team.pending_count)

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return list(self.inlines) if obj is not None else []  # a new team has none yet

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The founder of a new team is the staff user creating it.
        return [*self.readonly_fields, "plan"] if obj is None else list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        with refusals_as_403():
            if change:
                saved = services.team_update(
                    actor=request.user,  # type: ignore[arg-type]
                    team=Team.objects.get(pk=obj.pk),
                    name=obj.name,
                    slug=obj.slug,
                    plan=obj.plan,
                )
            else:
                saved = services.team_create(
                    actor=request.user,  # type: ignore[arg-type]
                    name=obj.name,
                    slug=obj.slug or None,
                )
        obj.pk = saved.pk
        obj._state.adding = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.is_personal)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through the service
        return actions

    def delete_model(self, request: HttpRequest, obj: Team) -> None:
        with refusals_as_403():
            services.team_delete(actor=request.user, team=obj)  # type: ignore[arg-type]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "team", "role", "state", "invited_by", "created_at", "expires_at"]
    list_filter = ["created_at", "expires_at"]
    search_fields = ["email", "team__name", "team__slug"]
    list_select_related = ["team", "role", "invited_by"]
    readonly_fields = [
        "team",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]
    fields = tuple(readonly_fields)
    actions = ["revoke"]

    @admin.display(description="state")
    def state(self, invitation: Invitation) -> str:
        return invitation_state(invitation)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invitations are sent from the API, which emails the link

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the row is the record of who was invited

    @admin.action(description="Revoke the selected invitations")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        done = 0
        for invitation in queryset.select_related("team"):
            if invitation_state(invitation) != "pending":
                continue
            try:
                services.invitation_revoke(
                    actor=request.user,  # type: ignore[arg-type]
                    team=invitation.team,
                    invitation=invitation,
                )
            except APIException as error:  # a refusal: report it, keep going
                self.message_user(request, refusal_message(error), messages.ERROR)
                continue
            done += 1
        self.message_user(request, f"Revoked {done} invitation(s).")
