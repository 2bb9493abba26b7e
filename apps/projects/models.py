"""Projects (shareable knowledge bases) and the documents uploaded into them.

A document has no grants of its own: who may see or change it is decided by its project
(see `apps.projects.permissions`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from launch.models import OwnedModel, RoleGrant, TimestampedModel, UserGrant, shared_grants_index

MIN_CONTEXT_TOKENS = 1_000
MAX_CONTEXT_TOKENS = 200_000
DEFAULT_CONTEXT_TOKENS = 100_000


class Project(OwnedModel):
    name = models.CharField(max_length=200)
    description = models.TextField(null=True, blank=True)  # noqa: DJ001  (the contract returns null)
    system_prompt = models.TextField(null=True, blank=True)  # noqa: DJ001
    max_context_tokens = models.PositiveIntegerField(
        default=DEFAULT_CONTEXT_TOKENS,
        validators=[MinValueValidator(MIN_CONTEXT_TOKENS), MaxValueValidator(MAX_CONTEXT_TOKENS)],
    )
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="projects")

    class Meta:
        ordering = ["-created_at", "id"]
        permissions = [("share_project", "Can share project")]
        indexes = [
            models.Index(fields=["owner", "-created_at", "id"], name="projects_owner_recent"),
            models.Index(fields=["team", "-created_at", "id"], name="projects_team_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    max_context_tokens__gte=MIN_CONTEXT_TOKENS,
                    max_context_tokens__lte=MAX_CONTEXT_TOKENS,
                ),
                name="project_max_context_tokens_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ProjectUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)

    class Meta(UserGrant.Meta):
        indexes = [shared_grants_index("projects")]


class ProjectGroupObjectPermission(RoleGrant):
    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)


def document_upload_to(document: Document, filename: str) -> str:
    """A generated storage name: the user's file name never reaches the file system."""
    return f"documents/{document.project_id}/{uuid.uuid4().hex}"


class Document(TimestampedModel):
    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(max_length=255, help_text="The uploaded name, sanitised.")
    file = models.FileField(upload_to=document_upload_to, max_length=300)
    file_type = models.CharField(max_length=20, help_text="Detected from the content.")
    document_type = models.CharField(max_length=50, default="other")
    file_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    total_chunks = models.PositiveIntegerField(default=0)
    processed_chunks = models.PositiveIntegerField(default=0)
    estimated_tokens = models.PositiveIntegerField(default=0)
    error_message = models.TextField(null=True, blank=True)  # noqa: DJ001
    task_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # Processing attempts started; bounds the sweeper so a poison document ends failed.
    attempts = models.PositiveSmallIntegerField(default=0)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    processing_completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            # The sweeper's scan: unfinished documents by last progress.
            models.Index(
                fields=["status", "updated_at"],
                name="document_unfinished_idx",
                condition=models.Q(status__in=["pending", "processing"]),
            ),
        ]

    def __str__(self) -> str:
        return self.filename

    # Embedding every chunk is not the end: the vectors are stored afterwards, in one
    # transaction that also marks the document completed. Until then progress stays below
    # 100, also when a worker died between the two (the sweeper picks the document up).
    PROGRESS_BEFORE_STORED = 99.0

    @property
    def progress_percentage(self) -> float:
        if self.status == self.Status.COMPLETED:
            return 100.0
        if not self.total_chunks:
            return 0.0
        embedded = 100.0 * self.processed_chunks / self.total_chunks
        return min(round(embedded, 1), self.PROGRESS_BEFORE_STORED)
