"""The admin as a control room, and staff limited to what their permissions allow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django_celery_results.models import GroupResult, TaskResult

from apps.operations.services import decode_task_arguments, usage_record
from apps.users.models import User
from tests.factories import create_item

pytestmark = pytest.mark.django_db


def cards(response) -> dict[str, dict[str, int]]:
    return {
        card.title: {stat.label: stat.value for stat in card.stats}
        for card in response.context["control_room"]
    }


def test_control_room_shows_live_numbers(admin_client, make_user):
    make_user(is_active=False)
    make_user()
    TaskResult.objects.create(task_id="boom", task_name="x", status="FAILURE")
    usage_record(name="search")
    usage_record(name="search")

    response = admin_client.get("/admin/")
    assert response.status_code == 200
    numbers = cards(response)
    assert numbers["Users"]["active"] == User.objects.filter(is_active=True).count()
    assert numbers["Users"]["new this week"] == User.objects.count()
    assert numbers["Tasks"]["failed in the last 24 h"] == 1
    assert numbers["Volume"]["searches today"] == 2
    assert "Documents by status" in numbers
    assert "Projects" in numbers
    page = response.content.decode()
    assert 'class="control-room"' in page
    assert "/admin/django_celery_results/taskresult/?status__exact=FAILURE" in page


def test_failed_documents_link_to_the_filtered_changelist(admin_client):
    response = admin_client.get("/admin/")
    (failed,) = [
        stat
        for card in response.context["control_room"]
        if card.title == "Documents by status"
        for stat in card.stats
        if stat.label == "failed"
    ]
    assert failed.url.endswith("?status__exact=failed")


def test_staff_see_only_cards_and_models_they_may_view(staff_with, superuser):
    client, _ = staff_with("users.view_user")
    create_item(owner=superuser, title="Hidden item")
    response = client.get("/admin/")
    assert response.status_code == 200
    assert list(cards(response)) == ["Users"]
    page = response.content.decode()
    assert "/admin/users/user/" in page
    assert "/admin/items/item/" not in page
    assert client.get("/admin/items/item/").status_code == 403
    assert client.get("/admin/django_celery_results/taskresult/").status_code == 403


def test_staff_view_only_cannot_change(staff_with, make_user):
    client, _ = staff_with("users.view_user")
    target = make_user(full_name="Target")
    change = f"/admin/users/user/{target.pk}/change/"
    assert client.get(change).status_code == 200
    response = client.post(change, {"email": target.email, "full_name": "Changed"})
    assert response.status_code == 403
    assert User.objects.get(pk=target.pk).full_name == "Target"


def test_staff_with_item_permission_sees_items(staff_with):
    client, _ = staff_with("items.view_item")
    assert client.get("/admin/items/item/").status_code == 200
    assert client.get("/admin/users/user/").status_code == 403


def test_assign_role_action_asks_then_assigns(admin_client, make_user, roles):
    users = [make_user(), make_user()]
    data = {"action": "assign_role", ACTION_CHECKBOX_NAME: [str(u.pk) for u in users]}
    form = admin_client.post("/admin/users/user/", data)
    assert form.status_code == 200
    assert b"Assign role" in form.content

    done = admin_client.post(
        "/admin/users/user/", {**data, "apply": "1", "role": roles["viewer"].pk}
    )
    assert done.status_code == 302
    for user in users:
        assert user.groups.filter(name="viewer").exists()


def test_assign_role_needs_role_management_permission(staff_with, make_user):
    client, _ = staff_with("users.view_user", "users.change_user")
    target = make_user()
    role = Group.objects.create(name="powerful")
    client.post(
        "/admin/users/user/",
        {
            "action": "assign_role",
            ACTION_CHECKBOX_NAME: [str(target.pk)],
            "apply": "1",
            "role": role.pk,
        },
    )
    assert not target.groups.filter(pk=role.pk).exists()


def broker_messages() -> list[dict]:
    queue = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    return [json.loads(path.read_text()) for path in queue.iterdir()]


def test_rerun_sends_a_failed_task_again_with_its_arguments(
    admin_client, django_capture_on_commit_callbacks
):
    failed = TaskResult.objects.create(
        task_id="t-failed",
        task_name="apps.operations.tasks.prune_activity",
        status="FAILURE",
        task_args=json.dumps("('a', 2)"),
        task_kwargs=json.dumps("{'flag': True}"),
    )
    TaskResult.objects.create(task_id="t-ok", task_name="x", status="SUCCESS")
    before = len(broker_messages())
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/django_celery_results/taskresult/",
            {
                "action": "rerun",
                ACTION_CHECKBOX_NAME: [
                    str(failed.pk),
                    str(TaskResult.objects.get(task_id="t-ok").pk),
                ],
            },
        )
    assert response.status_code == 302
    messages = broker_messages()
    assert len(messages) == before + 1
    assert decode_task_arguments(failed) == (["a", 2], {"flag": True})
    headers = messages[-1]["headers"]
    assert headers["task"] == "apps.operations.tasks.prune_activity"
    assert headers["argsrepr"] == "['a', 2]"


def test_activity_admin_is_read_only_and_searchable(admin_client, superuser):
    create_item(owner=superuser, title="Searchable thing")
    entry = LogEntry.objects.get(object_repr="Searchable thing")
    LogEntry.objects.filter(pk=entry.pk).update(actor=superuser)
    for query in (superuser.email, "Searchable"):
        changelist = admin_client.get("/admin/auditlog/logentry/", {"q": query})
        assert changelist.status_code == 200
        assert b"Searchable thing" in changelist.content
    assert admin_client.get("/admin/auditlog/logentry/add/").status_code == 403
    change = f"/admin/auditlog/logentry/{entry.pk}/change/"
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"object_repr": "tampered"}).status_code == 403
    assert admin_client.post(f"/admin/auditlog/logentry/{entry.pk}/delete/").status_code == 403
    assert LogEntry.objects.get(pk=entry.pk).object_repr == "Searchable thing"


@pytest.mark.parametrize(
    ("model", "make"),
    [
        ("taskresult", lambda: TaskResult.objects.create(task_id="t-view", status="SUCCESS")),
        ("groupresult", lambda: GroupResult.objects.create(group_id="g-view")),
    ],
)
def test_celery_results_are_read_only(admin_client, model, make):
    row = make()
    base = f"/admin/django_celery_results/{model}"
    change = f"{base}/{row.pk}/change/"
    view = admin_client.get(change)
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert admin_client.get(f"{base}/add/").status_code == 403
    assert admin_client.post(change, {"status": "FAILURE"}).status_code == 403
    assert admin_client.post(f"{base}/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()


def test_rerun_is_offered_to_who_may_change_results_only(staff_with):
    TaskResult.objects.create(task_id="t-failed", task_name="x", status="FAILURE")
    changelist = "/admin/django_celery_results/taskresult/"
    viewer, _ = staff_with("django_celery_results.view_taskresult")
    page = viewer.get(changelist)
    assert page.status_code == 200
    assert 'value="rerun"' not in page.content.decode()
    operator, _ = staff_with(
        "django_celery_results.view_taskresult", "django_celery_results.change_taskresult"
    )
    assert 'value="rerun"' in operator.get(changelist).content.decode()
