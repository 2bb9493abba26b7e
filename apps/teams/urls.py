from django.urls import URLPattern, URLResolver, re_path

from apps.teams.viewsets import (
    InvitationTokenViewSet,
    InvitationViewSet,
    MemberViewSet,
    TeamActivityViewSet,
    TeamPermissionViewSet,
    TeamRoleViewSet,
    TeamViewSet,
)

# Ids are matched loosely here and parsed by the views, so a malformed one is a 404
# in the envelope rather than Django's HTML 404.
ID = r"[^/]+"
TEAM = rf"^teams/(?P<team_id>{ID})"
LINK = r"(?P<token>[^/]+)"

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^teams/?$", TeamViewSet.as_view({"get": "list", "post": "create"}), name="teams"),
    re_path(
        rf"{TEAM}/?$",
        TeamViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="team",
    ),
    re_path(rf"{TEAM}/members/?$", MemberViewSet.as_view({"get": "list"}), name="team-members"),
    re_path(
        rf"{TEAM}/members/(?P<user_id>{ID})/?$",
        MemberViewSet.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="team-member",
    ),
    re_path(
        rf"{TEAM}/roles/?$",
        TeamRoleViewSet.as_view({"get": "list", "post": "create"}),
        name="team-roles",
    ),
    re_path(
        rf"{TEAM}/roles/(?P<role_id>{ID})/?$",
        TeamRoleViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="team-role",
    ),
    re_path(
        rf"{TEAM}/permissions/?$",
        TeamPermissionViewSet.as_view({"get": "list"}),
        name="team-permissions",
    ),
    re_path(
        rf"{TEAM}/invitations/?$",
        InvitationViewSet.as_view({"get": "list", "post": "create"}),
        name="team-invitations",
    ),
    re_path(
        rf"{TEAM}/invitations/(?P<invitation_id>{ID})/?$",
        InvitationViewSet.as_view({"delete": "destroy"}),
        name="team-invitation",
    ),
    re_path(
        rf"{TEAM}/invitations/(?P<invitation_id>{ID})/resend/?$",
        InvitationViewSet.as_view({"post": "resend"}),
        name="team-invitation-resend",
    ),
    re_path(
        rf"{TEAM}/activity/?$",
        TeamActivityViewSet.as_view({"get": "list"}),
        name="team-activity",
    ),
    re_path(
        rf"^invitations/{LINK}/?$",
        InvitationTokenViewSet.as_view({"get": "retrieve"}),
        name="invitation",
    ),
    re_path(
        rf"^invitations/{LINK}/accept/?$",
        InvitationTokenViewSet.as_view({"post": "accept"}),
        name="invitation-accept",
    ),
]
