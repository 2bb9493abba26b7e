"""Project and document writes, the ingestion pipeline and search: the only writers."""

from apps.projects.services.documents import (
    NotRetryable,
    document_delete,
    document_mark_failed,
    document_reprocess,
    document_requeue,
    document_retry,
    document_update,
    documents_requeue_stuck,
)
from apps.projects.services.ingestion import TransientEmbeddingError, document_ingest
from apps.projects.services.projects import project_create, project_delete, project_update
from apps.projects.services.search import DocumentHit, document_search
from apps.projects.services.uploads import (
    UploadTooLarge,
    document_upload,
    max_upload_bytes,
    sanitize_filename,
)

__all__ = [
    "DocumentHit",
    "NotRetryable",
    "TransientEmbeddingError",
    "UploadTooLarge",
    "document_delete",
    "document_ingest",
    "document_mark_failed",
    "document_reprocess",
    "document_requeue",
    "document_retry",
    "document_search",
    "document_update",
    "document_upload",
    "documents_requeue_stuck",
    "max_upload_bytes",
    "project_create",
    "project_delete",
    "project_update",
    "sanitize_filename",
]
