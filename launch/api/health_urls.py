from django.urls import re_path

from launch.api.health import HealthCheckView, TestEmailView

urlpatterns = [
    re_path(r"^utils/health-check/?$", HealthCheckView.as_view(), name="health-check"),
    re_path(r"^utils/test-email/?$", TestEmailView.as_view(), name="test-email"),
]
