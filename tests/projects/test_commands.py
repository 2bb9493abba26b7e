"""`ingest`, `reindex` and `search` management commands."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.projects.models import Document
from launch.vector_store.models import VectorRecord
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


def test_reindex_reembeds_other_models_and_resumes(folder, member):
    project = create_project(owner=member)
    run("ingest", str(folder), "--project", str(project.pk))
    first = Document.objects.filter(status="completed").earliest("created_at")
    VectorRecord.objects.filter(source_id=first.pk).update(embedding_model="old-model")
    output = run("reindex", "--project", str(project.pk))
    assert output.splitlines()[0] == "1 reindexed, 1 already current, 0 failed"
    assert not VectorRecord.objects.filter(embedding_model="old-model").exists()
    assert run("reindex").splitlines()[0] == "0 reindexed, 2 already current, 0 failed"


def test_search_prints_what_the_user_may_see(folder, member, stranger):
    project = create_project(owner=member)
    run("ingest", str(folder), "--project", str(project.pk))
    output = run("search", "kelp otters", "--user", member.email, "-k", "2")
    assert "a.txt" in output
    assert output.rstrip().endswith("results")
    assert run("search", "kelp otters", "--user", stranger.email).strip() == "0 results"
    with pytest.raises(CommandError, match="not found"):
        run("search", "kelp", "--user", stranger.email, "--project", str(project.pk))
