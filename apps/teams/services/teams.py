"""Team writes: creating (with its default roles and the founder as owner), the personal
team every user has, renaming, deleting, and handing teams on when a user is deleted."""

from __future__ import annotations

import uuid
from typing import cast

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from apps.operations.activity import record_rights_change
from apps.plans.models import Plan
from apps.projects.models import Project
from apps.projects.services import project_delete
from apps.rbac.rights import Refused, require_superuser
from apps.teams.models import ADMIN, DEFAULT_ROLE_KEYS, OWNER, Membership, Team, TeamRole
from apps.teams.roles import CHANGE_TEAM, DEFAULT_ROLE_DESCRIPTIONS, DEFAULT_ROLE_NAMES
from apps.teams.services.access import is_team_owner, require_team_permission
from apps.users.models import User
from launch.errors import Conflict
from launch.rights_cache import user_rights_changed

# `team_update`'s plan when the caller leaves it as it is (None is the default plan).
UNCHANGED = object()
DUPLICATE_SLUG = "A team with this slug already exists."
PERSONAL_FIXED = "A personal team cannot be deleted."


def personal_team_name(user: User) -> str:
    return f"{user.full_name or user.email.partition('@')[0]}'s team"[:100]


def _free_slug(name: str) -> str:
    """A slug from `name`, with a random suffix when taken (or when `name` has none)."""
    base = slugify(name)[:50].strip("-") or "team"
    slug = base
    while Team.objects.filter(slug=slug).exists():
        slug = f"{base}-{uuid.uuid4().hex[:8]}"
    return slug


def _save_team(team: Team) -> None:
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise Conflict(DUPLICATE_SLUG) from None


def default_membership_exists(user: User) -> bool:
    return Membership.objects.filter(user=user, is_default=True).exists()


@transaction.atomic
def team_create(
    *, actor: User, name: str, slug: str | None = None, is_personal: bool = False
) -> Team:
    """Create a team founded by `actor`, who becomes its owner.

    Side effects: the team, its four default roles (owner, admin, member, viewer), the
    founder's membership (its default team when it has none yet); an activity entry."""
    if slug and Team.objects.filter(slug=slug).exists():
        raise Conflict(DUPLICATE_SLUG)
    team = Team(name=name, slug=slug or _free_slug(name), owner=actor, is_personal=is_personal)
    team.full_clean(exclude=["slug"] if not slug else None, validate_unique=False)
    _save_team(team)
    roles = {
        key: TeamRole.objects.create(
            team=team,
            key=key,
            name=DEFAULT_ROLE_NAMES[key],
            description=DEFAULT_ROLE_DESCRIPTIONS[key],
        )
        for key in DEFAULT_ROLE_KEYS
    }
    Membership.objects.create(
        team=team,
        user=actor,
        role=roles[OWNER],
        is_default=not default_membership_exists(actor),
    )
    record_rights_change(
        actor=None if is_personal else actor,
        target=team,
        kind="team_members",
        changes={f"role of {actor.email}": (None, OWNER)},
        team_id=str(team.pk),
        user_id=str(actor.pk),
    )
    return team


def team_ensure_personal(*, user: User) -> Team:
    """The user's personal team, created when missing (signup does it; accounts made by
    other paths get it on first use). Side effects: see `team_create`."""
    team = Team.objects.filter(owner=user, is_personal=True).first()
    if team is not None:
        return team
    try:
        with transaction.atomic():
            return team_create(actor=user, name=personal_team_name(user), is_personal=True)
    except (IntegrityError, Conflict):
        # Another request created it first (one personal team per owner).
        return Team.objects.get(owner=user, is_personal=True)


