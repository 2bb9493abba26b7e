"""Reads of the vector store for the admin."""

from __future__ import annotations

from django.db import connections, router

from launch.vector_store.models import VectorRecord

# The distinct (version, source type) pairs, read as a skip scan of the unique index
# (version, source_type, source_id, chunk_index): one index probe per pair instead of
# reading every row, so the admin's filters cost the same on a table of millions.
_PRESENT_KINDS = """
WITH RECURSIVE kinds AS (
    (SELECT version_id, source_type_id FROM {table}
     ORDER BY version_id, source_type_id LIMIT 1)
    UNION ALL
    SELECT later.version_id, later.source_type_id
    FROM kinds, LATERAL (
        SELECT version_id, source_type_id FROM {table}
        WHERE (version_id, source_type_id) > (kinds.version_id, kinds.source_type_id)
        ORDER BY version_id, source_type_id LIMIT 1
    ) AS later
)
SELECT version_id, source_type_id FROM kinds
"""


def record_kinds() -> list[tuple[int, int]]:
    """(embedding version id, source content type id) of every kind of record stored."""
    sql = _PRESENT_KINDS.format(table=VectorRecord._meta.db_table)
    with connections[router.db_for_read(VectorRecord)].cursor() as cursor:
        cursor.execute(sql)
        return [(int(version), int(source_type)) for version, source_type in cursor.fetchall()]
