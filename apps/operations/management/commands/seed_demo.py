"""`manage.py seed_demo`: a small living world for a first look. Idempotent.

Roles, three users (passwords generated and printed once, when the user is created),
tags and items shared between them; with the projects app, a project whose sample
documents (apps/operations/demo/) are processed in-process; with the chat app, a
conversation on that project. A second run finds everything and changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files import File
from django.core.management.base import BaseCommand

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
]
TAGS = [("demo", "#6366f1"), ("urgent", "#ef4444")]
ITEMS = [
    ("Welcome to Launch", "Shared with Bob (edit) and Carol (view).", ["demo"]),
    ("Try the admin control room", "Open /admin/ as Alice.", ["demo", "urgent"]),
]
PROJECT_NAME = "Launch demo"


class Command(BaseCommand):
    help = "Create a demo world (roles, users, items, a project with documents). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        self.created = 0
        steps: list[tuple[str, Callable[[], None]]] = [
            ("roles", self.roles),
            ("users", self.users),
            ("tags and items", self.items),
        ]
        if apps.is_installed("apps.projects"):
            steps.append(("project and documents", self.project))
        if apps.is_installed("apps.chat"):
            steps.append(("conversation", self.conversation))
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

        alice, *others = (self._user(email) for email, *_ in USERS)
        team = team_ensure_personal(user=alice)
        for user in others:
            if not Membership.objects.filter(team=team, user=user).exists():
                guest = TeamRole.objects.get(team=team, key=GUEST)
                member_add(actor=None, team=team, user=user, role=guest)

    def items(self) -> None:
        self._guests_of_alice()
        alice, bob, carol = (self._user(email) for email, *_ in USERS)
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
