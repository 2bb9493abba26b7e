"""Retrieval evaluation: a BEIR dataset through the real pipeline and the real search.

The corpus goes into a project as documents (upload, extraction, chunking, embedding:
exactly what users' files go through); each query runs through the vector store's
search, scoped to that project, in every mode asked; chunks are folded into their
documents (the best chunk's rank is the document's) and scored with
`launch.evaluation.metrics`.

The model evaluated is an embedding version: the configured one by default, which is
normally the active one. Another model (`config`) is built for the project's chunks
alongside, as a reindex would, and searched by name, so comparing models needs no
reindex of the installation.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile

from apps.projects.models import Document, Project
from apps.projects.services.ingestion import SOURCE_TYPE, document_ingest
from apps.projects.services.projects import project_create, project_delete
from apps.projects.services.uploads import document_upload
from apps.users.models import User
from launch.ai.embeddings import EmbeddingConfig
from launch.evaluation import metrics
from launch.evaluation.beir import Dataset
from launch.vector_store.models import EmbeddingVersion, VectorRecord
from launch.vector_store.services import SEARCH_MODES, SearchMode, search
from launch.vector_store.services.rollout import rebuild_source
from launch.vector_store.services.versions import (
    active_version,
    provider_for,
    version_index_drop,
    version_register,
)


@dataclass
class EvaluationSetup:
    project: Project
    version: EmbeddingVersion
    throwaway: bool
    created_version: bool
    documents: dict[uuid.UUID, str] = field(default_factory=dict)  # document pk -> corpus id
    failed: list[str] = field(default_factory=list)


def evaluation_prepare(
    *,
    dataset: Dataset,
    config: EmbeddingConfig | None = None,
    project: Project | None = None,
    progress: Callable[[Iterable[Any], str], Iterable[Any]] = lambda items, label: items,
) -> EvaluationSetup:
    """Ingest the corpus (into a new throwaway project unless `project`; documents it
    already holds, by file name, are reused) and embed it with the evaluated version.

    Side effects: a user and a project when throwaway, documents, vectors; may register
    a version (undone by `evaluation_cleanup`).
    """
    throwaway = project is None
    if project is None:
        owner = User.objects.create_user(
            email=f"evaluate-{uuid.uuid4().hex[:12]}@launch.invalid", password=None
        )
        project = project_create(user=owner, name=f"evaluate {dataset.name}")
    active = active_version()
    config = config or EmbeddingConfig.from_settings()
    existing = set(EmbeddingVersion.objects.values_list("pk", flat=True))
    version = version_register(config=config)
    setup = EvaluationSetup(
        project=project,
        version=version,
        throwaway=throwaway,
        created_version=version.pk not in existing,
    )
    have = {
        doc.filename: doc
        for doc in Document.objects.filter(project=project, status=Document.Status.COMPLETED)
    }
    for corpus_id in progress(list(dataset.corpus), "ingest"):
        name = f"{corpus_id}.txt"
        document = have.get(name)
        if document is None:
            title, text = dataset.corpus[corpus_id]
            body = f"{title}\n\n{text}" if title else text
            document = document_upload(
                user=project.owner,
                project=project,
                upload=ContentFile(body.encode(), name=name),
                filename=name,
                enqueue=False,
            )
            if document_ingest(document_id=document.pk) != Document.Status.COMPLETED:
                setup.failed.append(corpus_id)
                continue
        setup.documents[document.pk] = corpus_id
    if version.pk != active.pk:
        _embed_with(setup, active, progress)
    return setup


def _embed_with(
    setup: EvaluationSetup,
    active: EmbeddingVersion,
    progress: Callable[[Iterable[Any], str], Iterable[Any]],
) -> None:
    """Give the project's chunks vectors of the evaluated version, from the stored text."""
    type_id = ContentType.objects.get_for_model(Document).pk
    provider = provider_for(setup.version)
    done = set(
        VectorRecord.objects.filter(version=setup.version, scope_id=setup.project.pk)
        .values_list("source_id", flat=True)
        .distinct()
    )
    todo = [pk for pk in setup.documents if pk not in done]
    for pk in progress(todo, f"embed ({setup.version.name})"):
        rebuild_source(active, setup.version, provider, type_id, pk)


