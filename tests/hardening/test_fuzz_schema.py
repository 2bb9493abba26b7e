"""Schema fuzzing: schemathesis drives every operation of Launch's own OpenAPI schema
against a real HTTP server on loopback (pytest-django's `live_server`).

Two members, each with an item, a tag, a project with a processed document and a
conversation, send generated requests; every response must be free of 5xx and match the
schema (status code, content type, headers, body, error envelope). On routes with an id,
half of the cases aim at the caller's own rows, so the fuzzer reaches past 404; a third of
the rest break the schema on purpose and must get a documented 4xx. Anonymous calls to
protected operations must get 401.

The same work on every run, however slow the machine: every operation, as each member,
gets `LAUNCH_FUZZ_EXAMPLES` generated cases (default 8; fewer only for an operation
with fewer distinct requests, such as one without parameters), and no clock decides
what is left out. Replay a failure with the seed the test prints:
`LAUNCH_FUZZ_SEED=<seed> pytest tests/hardening/test_fuzz_schema.py`. Without it the seed is
random, except under CI (`CI` set), where it is fixed so a run is reproducible.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis import checks as st_checks

from apps.chat import services as chat
from apps.teams.services import team_create
from apps.users.models import User
from tests.conftest import bearer
from tests.factories import create_item, create_tag, make_member, roles
from tests.projects.conftest import create_project, ingest
from tests.support.reliability import record

__all__ = ["make_member", "roles"]

pytestmark = [
    pytest.mark.promise(4),
    pytest.mark.django_db(transaction=True),
]

EXAMPLES = int(os.environ.get("LAUNCH_FUZZ_EXAMPLES", "8"))
CI_SEED = 20260


def sample_path_value(parameter: dict[str, Any]) -> str:
    """A well-formed value (a UUID or a number), so routing matches and auth answers."""
    schema = parameter["schema"]
    if schema.get("type") == "integer" or "\\d" in schema.get("pattern", ""):
        return "1"
    return "00000000-0000-4000-8000-000000000000"


def fuzz_seed() -> int:
    if os.environ.get("LAUNCH_FUZZ_SEED"):
        return int(os.environ["LAUNCH_FUZZ_SEED"])
    return CI_SEED if os.environ.get("CI") else random.randrange(2**32)


CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
]

# Run last, in this order: they destroy what the other operations work on. Deleting
# oneself must be the very last call of a user (every later call would be a 401).
DESTRUCTIVE_LAST = ("DELETE", "POST /api/v1/logout/", "DELETE /api/v1/users/me/")


@dataclass
class Identity:
    user: User
    headers: dict[str, str]
    # Path parameter values that name this user's own rows, per path prefix.
    own: dict[str, dict[str, str]] = field(default_factory=dict)

    def path_parameters(self, path: str) -> dict[str, str] | None:
        for prefix, values in self.own.items():
            if path.startswith(prefix):
                return values
        return None


def make_identity(user: User) -> Identity:
    tag = create_tag(created_by=user)
    item = create_item(owner=user, tags=[tag])
    project = create_project(owner=user)
    document = ingest(project=project)
    conversation = chat.conversation_create(user=user, title="Tides", project_id=project.pk)
    own_role = user.groups.get()
    team = team_create(actor=user, name="Tide watchers")
    return Identity(
        user=user,
        headers={"Authorization": bearer(user)},
        own={
            "/api/v1/items/": {"id": str(item.pk)},
            "/api/v1/tags/": {"id": str(tag.pk)},
            "/api/v1/roles/": {"id": str(own_role.pk), "user_id": str(user.pk)},
            "/api/v1/projects/": {"project_id": str(project.pk)},
            "/api/v1/documents/": {"document_id": str(document.pk)},
            "/api/v1/chat/conversations/": {"conversation_id": str(conversation.pk)},
            "/api/v1/users/": {"user_id": str(user.pk)},
            "/api/v1/teams/": {
                "team_id": str(team.pk),
                "user_id": str(user.pk),
                "role_id": str(team.roles.get(key="viewer").pk),
            },
            "/api/v1/password-recovery": {"email": user.email},
        },
    )


def label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def ordered(operations: list[Any]) -> list[Any]:
    def rank(operation: Any) -> tuple[int, str]:
        name = label(operation)
        last = max(
            (i + 1 for i, key in enumerate(DESTRUCTIVE_LAST) if name.startswith(key)), default=0
        )
        return last, name

    return sorted(operations, key=rank)


def is_protected(operation: Any) -> bool:
    security = operation.definition.raw.get("security")
    return bool(security) and {} not in security


@pytest.fixture
def fuzz_schema(live_server: Any) -> Any:
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")


class Counter:
    def __init__(self) -> None:
        self.sent: dict[str, int] = {}

    def send(self, case: Any, base_url: str, headers: dict[str, str] | None) -> Any:
        name = label(case.operation)
        self.sent[name] = self.sent.get(name, 0) + 1
        return case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)


def fuzz_operation(
    operation: Any, identity: Identity, send: Callable[..., Any], base_url: str, run_seed: int
) -> None:
    # Mostly valid requests, which reach deep; some that break the schema, which must
    # still get a documented 4xx, never a 5xx.
    generated = st.one_of(
        operation.as_strategy(),
        operation.as_strategy(),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    own = identity.path_parameters(operation.path)
    strategy = generated
    if own is not None and operation.path_parameters:
        names = {parameter.name for parameter in operation.path_parameters}
        fixed = {name: value for name, value in own.items() if name in names}
        if fixed:
            strategy = st.one_of(generated, operation.as_strategy(path_parameters=fixed))

    @seed(run_seed)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        send(case, base_url, identity.headers)

    run()


def operations_of(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        yield result.ok()


def test_every_operation_conforms_for_two_members(fuzz_schema, live_server, make_member, capsys):
    run_seed = fuzz_seed()
    with capsys.disabled():
        print(f"\nschema fuzzing seed: LAUNCH_FUZZ_SEED={run_seed}")
    identities = [make_identity(make_member()), make_identity(make_member())]
    counter = Counter()
    failures: list[str] = []
    operations = ordered(list(operations_of(fuzz_schema)))
    for operation in operations:
        for identity in identities:
            try:
                fuzz_operation(operation, identity, counter.send, live_server.url, run_seed)
            # schemathesis raises its findings as an exception group; collect them all.
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{label(operation)} as {identity.user.email}:\n{exc}")
    sent = sum(counter.sent.values())
    record("requests fuzzed", sent)
    with capsys.disabled():
        print(
            f"schema fuzzing: {sent} requests, {len(operations)} operations, "
            f"at most {EXAMPLES} cases per operation and member (seed {run_seed})"
        )
    assert not failures, f"seed {run_seed}\n\n" + "\n\n".join(failures)
    # Every operation was sent requests, on every run: nothing is left out.
    assert sorted(counter.sent) == sorted(label(operation) for operation in operations)


@pytest.mark.promise(2)
def test_anonymous_calls_to_protected_operations_get_401(fuzz_schema, live_server):
    protected = [op for op in operations_of(fuzz_schema) if is_protected(op)]
    assert protected
    wrong = []
    for operation in protected:
        path = operation.path
        for parameter in operation.definition.raw.get("parameters", []):
            if parameter["in"] == "path":
                path = path.replace(f"{{{parameter['name']}}}", sample_path_value(parameter))
        response = requests.request(
            operation.method.upper(), f"{live_server.url}{path}", timeout=30
        )
        if response.status_code != 401 or "detail" not in response.json():
            wrong.append(f"{label(operation)} -> {response.status_code}")
    record("requests fuzzed", len(protected))
    assert not wrong


def test_a_form_with_too_many_fields_is_400_not_500(live_server, make_member):
    # Found by the fuzzer: Django's field-count guard used to escape as a 500.
    fields = [("query", "tides")] + [("project_ids", str(uuid.uuid4())) for _ in range(1100)]
    response = requests.post(
        f"{live_server.url}/api/v1/search/",
        data=fields,
        headers={"Authorization": bearer(make_member())},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The request is malformed or has too many fields."}
