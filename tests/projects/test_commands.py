"""`ingest`, `reindex` and `search` management commands."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.projects.models import Document
from launch.vector_store.models import VectorRecord
from launch.vector_store.services.versions import active_version
from tests.projects.conftest import create_project
from tests.support.documents import ELF_HEADER, make_encrypted_pdf, make_pdf

pytestmark = pytest.mark.django_db


def run(*args, **kwargs):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a.txt").write_text("Kelp forests shelter sea otters along the coast.")
    (tmp_path / "b.pdf").write_bytes(make_pdf(["Basalt columns form as lava cools."]))
    (tmp_path / "locked.pdf").write_bytes(make_encrypted_pdf(["hidden"]))
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "c.md").write_text("# Otters\n\nSea otters use rocks as tools.")
    (nested / "tool.pdf").write_bytes(ELF_HEADER)
    return tmp_path


def test_ingest_processes_a_folder_in_process_and_summarises(folder, member):
    project = create_project(owner=member)
    output = run("ingest", str(folder), "--project", str(project.pk))
    assert output.splitlines()[0] == "2 completed, 1 failed"
    assert "locked.pdf" in output
    assert "password" in output
    assert Document.objects.filter(project=project, status="completed").count() == 2


def test_ingest_recursive_reports_refused_files_with_their_reason(folder, member):
    project = create_project(owner=member)
    output = run("ingest", str(folder), "--project", str(project.pk), "--recursive")
    assert output.splitlines()[0] == "3 completed, 2 failed"
    assert "tool.pdf: The file is an ELF executable" in output


def test_ingest_async_queues_instead(folder, member, django_capture_on_commit_callbacks):
    project = create_project(owner=member)
    with django_capture_on_commit_callbacks() as callbacks:
        output = run("ingest", str(folder / "a.txt"), "--project", str(project.pk), "--async")
    assert output.splitlines()[0] == "0 completed, 0 failed, 1 queued"
    assert len(callbacks) == 1
    assert Document.objects.get(project=project).status == "pending"


def test_ingest_as_another_user_and_bad_arguments(folder, member, make_user):
    project = create_project(owner=member)
    other = make_user()
    run("ingest", str(folder / "a.txt"), "--project", str(project.pk), "--user", other.email)
    assert Document.objects.get(project=project).uploaded_by == other
    with pytest.raises(CommandError, match="No user"):
        run("ingest", str(folder), "--project", str(project.pk), "--user", "nobody@example.com")
    with pytest.raises(CommandError, match="No files"):
        run("ingest", str(folder / "missing"), "--project", str(project.pk))


def test_reindex_builds_another_dimension_alongside_and_switches(folder, member):
    project = create_project(owner=member)
    run("ingest", str(folder), "--project", str(project.pk))
    old = active_version()
    old_rows = VectorRecord.objects.filter(version=old).count()

    output = run("reindex", "--to", "hashing", "--dimensions", "64", "--inline")

    new = active_version()
    assert new.name == "hashing-v1-64"
    assert "hashing-v1-64 is active" in output
    assert VectorRecord.objects.filter(version=new).count() == old_rows
    old.refresh_from_db()
    assert old.state == "retired"
    assert "a.txt" in run("search", "kelp otters", "--user", member.email)
    assert "active    hashing-v1-64" in run("reindex", "--status")


def test_reindex_to_the_active_model_or_an_unknown_provider_is_refused(member):
    active_version()
    with pytest.raises(CommandError, match="already the active"):
        run("reindex", "--to", "hashing", "--inline")
    with pytest.raises(CommandError, match="not supported"):
        run("reindex", "--to", "word2vec", "--inline")
    with pytest.raises(CommandError, match="No rollout"):
        run("reindex", "--cancel")


def test_search_prints_what_the_user_may_see(folder, member, stranger):
    project = create_project(owner=member)
    run("ingest", str(folder), "--project", str(project.pk))
    output = run("search", "kelp otters", "--user", member.email, "-k", "2")
    assert "a.txt" in output
    assert output.rstrip().endswith("results")
    assert run("search", "kelp otters", "--user", stranger.email).strip() == "0 results"
    with pytest.raises(CommandError, match="not found"):
        run("search", "kelp", "--user", stranger.email, "--project", str(project.pk))
