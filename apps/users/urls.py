from django.urls import URLPattern, URLResolver, re_path

from apps.users import views
from apps.users.viewsets import UserViewSet
from launch.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("users", UserViewSet, basename="user")

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^login/access-token/?$", views.LoginView.as_view(), name="login-access-token"),
    re_path(r"^login/refresh/?$", views.RefreshView.as_view(), name="login-refresh"),
    re_path(r"^login/test-token/?$", views.TestTokenView.as_view(), name="login-test-token"),
    re_path(r"^logout/?$", views.LogoutView.as_view(), name="logout"),
    re_path(
        r"^password-recovery/(?P<email>[^/]+)/?$",
        views.PasswordRecoveryView.as_view(),
        name="password-recovery",
    ),
    re_path(
        r"^password-recovery-html-content/(?P<email>[^/]+)/?$",
        views.PasswordRecoveryHtmlView.as_view(),
        name="password-recovery-html-content",
    ),
    re_path(r"^reset-password/?$", views.ResetPasswordView.as_view(), name="reset-password"),
    re_path(r"^private/users/?$", views.PrivateUserCreateView.as_view(), name="private-users"),
    *router.urls,
]