@transaction.atomic
def team_update(
    *,
    actor: User | None,
    team: Team,
    name: str | None = None,
    slug: str | None = None,
    plan: Plan | object | None = UNCHANGED,
) -> Team:
    """Rename a team, change its slug or its plan (None: the default plan); needs
    `teams.change_team` in it, and a superuser for the plan. 409 on a taken slug.
    Side effects: the row; a new plan's limits apply from the next request."""
    require_team_permission(actor, team, CHANGE_TEAM, "change the team")
    fields = []
    if plan is not UNCHANGED and plan != team.plan:
        require_superuser(actor, "change a team's plan")
        team.plan = cast(Plan | None, plan)
        fields.append("plan")
    if name is not None and name != team.name:
        team.name = name
        fields.append("name")
    if slug is not None and slug != team.slug:
        if Team.objects.filter(slug=slug).exclude(pk=team.pk).exists():
            raise Conflict(DUPLICATE_SLUG)
        team.slug = slug
        fields.append("slug")
    if fields:
        team.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                team.save(update_fields=fields)
        except IntegrityError:
            raise Conflict(DUPLICATE_SLUG) from None
    return team


@transaction.atomic
def team_delete(*, actor: User | None, team: Team) -> None:
    """Delete a team: owners only (403), never a personal team (409).

    Side effects: its roles, memberships and invitations go with it (phase 1: teams hold
    no objects yet); members whose default team it was fall back to their personal team;
    an activity entry."""
    if not is_team_owner(actor, team):
        raise Refused("Only the team's owners may delete it.")
    if team.is_personal:
        raise Conflict(PERSONAL_FIXED)
    members = Membership.objects.filter(team=team).select_related("user").order_by("joined_at")
    record_rights_change(
        actor=actor,
        target=team,
        kind="team_deleted",
        changes={"members": ([m.user.email for m in members], [])},
        team_id=str(team.pk),
    )
    _delete(team)


def _delete(team: Team) -> None:
    """Delete `team`; members whose default it was fall back to their personal team."""
    defaulted = [
        m.user for m in Membership.objects.filter(team=team, is_default=True).select_related("user")
    ]
    # Its projects through their service (documents' files and vectors go too); the
    # other objects (items, tags, conversations) and their grants cascade.
    for project in Project.objects.filter(team=team).select_for_update():
        project_delete(project=project)
    team.delete()
    for user in defaulted:
        restore_default(user)


def restore_default(user: User) -> None:
    """Make the user's personal team its default again (after leaving its default)."""
    if default_membership_exists(user):
        return
    personal = Team.objects.filter(owner=user, is_personal=True).first()
    if personal is not None:
        Membership.objects.filter(team=personal, user=user).update(is_default=True)
        user_rights_changed([user.pk])  # its default team is part of its cached rights


@transaction.atomic
def team_release_user(*, user: User) -> None:
    """Before `user` is deleted: delete its personal team (other members of it fall back
    to their own) and every team it alone is in;
    where it is the last owner of a team with other members, the longest-standing admin
    (else member) becomes owner, so no team is left without one.

    Side effects: team deletions; role changes recorded in the activity log (the system
    acts)."""
    for membership in list(Membership.objects.filter(user=user).select_related("role")):
        team = Team.objects.select_for_update().get(pk=membership.team_id)
        others = Membership.objects.filter(team=team).exclude(user=user).select_related("role")
        if (team.is_personal and team.owner_id == user.pk) or not others.exists():
            _delete(team)
            continue
        owners = others.filter(role__key=OWNER).order_by("joined_at")
        heir = owners.first()
        if heir is None and membership.role.key == OWNER:
            heir = (
                others.filter(role__key=ADMIN).order_by("joined_at").first()
                or others.order_by("joined_at").first()
            )
            assert heir is not None
            owner_role = TeamRole.objects.get(team=team, key=OWNER)
            record_rights_change(
                actor=None,
                target=team,
                kind="team_roles",
                changes={f"role of {heir.user.email}": (heir.role.name, owner_role.name)},
                team_id=str(team.pk),
                user_id=str(heir.user_id),
                reason="the last owner's account was deleted",
            )
            heir.role = owner_role
            heir.save(update_fields=["role"])
        if team.owner_id == user.pk and heir is not None:
            team.owner_id = heir.user_id
            team.save(update_fields=["owner"])
