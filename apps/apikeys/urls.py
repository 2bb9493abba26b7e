from apps.apikeys.viewsets import ApiKeyViewSet
from launch.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("api-keys", ApiKeyViewSet, basename="api-keys")

urlpatterns = router.urls
