"""Launch's URLs plus bare baseline views (never part of the product)."""

from django.urls import path

from bench.baseline import items_list_generic_guardian, users_list_bare, users_me_bare
from config.urls import urlpatterns as launch_urlpatterns

urlpatterns = [
    path("bench/items", items_list_generic_guardian),
    path("bench/users", users_list_bare),
    path("bench/me", users_me_bare),
    *launch_urlpatterns,
]
