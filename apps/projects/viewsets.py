from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.projects import services
from apps.projects.filters import DocumentPermissionFilter
from apps.projects.models import Document, Project
from apps.projects.permissions import DocumentPermission
from apps.projects.selectors import project_capacity, with_capacity
from apps.projects.serializers import (
    CapacitySerializer,
    DocumentProgressSerializer,
    DocumentSerializer,
    DocumentUpdateSerializer,
    DocumentUploadSerializer,
    ProjectDetailSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    SearchHitSerializer,
    SearchRequestSerializer,
    SearchResultsSerializer,
)
from apps.usage.attribution import request_usage
from apps.users.models import User
from apps.users.serializers import MessageSerializer
from launch.ai.extraction import UnsupportedDocumentType
from launch.api.exceptions import PayloadTooLarge
from launch.api.pagination import SkipLimitPagination
from launch.api.permissions import ModelPermission
from launch.api.sharing import ShareableMixin, shares_schema
from launch.api.teams import request_team
from launch.api.throttles import SearchThrottle, UploadThrottle
from launch.api.viewsets import DeleteMessageMixin, LaunchGenericViewSet, LaunchModelViewSet
from launch.replicas import replica_reads

# Multipart framing around the file: boundaries, part headers, the document_type field.
MULTIPART_OVERHEAD = 64 * 1024


