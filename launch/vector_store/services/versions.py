"""Embedding versions: which model's vectors a search compares, and their HNSW indexes.

A version is one embedding configuration (provider, model, dimensions, endpoint). The
active version is what every scope searches unless the scope already switched to a
version being built alongside (`ScopeVersion`, written by `services.rollout`). Writers
write every *live* version of a scope (the active one and the one being built), so
both stay complete while a rollout runs and either can serve any scope.

Each version has a partial HNSW index over ``embedding::vector(N)`` restricted to its
rows: one graph per model, each of its own dimension, and a search of one version walks
only that version's graph. Above pgvector's 2,000-dimension limit for `vector` indexes
the index (and the query) use `halfvec`, which indexes up to 4,000.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from launch.ai.embeddings import (
    EmbeddingConfig,
    EmbeddingProvider,
    get_embedding_provider,
    get_provider_for,
)
from launch.vector_store.models import EmbeddingVersion, ScopeVersion

STATE = EmbeddingVersion.State
# ef_construction 32 (pgvector's default is 64, the minimum is 2 * m) costs ~30% less CPU
# per inserted row, and ingestion is bound by HNSW insertion; a raised ef_search at query
# time keeps recall >= 0.95 (docs/benchmarks.md).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 32
MAX_VECTOR_INDEX_DIMENSIONS = 2_000
MAX_HALFVEC_INDEX_DIMENSIONS = 4_000
# Vectors of providers Launch cannot rebuild (written by name only: tests, benchmarks).
EXTERNAL = "external"


class VersionError(Exception):
    """A version operation that cannot proceed (the message says why, for people)."""


def vector_type(dimensions: int) -> str:
    """The pgvector type a version's vectors are cast to for its index and its queries."""
    if dimensions <= MAX_VECTOR_INDEX_DIMENSIONS:
        return "vector"
    if dimensions <= MAX_HALFVEC_INDEX_DIMENSIONS:
        return "halfvec"
    raise VersionError(
        f"{dimensions} dimensions cannot be indexed (pgvector's HNSW indexes take at most "
        f"{MAX_HALFVEC_INDEX_DIMENSIONS}); choose a model or a `dimensions` setting below it"
    )


def index_sql(version: EmbeddingVersion, *, concurrently: bool) -> str:
    """DDL for the version's partial HNSW index. Every interpolated value is an int or a
    name derived from one, never text from outside."""
    kind = vector_type(int(version.dimensions))
    return (
        f"CREATE INDEX {'CONCURRENTLY ' if concurrently else ''}IF NOT EXISTS "
        f"{version.index_name} ON vector_store_vectorrecord USING hnsw "
        f"((embedding::{kind}({int(version.dimensions)})) {kind}_cosine_ops) "
        f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
        f"WHERE version_id = {int(version.pk)}"
    )


def version_index_create(*, version: EmbeddingVersion, defer: bool = False) -> None:
    """Create the version's HNSW index if it is missing.

    Outside a transaction it is built CONCURRENTLY, so writes to the table go on. Inside
    one, `defer` builds it concurrently after commit (a rollout started from the admin);
    otherwise (tests, the first write of a fresh install) it takes the table lock of a
    plain CREATE INDEX for the scan of the table. Side effects: DDL.
    """
    if defer and connection.in_atomic_block:
        transaction.on_commit(lambda: version_index_create(version=version))
        return
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # DDL refuses to run over the deferred FK checks of this transaction's
            # earlier writes: run them now, then defer again (Django's default).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(index_sql(version, concurrently=False))
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute(index_sql(version, concurrently=True))


def version_index_drop(*, version: EmbeddingVersion) -> None:
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {concurrently}IF EXISTS {version.index_name}")


def config_of(version: EmbeddingVersion) -> EmbeddingConfig:
    """The provider configuration of a version: its own provider, model, dimensions and
    endpoint, with the rest (secrets, timeouts, batch size) from the settings."""
    if version.provider == EXTERNAL:
        raise VersionError(
            f"the embedding version {version.name!r} was written by name only; Launch "
            "cannot embed text with it (pass query_embedding)"
        )
    current = EmbeddingConfig.from_settings()
    return EmbeddingConfig(
        provider=version.provider,
        model=version.model,
        dimensions=version.dimensions,
        base_url=version.base_url or current.base_url,
        api_key=current.api_key,
        timeout=current.timeout,
        batch_size=current.batch_size,
        max_retries=current.max_retries,
        send_dimensions=current.send_dimensions,
    )


def provider_for(version: EmbeddingVersion) -> EmbeddingProvider:
    """The (cached) provider that embeds text for `version`."""
    return get_provider_for(config_of(version))


def _unique_name(base: str) -> str:
    name, n = base, 1
    while EmbeddingVersion.objects.filter(name=name).exists():
        n += 1
        name = f"{base}#{n}"
    return name


def version_register(
    *, config: EmbeddingConfig, state: str | None = None, create_index: bool = True
) -> EmbeddingVersion:
    """The version for `config`, registered (with its HNSW index) if new.

    A new version is `active` when no version is, else `building`. Side effects: may
    insert a version row and create its index.
    """
    provider_name = config.provider.strip().lower().replace("_", "-")
    if config.dimensions <= 0:  # "the model's own": ask the model
        config = dataclasses.replace(config, dimensions=get_provider_for(config).dimensions)
    base_url = config.base_url if provider_name == "openai" else ""
    found = EmbeddingVersion.objects.filter(
        provider=provider_name, model=config.model, dimensions=config.dimensions, base_url=base_url
    ).first()
    if found is not None:
        return found
    provider = get_provider_for(config)
    return _register(
        name=provider.model_name,
        provider=provider_name,
        model=config.model,
        dimensions=provider.dimensions,
        base_url=base_url,
        state=state,
        create_index=create_index,
    )


