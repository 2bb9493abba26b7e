from django.apps import AppConfig


class LaunchConfig(AppConfig):
    name = "launch"
    verbose_name = "Launch core"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import post_delete, post_migrate, post_save

        from launch import (
            checks,  # noqa: F401  (registers the system checks)
            metrics,  # noqa: F401  (connects the Celery task signals)
        )
        from launch.permissions import forget_permission_ids
        from launch.rights_cache import role_saved, user_saved

        post_migrate.connect(forget_permission_ids, dispatch_uid="launch-forget-permission-ids")
        # A saved or deleted user's cached row and rights are stale (launch/rights_cache.py).
        user_model = get_user_model()
        post_save.connect(user_saved, sender=user_model, dispatch_uid="launch-user-saved")
        post_delete.connect(user_saved, sender=user_model, dispatch_uid="launch-user-deleted")
        post_save.connect(role_saved, sender=Group, dispatch_uid="launch-role-saved")
        post_delete.connect(role_saved, sender=Group, dispatch_uid="launch-role-deleted")
