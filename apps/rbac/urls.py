from django.urls import URLPattern, URLResolver, re_path

from apps.rbac.viewsets import MyPermissionsView, PermissionViewSet, RoleViewSet
from launch.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("roles", RoleViewSet, basename="roles")
router.register("permissions", PermissionViewSet, basename="permissions")

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^users/me/permissions/?$", MyPermissionsView.as_view(), name="me-permissions"),
    *router.urls,
]
