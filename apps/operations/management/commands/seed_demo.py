"""`manage.py seed_demo`: a small living world for a first look. Idempotent.

Roles, four users (passwords generated and printed once, when the user is created),
tags and items shared between them; a shared team, "Demo Co", where they hold the four
team roles, with a pending invitation; with the projects app, a project whose sample
documents (apps/operations/demo/) are processed in-process; with the chat app, a
conversation on that project; with the usage app, 30 days of usage-ledger rows (a
shared team and the users' personal teams, three models at list prices) so the control
room's charts have something to plot. A second run finds everything and changes nothing
(an invitation that expired meanwhile is replaced by a new pending one).
"""

from __future__ import annotations

import datetime
import random
import secrets
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files import File
from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.items.models import Item
from apps.items.services import item_create
from apps.operations.activity import system_activity
from apps.rbac.services import roles_ensure_defaults, share_set, user_set_roles
from apps.tags.models import Tag
from apps.tags.services import tag_create
from apps.users.models import User
from apps.users.services import user_create

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
# email, full name, role, staff
USERS = [
    ("alice@demo.example.com", "Alice Admin", "admin", True),
    ("bob@demo.example.com", "Bob Member", "member", False),
    ("carol@demo.example.com", "Carol Viewer", "viewer", False),
    ("dana@demo.example.com", "Dana Teamadmin", "member", False),
]
TEAM_NAME, TEAM_SLUG = "Demo Co", "demo-co"
# Alice founds the team (owner); the others' team roles.
TEAM_ROLES = {
    "dana@demo.example.com": "admin",
    "bob@demo.example.com": "member",
    "carol@demo.example.com": "viewer",
}
INVITED = ("erin@demo.example.com", "member")
TAGS = [("demo", "#6366f1"), ("urgent", "#ef4444")]
ITEMS = [
    ("Welcome to Launch", "Shared with Bob (edit) and Carol (view).", ["demo"]),
    ("Try the admin control room", "Open /admin/ as Alice.", ["demo", "urgent"]),
]
PROJECT_NAME = "Launch demo"
LEDGER_DAYS = 30
# Demo rows carry these list prices (per 1,000 tokens), whatever USAGE_PRICES says:
# (provider, model, purpose, input price, output price, input tokens, output tokens).
DEMO_CALLS = [
    ("openai", "gpt-4o-mini", "answer", "0.00015", "0.0006", 1800, 350),
    ("openai", "gpt-4o", "answer", "0.0025", "0.01", 2200, 500),
    ("openai", "text-embedding-3-small", "ingest", "0.00002", "0", 6000, 0),
]


