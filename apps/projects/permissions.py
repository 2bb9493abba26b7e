"""Documents inherit their project's permissions.

Model layer: the role permission on projects (`projects.view_project` to read documents,
`projects.change_project` to upload, edit, delete or retry them). Object layer: the grants
on the document's project, in the current team (a document's team is its project's:
documents carry no team column, every query reaches them through their project); without
`view` the document does not exist for you (404).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from launch.api.permissions import acts_as_superuser, request_has_perm, required_action
from launch.api.teams import request_team
from launch.permissions import object_actions_of

# What a document action needs on the project: reading is `view`, any write is `change`.
DOCUMENT_TO_PROJECT_ACTION = {
    "view": "view",
    "add": "change",
    "change": "change",
    "delete": "change",
}


def project_action(request: Request, view: Any) -> str:
    return DOCUMENT_TO_PROJECT_ACTION.get(required_action(request, view), "")


class DocumentPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = project_action(request, view)
        if not action:
            return acts_as_superuser(request)
        return request_has_perm(request, f"projects.{action}_project")

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        held = object_actions_of(request.user, obj.project, team_id=request_team(request).pk)
        if "view" not in held:
            raise Http404
        return project_action(request, view) in held
