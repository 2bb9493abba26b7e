from django.urls import re_path

from apps.projects.viewsets import DocumentViewSet, ProjectViewSet, SearchView
from launch.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("projects", ProjectViewSet, basename="projects")
router.register("documents", DocumentViewSet, basename="documents")

urlpatterns = [
    re_path(r"^search/?$", SearchView.as_view(), name="search"),
    *router.urls,
]
