from django.urls import URLPattern, URLResolver, re_path

from apps.apikeys.viewsets import ApiKeyViewSet, TeamApiKeyViewSet
from launch.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("api-keys", ApiKeyViewSet, basename="api-keys")

# As in apps.teams.urls: ids matched loosely and parsed by the views (a malformed one is
# a 404 in the envelope).
TEAM_KEYS = r"^teams/(?P<team_id>[^/]+)/api-keys"

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    re_path(
        rf"{TEAM_KEYS}/?$",
        TeamApiKeyViewSet.as_view({"get": "list", "post": "create"}),
        name="team-api-keys",
    ),
    re_path(
        rf"{TEAM_KEYS}/(?P<key_id>[^/]+)/?$",
        TeamApiKeyViewSet.as_view({"delete": "destroy"}),
        name="team-api-key",
    ),
]
