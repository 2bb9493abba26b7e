from collections.abc import Callable
from typing import Any

import pytest

from apps.users.models import User
from tests.factories import Lab, lab, make_member, member, roleless, roles, stranger

__all__ = ["lab", "make_member", "member", "roleless", "roles", "stranger"]


# Global roles and sharing are tested inside one team whose role adds nothing to the
# grants (`Lab`); teams' own rules are tested in tests/teams.
@pytest.fixture
def make_user(make_user: Callable[..., User], lab: Lab) -> Callable[..., User]:
    def make(*args: Any, **kwargs: Any) -> User:
        return lab.join(make_user(*args, **kwargs))

    return make


@pytest.fixture
def superuser(superuser: User, lab: Lab) -> User:
    return lab.join(superuser)