def evaluation_search(
    *,
    setup: EvaluationSetup,
    dataset: Dataset,
    ks: list[int],
    modes: list[SearchMode],
    progress: Callable[[Iterable[Any], str], Iterable[Any]] = lambda items, label: items,
) -> dict[str, Any]:
    """Run every query in every mode; the report `manage.py evaluate` prints and saves."""
    depth = max([*ks, 10])
    # Several chunks of one document fold into one entry, so ask for more chunks.
    chunks = min(200, depth * 3)
    report: dict[str, Any] = {
        "dataset": dataset.name,
        "documents": len(setup.documents),
        "failed_documents": setup.failed,
        "queries": len(dataset.queries),
        "embedding_version": setup.version.name,
        "provider": setup.version.provider,
        "dimensions": setup.version.dimensions,
        "k": ks,
        "modes": {},
        "definitions": metrics.DEFINITIONS,
        # Per mode, each query's rank of its first relevant document (None: not found).
        "first_relevant_rank": {},
    }
    for mode in modes:
        if mode not in SEARCH_MODES:
            raise ValueError(f"mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
        recalls: dict[int, list[float]] = {k: [] for k in ks}
        rrs, ndcgs, timings = [], [], []
        first = report["first_relevant_rank"][mode] = {}
        for query_id in progress(list(dataset.queries), mode):
            started = time.perf_counter()
            hits = search(
                dataset.queries[query_id],
                scopes=[setup.project.pk],
                k=chunks,
                mode=mode,
                embedding_model=setup.version.name,
                metadata={"source": SOURCE_TYPE},
            )
            timings.append((time.perf_counter() - started) * 1000)
            ranked = list(
                dict.fromkeys(
                    setup.documents[hit.source_id]
                    for hit in hits
                    if hit.source_id in setup.documents
                )
            )
            qrels = dataset.qrels[query_id]
            for k in ks:
                recalls[k].append(metrics.recall_at_k(ranked, qrels, k))
            rrs.append(metrics.reciprocal_rank(ranked, qrels, 10))
            first[query_id] = next(
                (rank for rank, doc in enumerate(ranked, 1) if qrels.get(doc, 0) > 0), None
            )
            ndcgs.append(metrics.ndcg_at_k(ranked, qrels, 10))
        report["modes"][mode] = {
            **{f"recall@{k}": round(metrics.mean(recalls[k]), 4) for k in ks},
            "MRR@10": round(metrics.mean(rrs), 4),
            "nDCG@10": round(metrics.mean(ndcgs), 4),
            "p50_ms": round(metrics.percentile(timings, 0.50), 2),
            "p95_ms": round(metrics.percentile(timings, 0.95), 2),
        }
    return report


def evaluation_cleanup(*, setup: EvaluationSetup) -> None:
    """Remove what `evaluation_prepare` made: the throwaway project (documents, vectors,
    files), its owner, and a version registered only for this run.

    Side effects: deletes those rows; drops the version's index.
    """
    if setup.throwaway:
        owner = setup.project.owner
        project_delete(project=setup.project)
        owner.delete()
    version = EmbeddingVersion.objects.filter(pk=setup.version.pk).first()
    if version is None or version.state != EmbeddingVersion.State.BUILDING:
        return
    if version.replaces_id is None:  # evaluated only, not being rolled out
        VectorRecord.objects.filter(version=version, scope_id=setup.project.pk).delete()
        if setup.created_version and not VectorRecord.objects.filter(version=version).exists():
            version_index_drop(version=version)
            version.delete()


def compare(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per mode and metric, current minus previous (for what both reports hold)."""
    deltas: dict[str, dict[str, float]] = {}
    for mode, figures in current.get("modes", {}).items():
        before = previous.get("modes", {}).get(mode, {})
        deltas[mode] = {
            name: round(value - before[name], 4)
            for name, value in figures.items()
            if isinstance(before.get(name), int | float)
        }
    return deltas
