"""Invitations: single-use, expiring, stored hashed.

The token is 32 random bytes (URL-safe base64) made by the worker that sends the email;
only its SHA-256 is stored, and a lookup compares digests with `hmac.compare_digest`.
An unknown or malformed token is a plain 404 that names nothing; a token that existed
but is dead (expired, accepted, revoked) is a 410. Accepting needs a signed-in user
whose email is the invited one (403 otherwise), not yet a member (409); someone
without an account accepts by creating it (`invitation_signup`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from apps.operations.activity import record_rights_change
from apps.rbac.rights import Refused
from apps.teams.models import Invitation, Membership, Team, TeamRole
from apps.teams.roles import INVITE_MEMBERS
from apps.teams.services.access import require_holds_team_role, require_team_permission
from apps.teams.services.teams import default_membership_exists
from apps.users.models import User, normalize_email
from launch.errors import Conflict, Gone, NotFound

logger = logging.getLogger("apps.teams")

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
ALREADY_MEMBER = "This person is already a member of the team."
WRONG_EMAIL = "This invitation was sent to another email address."
ALREADY_ACCEPTED = "This invitation was already accepted."
NOT_PENDING = "Only a pending invitation can be sent again; invite this person again instead."
HAS_ACCOUNT = "An account with this email already exists: sign in, then accept the invitation."


def invitation_days() -> int:
    return int(settings.TEAM_INVITATION_DAYS)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mask_email(email: str) -> str:
    """`ada@example.com` -> `a**@example.com`: enough to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 2)}@{domain}"