class Command(BaseCommand):
    help = "Create a demo world (roles, users, items, a project with documents). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        self.created = 0
        steps: list[tuple[str, Callable[[], None]]] = [
            ("roles", self.roles),
            ("users", self.users),
            ("tags and items", self.items),
            ("team", self.team),
        ]
        if apps.is_installed("apps.projects"):
            steps.append(("project and documents", self.project))
        if apps.is_installed("apps.chat"):
            steps.append(("conversation", self.conversation))
        if apps.is_installed("apps.usage"):
            steps.append(("usage ledger", self.ledger))
        with system_activity("command", "seed_demo"):
            for number, (label, step) in enumerate(steps, start=1):
                self.stdout.write(f"[{number}/{len(steps)}] {label}")
                step()
        self.stdout.write(
            self.style.SUCCESS(f"seed_demo: {self.created} object(s) created, the rest existed.")
        )

    def _user(self, email: str) -> User:
        return User.objects.get(email=email)

    def roles(self) -> None:
        roles_ensure_defaults()

    def users(self) -> None:
        for email, full_name, role, staff in USERS:
            if User.objects.filter(email=email).exists():
                self.stdout.write(f"  {email} exists (password unchanged)")
                continue
            password = secrets.token_urlsafe(12)
            user = user_create(email=email, password=password, full_name=full_name, is_staff=staff)
            user_set_roles(actor=None, user=user, roles=[Group.objects.get(name=role)])
            self.created += 1
            self.stdout.write(f"  {email} / {password}  (role {role}; shown only now)")

    def _guests_of_alice(self) -> None:
        """Sharing stays inside a team (docs/teams.md): Bob and Carol join Alice's
        personal team as guests, so what she shares with them reaches them there."""
        from apps.teams.models import GUEST, Membership, TeamRole
        from apps.teams.services import member_add, team_ensure_personal

        alice, *others = (self._user(email) for email, *_ in USERS[:3])
        team = team_ensure_personal(user=alice)
        for user in others:
            if not Membership.objects.filter(team=team, user=user).exists():
                guest = TeamRole.objects.get(team=team, key=GUEST)
                member_add(actor=None, team=team, user=user, role=guest)

    def items(self) -> None:
        self._guests_of_alice()
        alice, bob, carol = (self._user(email) for email, *_ in USERS[:3])
        tags = {}
        for name, color in TAGS:
            tag = Tag.objects.filter(created_by=alice, name=name).first()
            if tag is None:
                tag = tag_create(user=alice, name=name, color=color)
                self.created += 1
            tags[name] = tag
        for title, description, tag_names in ITEMS:
            if Item.objects.filter(owner=alice, title=title).exists():
                continue
            item = item_create(
                user=alice,
                title=title,
                description=description,
                tag_ids=[tags[name].pk for name in tag_names],
            )
            # Alice shares as she would through the API, so the activity log shows it.
            share_set(actor=alice, obj=item, user=bob, actions={"view", "change"})
            share_set(actor=alice, obj=item, user=carol, actions={"view"})
            self.created += 1

    def team(self) -> None:
        from apps.teams.models import Membership, Team, TeamRole
        from apps.teams.services import invitation_create, member_add, team_create
        from apps.teams.services.invitations import pending

        alice = self._user(USERS[0][0])
        team = Team.objects.filter(slug=TEAM_SLUG).first()
        if team is None:
            team = team_create(actor=alice, name=TEAM_NAME, slug=TEAM_SLUG)
            self.created += 1
        for email, key in TEAM_ROLES.items():
            user = self._user(email)
            if not Membership.objects.filter(team=team, user=user).exists():
                role = TeamRole.objects.get(team=team, key=key)
                member_add(actor=None, team=team, user=user, role=role)
                self.created += 1
        email, key = INVITED
        if not pending(team.invitations.filter(email=email)).exists():
            role = TeamRole.objects.get(team=team, key=key)
            invitation_create(actor=alice, team=team, email=email, role=role)
            self.created += 1
        self.stdout.write(f"  {TEAM_NAME}: {team.memberships.count()} members, {email} invited")

    def project(self) -> None:
        from apps.projects.models import Project
        from apps.projects.services import document_ingest, document_upload, project_create

        alice = self._user(USERS[0][0])
        project = Project.objects.filter(owner=alice, name=PROJECT_NAME).first()
        if project is None:
            project = project_create(
                user=alice, name=PROJECT_NAME, description="Sample documents about Launch."
            )
            share_set(actor=alice, obj=project, user=self._user(USERS[1][0]), actions={"view"})
            self.created += 1
        existing = set(project.documents.values_list("filename", flat=True))
        for path in sorted(DEMO_DIR.iterdir()):
            if path.name in existing:
                continue
            with path.open("rb") as handle:
                document = document_upload(
                    user=alice, project=project, upload=File(handle, name=path.name), enqueue=False
                )
            status = document_ingest(document_id=document.pk)
            self.created += 1
            self.stdout.write(f"  {path.name}: {status}")

    def conversation(self) -> None:
        from apps.chat.models import ChatConversation
        from apps.chat.services.conversations import conversation_create
        from apps.projects.models import Project

        alice = self._user(USERS[0][0])
        title = "Questions about Launch"
        if ChatConversation.objects.filter(user=alice, title=title).exists():
            return
        project = Project.objects.filter(owner=alice, name=PROJECT_NAME).first()
        conversation_create(user=alice, title=title, project_id=project.pk if project else None)
        self.created += 1

    def ledger(self) -> None:
        """Calls over the last LEDGER_DAYS days (a fixed seed; an idempotency key per row
        and day, so a second run the same day adds nothing, and a run on a later day adds
        only the days since), then the daily roll-up."""
        from apps.teams.models import Team
        from apps.teams.services import team_create, team_ensure_personal
        from apps.usage.models import ModelCall
        from apps.usage.services import usage_roll_up

        alice, bob, carol = (self._user(email) for email, *_ in USERS[:3])
        # The shared team of the team step (it runs first); founded here only if absent.
        shared = Team.objects.filter(slug=TEAM_SLUG).first()
        if shared is None:
            shared = team_create(actor=alice, name=TEAM_NAME, slug=TEAM_SLUG)
            self.created += 1
        # Who spends, in which team, how much (a multiplier of the day's volume).
        spenders = [
            (alice, shared, 3.0),
            (bob, team_ensure_personal(user=bob), 1.6),
            (alice, team_ensure_personal(user=alice), 1.0),
            (carol, team_ensure_personal(user=carol), 0.5),
        ]
        today = timezone.localdate()
        rng = random.Random(14)  # noqa: S311 (demo volumes, the same every run)
        rows = []
        for back in range(LEDGER_DAYS - 1, -1, -1):
            day = today - datetime.timedelta(days=back)
            growth = 0.6 + 0.8 * (LEDGER_DAYS - back) / LEDGER_DAYS
            weekend = 0.45 if day.weekday() >= 5 else 1.0
            for who, team, weight in spenders:
                for (
                    provider,
                    model,
                    purpose,
                    price_in,
                    price_out,
                    tokens_in,
                    tokens_out,
                ) in DEMO_CALLS:
                    calls = round(rng.uniform(2, 6) * weight * growth * weekend)
                    for n in range(calls):
                        inp = round(tokens_in * rng.uniform(0.5, 1.5))
                        out = round(tokens_out * rng.uniform(0.5, 1.5))
                        cost = (Decimal(price_in) * inp + Decimal(price_out) * out) / 1000
                        moment = datetime.time(hour=rng.randrange(7, 22), minute=rng.randrange(60))
                        rows.append(
                            ModelCall(
                                created_at=timezone.make_aware(
                                    datetime.datetime.combine(day, moment)
                                ),
                                team=team,
                                user=who,
                                purpose=purpose,
                                provider=provider,
                                model=model,
                                input_tokens=inp,
                                output_tokens=out,
                                latency_ms=rng.randrange(80, 2400),
                                status="ok" if rng.random() > 0.02 else "error",
                                cost=cost.quantize(Decimal("0.00000001")),
                                idempotency_key=f"demo:{day}:{who.pk}:{team.pk}:{model}:{n}",
                            )
                        )
        before = ModelCall.objects.filter(idempotency_key__startswith="demo:").count()
        ModelCall.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        added = ModelCall.objects.filter(idempotency_key__startswith="demo:").count() - before
        self.created += added
        rolled = usage_roll_up()
        self.stdout.write(f"  {added} model call(s) added, {rolled} rolled up")
