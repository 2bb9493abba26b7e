from apps.tags.viewsets import TagViewSet
from launch.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("tags", TagViewSet, basename="tags")

urlpatterns = router.urls