def pending(invitations: QuerySet[Invitation]) -> QuerySet[Invitation]:
    return invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def invitation_state(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= timezone.now():
        return "expired"
    return "pending"


def _is_member(team: Team, email: str) -> bool:
    return Membership.objects.filter(team=team, user__email=normalize_email(email)).exists()


@transaction.atomic
def invitation_create(*, actor: User | None, team: Team, email: str, role: TeamRole) -> Invitation:
    """Invite `email` into `team` with `role`. Needs `teams.invite_members` and the right
    to hand out `role` (an admin cannot invite owners). 409 if that person is already a
    member. A pending invitation to the same address is revoked (this one replaces it).

    Side effects: the invitation; the email, queued on commit (`invitation_send`); an
    activity entry on the team."""
    require_team_permission(actor, team, INVITE_MEMBERS, "invite members")
    if role.team_id != team.pk:
        raise NotFound()
    require_holds_team_role(actor, team, role, f"invite with the role {role.name}")
    address = normalize_email(email)
    if _is_member(team, address):
        raise Conflict(ALREADY_MEMBER)
    now = timezone.now()
    pending(Invitation.objects.filter(team=team, email=address)).update(revoked_at=now)
    invitation = Invitation.objects.create(
        team=team,
        email=address,
        role=role,
        invited_by=actor,
        expires_at=now + timedelta(days=invitation_days()),
    )
    record_rights_change(
        actor=actor,
        target=team,
        kind="team_invitations",
        changes={f"invitation of {address}": (None, role.name)},
        team_id=str(team.pk),
        invitation_id=str(invitation.pk),
    )
    from apps.teams.tasks import invitation_send

    invitation_id = str(invitation.pk)
    transaction.on_commit(lambda: invitation_send.delay(invitation_id))
    return invitation


def _email(invitation: Invitation, token: str) -> EmailMultiAlternatives:
    link = f"{settings.FRONTEND_URL}/invitations?{urlencode({'token': token})}"
    inviter = invitation.invited_by
    context = {
        "project_name": settings.PROJECT_NAME,
        "team": invitation.team.name,
        "role": invitation.role.name,
        "inviter": (inviter.full_name or inviter.email) if inviter else "",
        "email": invitation.email,
        "link": link,
        "valid_days": invitation_days(),
    }
    # A team's name is user input: no line break may reach the Subject header.
    team_name = " ".join(invitation.team.name.split())
    message = EmailMultiAlternatives(
        f"{settings.PROJECT_NAME} - You are invited to {team_name}",
        render_to_string("teams/email/invitation.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(
        render_to_string("teams/email/invitation.html", context), "text/html"
    )
    return message


def invitation_send(*, invitation_id: uuid.UUID | str) -> bool:
    """Make the invitation's token and email its link, if the invitation is still
    pending. Returns whether an email went out.

    Side effects: stores the token's digest (a new token each time, so only the latest
    email's link works); sends at most one email. An SMTP failure is logged, not retried."""
    with transaction.atomic():
        invitation = (
            pending(Invitation.objects.filter(pk=invitation_id))
            .select_for_update(of=("self",))
            .select_related("team", "role", "invited_by")
            .first()
        )
        if invitation is None:
            return False
        token = secrets.token_urlsafe(32)
        invitation.token_hash = token_digest(token)
        invitation.save(update_fields=["token_hash"])
    try:
        _email(invitation, token).send()
    except OSError:
        logger.exception("could not send the team invitation email")
        return False
    return True


def _by_token(token: str, *, lock: bool = False) -> Invitation:
    """The invitation `token` opens: 404 unknown (or malformed), 410 dead."""
    if not TOKEN_RE.match(token):
        raise NotFound()
    digest = token_digest(token)
    invitations = Invitation.objects.filter(token_hash=digest)
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.select_related("team", "role", "invited_by").first()
    if invitation is None or not hmac.compare_digest(invitation.token_hash or "", digest):
        raise NotFound()
    if invitation_state(invitation) != "pending":
        raise Gone("This invitation is no longer valid.")
    return invitation


def invitation_preview(*, token: str) -> Invitation:
    """What the landing page shows (the serializer masks the email)."""
    return _by_token(token)


@transaction.atomic
def invitation_accept(*, user: User, token: str) -> Membership:
    """Join the team as the invitation says. 404 unknown token, 410 dead, 403 for a user
    whose email is not the invited one, 409 for a member already.

    Side effects: the membership (the user's default team when it has none); the
    invitation marked accepted (single use); an activity entry on the team."""
    invitation = _by_token(token, lock=True)
    if normalize_email(user.email) != invitation.email:
        raise Refused(WRONG_EMAIL)
    return _join(invitation, user)


@transaction.atomic
def invitation_signup(*, token: str, password: str, full_name: str = "") -> Membership:
    """Create the invited person's account and accept the invitation, in one
    transaction: either both happen or neither. 404 unknown token, 410 dead; 409 when the
    invited email already has an account (its owner signs in and accepts); a password
    the validators refuse is a 422 on `password`, as at signup.

    Open registration (`USERS_OPEN_REGISTRATION`) is not required: a team member chose
    to invite this address, and holding the emailed token proves it is the reader's.

    Side effects: the user (`user_create`: default role, personal team), then what
    `invitation_accept` does."""
    from apps.users.services import user_create

    invitation = _by_token(token, lock=True)
    if User.objects.filter(email=invitation.email).exists():
        raise Conflict(HAS_ACCOUNT)
    user = user_create(email=invitation.email, password=password, full_name=full_name)
    return _join(invitation, user)


def _join(invitation: Invitation, user: User) -> Membership:
    """Make `user` a member as the (locked, pending) invitation says and use it up."""
    team = invitation.team
    if Membership.objects.filter(team=team, user=user).exists():
        raise Conflict(ALREADY_MEMBER)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                team=team,
                user=user,
                role=invitation.role,
                is_default=not default_membership_exists(user),
            )
    except IntegrityError:
        # Joined (or got a default team) by another request since the check above.
        raise Conflict(ALREADY_MEMBER) from None
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record_rights_change(
        actor=user,
        target=team,
        kind="team_members",
        changes={f"role of {user.email}": (None, invitation.role.name)},
        team_id=str(team.pk),
        user_id=str(user.pk),
        invitation_id=str(invitation.pk),
    )
    return membership


@transaction.atomic
def invitation_resend(*, actor: User | None, team: Team, invitation: Invitation) -> Invitation:
    """Send a pending invitation's email again, with a new link: the old link dies now
    (its digest is cleared here, before the worker makes the new token) and the
    invitation's validity starts over. Needs `teams.invite_members` and the right to
    hand out its role; 409 unless it is pending.

    Side effects: `token_hash` cleared, `expires_at` renewed; the email, queued on
    commit (`invitation_send`); an activity entry on the team."""
    require_team_permission(actor, team, INVITE_MEMBERS, "resend invitations")
    locked = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("role")
        .filter(pk=invitation.pk, team=team)
        .first()
    )
    if locked is None:
        raise NotFound()
    invitation = locked
    require_holds_team_role(actor, team, invitation.role, "resend this invitation")
    if invitation_state(invitation) != "pending":
        raise Conflict(NOT_PENDING)
    before = invitation.expires_at
    invitation.token_hash = None
    invitation.expires_at = timezone.now() + timedelta(days=invitation_days())
    invitation.save(update_fields=["token_hash", "expires_at"])
    record_rights_change(
        actor=actor,
        target=team,
        kind="team_invitations",
        changes={
            f"expiry of the invitation of {invitation.email}": (
                before.isoformat(),
                invitation.expires_at.isoformat(),
            )
        },
        team_id=str(team.pk),
        invitation_id=str(invitation.pk),
        event="resent",
    )
    from apps.teams.tasks import invitation_send

    invitation_id = str(invitation.pk)
    transaction.on_commit(lambda: invitation_send.delay(invitation_id))
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: User | None, team: Team, invitation: Invitation) -> Invitation:
    """Revoke a pending invitation: its link answers 410 from now on. Needs
    `teams.invite_members` and the right to hand out its role. 409 if it was accepted;
    revoking a dead one again changes nothing. Side effects: `revoked_at`; an activity
    entry on the team."""
    require_team_permission(actor, team, INVITE_MEMBERS, "revoke invitations")
    locked = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("role")
        .filter(pk=invitation.pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    invitation = locked
    require_holds_team_role(actor, team, invitation.role, "revoke this invitation")
    if invitation.accepted_at is not None:
        raise Conflict(ALREADY_ACCEPTED)
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record_rights_change(
        actor=actor,
        target=team,
        kind="team_invitations",
        changes={f"invitation of {invitation.email}": (invitation.role.name, None)},
        team_id=str(team.pk),
        invitation_id=str(invitation.pk),
    )
    return invitation