def _register(
    *,
    name: str,
    provider: str,
    model: str,
    dimensions: int,
    base_url: str = "",
    state: str | None,
    create_index: bool,
) -> EmbeddingVersion:
    vector_type(dimensions)  # refuse what cannot be indexed before writing anything
    try:
        with transaction.atomic():
            version = EmbeddingVersion.objects.create(
                name=_unique_name(name),
                provider=provider,
                model=model,
                dimensions=dimensions,
                base_url=base_url,
                state=state or (STATE.BUILDING if _active() else STATE.ACTIVE),
                activated_at=None,
            )
            if version.state == STATE.ACTIVE:
                version.activated_at = timezone.now()
                version.save(update_fields=["activated_at"])
    except IntegrityError:
        # Another process registered the same configuration (or the first active) first.
        existing = EmbeddingVersion.objects.filter(
            provider=provider, model=model, dimensions=dimensions, base_url=base_url
        ).first()
        if existing is None:
            raise
        return existing
    if create_index:
        version_index_create(version=version)
    return version


def _active() -> EmbeddingVersion | None:
    return EmbeddingVersion.objects.filter(state=STATE.ACTIVE).first()


def active_version() -> EmbeddingVersion:
    """The active version; on a fresh install, the configured provider becomes it."""
    version = _active()
    if version is None:
        version = version_register(config=EmbeddingConfig.from_settings(), state=STATE.ACTIVE)
        if version.state != STATE.ACTIVE:
            # The configuration was registered earlier (building or retired): with no
            # active version at all, it is the only sensible one to serve.
            EmbeddingVersion.objects.filter(pk=version.pk).update(
                state=STATE.ACTIVE, activated_at=timezone.now()
            )
            version.refresh_from_db()
    return version


def version_named(name: str, *, dimensions: int | None = None) -> EmbeddingVersion | None:
    """The version called `name`. With `dimensions` (a writer's call), an unknown name is
    registered: as the configured provider's version when it carries that provider's
    name, else as an `external` version that only explicit searches by name use."""
    version = EmbeddingVersion.objects.filter(name=name).first()
    if version is not None or dimensions is None:
        return version
    configured = EmbeddingConfig.from_settings()
    provider = get_embedding_provider()
    if provider.model_name == name and provider.dimensions == dimensions:
        return version_register(config=configured)
    return _register(
        name=name,
        provider=EXTERNAL,
        model=name,
        dimensions=dimensions,
        state=STATE.BUILDING,
        create_index=True,
    )


def rollout_target() -> EmbeddingVersion | None:
    """The version being built to replace the active one, if a rollout is running."""
    return (
        EmbeddingVersion.objects.filter(state=STATE.BUILDING, replaces__state=STATE.ACTIVE)
        .order_by("-started_at")
        .first()
    )


# The active version and every version some of the scopes switched to early, with how
# many of the scopes each holds: one round trip decides a search's version.
_FOR_SCOPES = """
SELECT v.*, (
    SELECT count(*) FROM vector_store_scopeversion s
    WHERE s.version_id = v.id AND s.scope_id = ANY(%(scopes)s)
) AS switched
FROM vector_store_embeddingversion v
WHERE v.state = 'active' OR v.id IN (
    SELECT s.version_id FROM vector_store_scopeversion s WHERE s.scope_id = ANY(%(scopes)s)
)
"""


def version_for_scopes(scopes: Sequence[uuid.UUID] | None) -> EmbeddingVersion | None:
    """The one version a search over `scopes` compares; None when there is none yet.

    Scopes that already switched search the new version. A search across scopes on
    different versions uses the active one, which every scope still has complete while
    the rollout runs (writers write both), so no result ever mixes two models.

    A read only: with no version in sight nothing was ever stored, as far as this read
    can tell (a fresh install, or a replica that has not replayed the first writes
    yet), so there is nothing to search. Registering the configured version here, as
    writers do (`active_version`), would make every search a write: on the primary,
    pinning its user there and reading it instead of the replica.
    """
    wanted = list(dict.fromkeys(scopes or []))
    rows = list(EmbeddingVersion.objects.raw(_FOR_SCOPES, {"scopes": wanted}))
    active = next((v for v in rows if v.state == STATE.ACTIVE), None)
    switched = [v for v in rows if getattr(v, "switched", 0)]
    if (
        len(switched) == 1
        and switched[0].switched == len(wanted)  # type: ignore[attr-defined]
        and switched[0].state != STATE.RETIRED
    ):
        return switched[0]
    return active


def live_versions(*, scope_id: uuid.UUID) -> list[EmbeddingVersion]:
    """The versions a writer must write for `scope_id`: the active one and a rollout's
    target. The scope's search version comes first (its progress is what users see)."""
    active = active_version()
    versions = [active]
    target = rollout_target()
    if target is not None:
        switched = ScopeVersion.objects.filter(scope_id=scope_id, version=target).exists()
        versions = [target, active] if switched else [active, target]
    return versions