@extend_schema_view(
    list=extend_schema(
        operation_id="projects-get_projects",
        summary="Projects you may view",
        responses=ProjectDetailSerializer(many=True),
    ),
    create=extend_schema(
        operation_id="projects-create_project", responses={201: ProjectDetailSerializer}
    ),
    retrieve=extend_schema(operation_id="projects-get_project"),
    partial_update=extend_schema(
        operation_id="projects-update_project",
        request=ProjectUpdateSerializer,
        responses=ProjectDetailSerializer,
    ),
    update=extend_schema(exclude=True),  # upstream has PATCH only; PUT answers 405
    destroy=extend_schema(
        operation_id="projects-delete_project", responses={200: MessageSerializer}
    ),
    shares=shares_schema("projects", "project"),
)
class ProjectViewSet(ShareableMixin, LaunchModelViewSet):
    queryset = Project.objects.all()
    serializer_class = ProjectSerializer
    lookup_url_kwarg = "project_id"
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["-created_at"]
    replica_actions = frozenset({"list", "documents"})

    def get_serializer_class(self) -> Any:
        if self.action in ("list", "retrieve"):
            return ProjectDetailSerializer
        if self.action == "partial_update":
            return ProjectUpdateSerializer
        return super().get_serializer_class()

    def get_queryset(self) -> QuerySet[Project]:
        # Upstream's ProjectPublic: each project with its documents and capacity, lists
        # included; prefetched and annotated, so a page costs the same few queries.
        if self.action in ("list", "retrieve"):
            return with_capacity(Project.objects.prefetch_related("documents"))
        return super().get_queryset()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().create(request, *args, **kwargs)
        response.data = self._detail(response.data["id"])
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not kwargs.get("partial"):
            return self.http_method_not_allowed(request, *args, **kwargs)
        response = super().update(request, *args, **kwargs)
        response.data = self._detail(response.data["id"])
        return response

    @staticmethod
    def _detail(project_id: Any) -> Any:
        """Writes answer upstream's ProjectPublic: the project with documents and capacity."""
        project = with_capacity(Project.objects.prefetch_related("documents")).get(pk=project_id)
        return ProjectDetailSerializer(project).data

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.project_create(
            user=cast(User, self.request.user),
            team=request_team(self.request),
            **serializer.validated_data,
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.project_update(
            project=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Any) -> None:
        services.project_delete(project=instance)

    @extend_schema(operation_id="projects-get_project_capacity", responses=CapacitySerializer)
    @action(detail=True, methods=["get"])
    def capacity(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(CapacitySerializer(project_capacity(self.get_object())).data)

    @extend_schema(
        operation_id="projects-get_project_documents",
        responses=DocumentSerializer(many=True),
    )
    # The upload (POST, below) shares this route but writes to the project: `change`.
    @action(
        detail=True,
        methods=["get"],
        pagination_class=SkipLimitPagination,
        permission_action={"POST": "change"},
    )
    def documents(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_object()
        page = self.paginate_queryset(project.documents.order_by("-created_at", "id"))
        return self.get_paginated_response(DocumentSerializer(page, many=True).data)

    @extend_schema(
        operation_id="projects-upload_document",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={
            201: DocumentSerializer,
            403: OpenApiResponse(
                description="No right to change the project, or the team's plan's documents "
                "or storage would be passed (`quota`, `limit`, `used`; nothing is stored)."
            ),
            413: OpenApiResponse(description="Larger than DOCUMENT_MAX_UPLOAD_MB."),
            415: OpenApiResponse(description="Not a supported type, or not the claimed one."),
            429: OpenApiResponse(description="THROTTLE_UPLOAD_RATE reached (Retry-After)."),
        },
    )
    @documents.mapping.post
    def upload_document(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_object()
        # Refuse before reading the body: Django would spool it to a temporary file first.
        limit = services.max_upload_bytes()
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ParseError("Invalid Content-Length.") from None
        if declared > limit + MULTIPART_OVERHEAD:
            raise PayloadTooLarge(self._too_large_message())
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            document = services.document_upload(
                user=cast(User, request.user),
                project=project,
                upload=upload,
                filename=upload.name,
                document_type=serializer.validated_data["document_type"],
            )
        except services.UploadTooLarge:
            raise PayloadTooLarge(self._too_large_message()) from None
        except UnsupportedDocumentType as error:
            raise UnsupportedMediaType(upload.content_type or "", detail=error.message) from None
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    def get_throttles(self) -> list[Any]:
        if getattr(self, "action", None) == "upload_document":
            return [UploadThrottle()]
        return super().get_throttles()

    @staticmethod
    def _too_large_message() -> str:
        return f"The file is larger than the {settings.DOCUMENT_MAX_UPLOAD_MB} MB limit."


@extend_schema_view(
    retrieve=extend_schema(operation_id="documents-get_document"),
    partial_update=extend_schema(
        operation_id="documents-update_document",
        request=DocumentUpdateSerializer,
        responses=DocumentSerializer,
    ),
    destroy=extend_schema(
        operation_id="documents-delete_document", responses={200: MessageSerializer}
    ),
)
class DocumentViewSet(DeleteMessageMixin, mixins.RetrieveModelMixin, LaunchGenericViewSet):
    queryset = Document.objects.select_related("project")
    serializer_class = DocumentSerializer
    lookup_url_kwarg = "document_id"
    permission_classes = [DocumentPermission]
    filter_backends = [DocumentPermissionFilter]

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        document = self.get_object()
        serializer = DocumentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = services.document_update(document=document, **serializer.validated_data)
        return Response(DocumentSerializer(document).data)

    def perform_destroy(self, instance: Any) -> None:
        services.document_delete(document=instance)

    @extend_schema(
        operation_id="documents-get_document_progress", responses=DocumentProgressSerializer
    )
    @action(detail=True, methods=["get"])
    def progress(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(DocumentProgressSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="documents-retry_document_processing",
        request=None,
        responses={200: DocumentSerializer, 400: OpenApiResponse(description="Not failed.")},
    )
    @action(detail=True, methods=["post"], permission_action="change")
    def retry(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            document = services.document_retry(document=self.get_object())
        except services.NotRetryable as error:
            raise ParseError(str(error)) from None
        return Response(DocumentSerializer(document).data)


class SearchView(APIView):
    # Search reads projects: the role needs `projects.view_project`; hits come from the
    # current team's projects only.
    permission_classes = [ModelPermission]
    team_scoped = True
    throttle_classes = [SearchThrottle]
    permission_model = Project
    permission_action = "view"

    @extend_schema(
        operation_id="search-search_documents",
        request=SearchRequestSerializer,
        responses={
            200: SearchResultsSerializer,
            404: OpenApiResponse(description="A project in `project_ids` you may not view."),
            429: OpenApiResponse(description="THROTTLE_SEARCH_RATE reached (Retry-After)."),
        },
        summary="Search the documents of the projects you may view",
    )
    def post(self, request: Request) -> Response:
        serializer = SearchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        # Replica: a document processed a moment ago may show up a moment later.
        with replica_reads(), request_usage(request):
            hits = services.document_search(
                user=request.user,
                query=params["query"],
                project_ids=params.get("project_ids"),
                k=params.get("k") or int(settings.SEARCH_DEFAULT_K),
                mode=params["mode"],
                document_types=params.get("document_types"),
                team_id=request_team(request).pk,
            )
        data = SearchHitSerializer(hits, many=True).data
        return Response({"data": data, "count": len(hits)})
