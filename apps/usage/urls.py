from django.urls import re_path

from apps.usage.views import MyUsageView, UsageView

urlpatterns = [
    re_path(r"^usage/me/?$", MyUsageView.as_view(), name="usage-me"),
    re_path(r"^usage/?$", UsageView.as_view(), name="usage"),
]
