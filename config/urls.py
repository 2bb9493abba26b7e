from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from launch.api.views import api_not_found
from launch.metrics import metrics_view

api_v1: list[URLPattern | URLResolver] = [
    path("", include("apps.users.urls")),
    path("", include("apps.rbac.urls")),
    path("", include("apps.apikeys.urls")),
    path("", include("apps.tags.urls")),
    path("", include("apps.items.urls")),
    path("", include("apps.projects.urls")),
    path("", include("apps.chat.urls")),
    path("", include("apps.teams.urls")),
    path("", include("apps.usage.urls")),
    path("", include("apps.operations.urls")),
    path("", include("launch.api.health_urls")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
]

admin.site.site_header = "Launch control room"
admin.site.site_title = "Launch admin"
admin.site.index_title = "Control room"

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="openapi-schema"), name="redoc"),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
]

handler404 = api_not_found
handler500 = "launch.api.views.server_error"
