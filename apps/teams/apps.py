from typing import Any

from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class TeamsConfig(AppConfig):
    name = "apps.teams"
    label = "teams"
    verbose_name = "Teams"

    def ready(self) -> None:
        # A user's teams and team roles are part of its cached rights
        # (`launch.rights_cache`): every write of a membership, and every change of a
        # custom role's permissions, replaces its members' generations. Signals rather
        # than calls in each service, so the admin, cascades (a team or a user deleted)
        # and every service are covered alike; `restore_default`'s bulk update calls it.
        from apps.teams.models import Membership, TeamRole

        post_save.connect(_membership_changed, sender=Membership, dispatch_uid="teams_rights")
        post_delete.connect(_membership_changed, sender=Membership, dispatch_uid="teams_rights")
        m2m_changed.connect(
            _role_permissions_changed,
            sender=TeamRole.permissions.through,
            dispatch_uid="teams_rights",
        )


def _membership_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from launch.rights_cache import user_rights_changed

    user_rights_changed([instance.user_id])


def _role_permissions_changed(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    if not action.startswith("post_"):
        return
    from apps.teams.models import Membership, TeamRole
    from launch.rights_cache import user_rights_changed

    roles = [instance.pk] if isinstance(instance, TeamRole) else list(kwargs.get("pk_set") or ())
    user_rights_changed(
        Membership.objects.filter(role_id__in=roles).values_list("user_id", flat=True)
    )
