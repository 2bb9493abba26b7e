from apps.items.viewsets import ItemViewSet
from launch.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("items", ItemViewSet, basename="items")

urlpatterns = router.urls
