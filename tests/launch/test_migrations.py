"""Migrations are complete and reversible."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder


def test_models_and_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_every_app_migrates_to_zero_and_back():
    labels = sorted(MigrationLoader(connection).migrated_apps)
    # Unapplying an app also unapplies whatever depends on it, so any order works.
    for label in labels:
        call_command("migrate", label, "zero", verbosity=0)
    assert not MigrationRecorder(connection).applied_migrations()
    call_command("migrate", verbosity=0)
    applied = {app for app, _ in MigrationRecorder(connection).applied_migrations()}
    assert applied == set(labels)
