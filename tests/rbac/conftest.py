from tests.factories import make_member, member, roleless, roles, stranger

__all__ = ["make_member", "member", "roleless", "roles", "stranger"]
