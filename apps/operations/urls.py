from apps.operations.viewsets import ActivityViewSet
from launch.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("activity", ActivityViewSet, basename="activity")

urlpatterns = router.urls
