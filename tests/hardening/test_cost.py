"""Bounded cost: the worst chat message and search the validators allow, on a project of
realistic size, finish within the statement timeout and leave no query running.

The project holds 3,000 chunks of English text (30 documents of 100 chunks of about
1,000 characters, as CHUNK_SIZE cuts them), stored in bulk through the vector store.
The messages are the longest accepted (CHAT_MESSAGE_MAX_CHARS, SEARCH_QUERY_MAX_CHARS)
in the shapes that made the unbounded full-text query slow: an `or` chain, a pasted
document, quoted phrases, exclusions, one word repeated. Every request runs under the
web processes' default statement timeout (15 s; the test settings have none, so the test
sets it), which PostgreSQL enforces: had any statement outlasted it, the answer would
be a 503, so a 200/201 is the proof.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.chat import services as chat
from apps.projects.models import Document, Project
from apps.projects.services.ingestion import SOURCE_TYPE
from apps.users.models import User
from launch.ai.embeddings import get_embedding_provider
from launch.vector_store.models import VectorRecord
from launch.vector_store.services import RecordIn, upsert
from tests.factories import make_member, roles
from tests.projects.conftest import create_project, upload
from tests.support.reliability import record

__all__ = ["make_member", "roles"]

# Committed and truncated afterwards: a rolled-back test would leave 3,000 dead entries
# in the HNSW index for the rest of the session (see tests/conftest.py).
pytestmark = [pytest.mark.promise(4), pytest.mark.django_db(transaction=True)]

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "corpus" / "documents"
DOCUMENTS, CHUNKS_EACH, WORDS_PER_CHUNK = 30, 100, 170
OTHER_BACKENDS_RUNNING = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
"""


def corpus_words() -> list[str]:
    text = " ".join(path.read_text() for path in sorted(CORPUS.iterdir()))
    return re.findall(r"[A-Za-z][A-Za-z'-]*", text)


def realistic_project(owner: User) -> tuple[Project, list[str]]:
    """A project with DOCUMENTS x CHUNKS_EACH chunks, written in one bulk upsert."""
    words = corpus_words()
    rng = random.Random(11)
    project = create_project(owner=owner)
    provider = get_embedding_provider()
    chunks: list[tuple[Document, int, str]] = []
    for number in range(DOCUMENTS):
        document = upload(project=project, name=f"manual-{number}.txt")
        for index in range(CHUNKS_EACH):
            start = rng.randrange(len(words) - WORDS_PER_CHUNK)
            chunks.append((document, index, " ".join(words[start : start + WORDS_PER_CHUNK])))
    vectors = provider.embed_documents([text for _, _, text in chunks])
    upsert(
        [
            RecordIn(
                source_type=SOURCE_TYPE,
                source_id=document.pk,
                scope_id=project.pk,
                chunk_index=index,
                content=text,
                embedding=vector,
                embedding_model=provider.model_name,
                metadata={"source": SOURCE_TYPE, "filename": document.filename},
            )
            for (document, index, text), vector in zip(chunks, vectors, strict=True)
        ]
    )
    Document.objects.filter(project=project).update(status=Document.Status.COMPLETED)
    return project, [text for _, _, text in chunks]


def worst_texts(words: list[str], pasted: list[str], limit: int) -> dict[str, str]:
    """Texts of exactly `limit` characters in the shapes that cost most unbounded."""
    rng = random.Random(7)
    common = sorted(set(words), key=words.count, reverse=True)[:300]

    def fill(make) -> str:
        parts: list[str] = []
        length = -1  # of " ".join(parts)
        while length < limit:
            parts.append(make())
            length += len(parts[-1]) + 1
        return " ".join(parts)[:limit]

    return {
        "or chain": fill(lambda: f"{rng.choice(common)} or"),
        "pasted document": fill(lambda: pasted[rng.randrange(len(pasted))]),
        "quoted phrases": fill(lambda: '"' + " ".join(rng.sample(common, 3)) + '"'),
        "exclusions": fill(lambda: f"-{rng.choice(common)} {rng.choice(common)}"),
        "one word repeated": fill(lambda: common[0]),
        "every distinct word": fill(lambda: rng.choice(words)),
    }


@pytest.fixture
def realistic(make_member) -> tuple[User, Project, list[str]]:
    owner = make_member()
    return owner, *realistic_project(owner)


@pytest.fixture
def web_timeout(realistic) -> Iterator[None]:
    """The web processes' default statement timeout (config/settings/base.py), from
    when the data is loaded (by a worker, in production) until the end of the test."""
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '15s'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


def test_the_worst_messages_and_searches_finish_within_the_statement_timeout(
    realistic, web_timeout, client_for
):
    owner, project, pasted = realistic
    conversation = chat.conversation_create(
        user=owner, title="Cost", use_documents=True, project_id=project.pk
    )
    client = client_for(owner)
    words = corpus_words()
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("15s",)
    assert VectorRecord.objects.filter(scope_id=project.pk).count() == DOCUMENTS * CHUNKS_EACH

    messages = worst_texts(words, pasted, settings.CHAT_MESSAGE_MAX_CHARS)
    url = f"/api/v1/chat/conversations/{conversation.pk}/messages"
    for shape, text in messages.items():
        assert len(text) == settings.CHAT_MESSAGE_MAX_CHARS
        answer = client.post(url, {"content": text}, format="json")
        assert answer.status_code == 201, (shape, answer.content[:300])
    streamed = client.post(url + "/stream", {"content": messages["or chain"]}, format="json")
    assert streamed.status_code == 200  # retrieval is done before the stream starts
    too_long = client.post(url, {"content": "x" * (settings.CHAT_MESSAGE_MAX_CHARS + 1)})
    assert too_long.status_code == 422

    queries = worst_texts(words, pasted, settings.SEARCH_QUERY_MAX_CHARS)
    for shape, text in queries.items():
        for mode in ("keyword", "hybrid", "semantic"):
            found = client.post("/api/v1/search", {"query": text, "mode": mode}, format="json")
            assert found.status_code == 200, (shape, mode, found.content[:300])
    over = "x" * (settings.SEARCH_QUERY_MAX_CHARS + 1)
    too_long = client.post("/api/v1/search", {"query": over}, format="json")
    assert too_long.status_code == 422
    record("abuse requests sent", len(messages) + 3 * len(queries) + 3)

    with connection.cursor() as cursor:
        cursor.execute(OTHER_BACKENDS_RUNNING)
        assert cursor.fetchone() == (0,)
