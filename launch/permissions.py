"""Object permissions: the one helper every app uses to grant, share, check and filter.

Every protected model declares a `share_<model>` permission, an `owner_field`, and two
guardian direct foreign-key models built on `launch.models.UserGrant` and `RoleGrant`
(`<Model>UserObjectPermission`, `<Model>GroupObjectPermission`), so a grant is an
indexed row that is deleted with its object and names who granted it. Object actions are
the model's `view`, `change`, `delete` and `share` permissions; `add` has no object.

The writers here are unchecked primitives. Who may grant or revoke what is decided by
`apps.rbac.services.share_set`, which the API and the admin call.

Visibility is decided by object grants only (the user's own and its roles'): a role's
model-wide `view_item` opens the endpoint, never every row (guardian's
`accept_global_perms=False`). An owner's grants are marked (`owner_grant`) and lists
read its rows through the owner column, which says the same thing through an index
(the owner holds every object action and nobody may take it).

Teams (issue 13, docs/teams.md): every protected model has a `team`, and the API passes
the current team (`team_id`). Rows of other teams are then invisible, whatever grants
exist on them; inside the team, the user's team role adds its object permissions on the
model to the grants (a role carrying `items.view_item` sees every item of the team).
`team_id=None` (the admin, commands) confines nothing and reads grants only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from django.apps import apps
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from launch.rights_cache import forget, rights_of

if TYPE_CHECKING:
    from apps.users.models import User

OBJECT_ACTIONS = ("view", "change", "delete", "share")
# Granting any of these without `view` would leave a grant the API can never reach.
IMPLIES_VIEW = frozenset({"change", "delete", "share"})

M = TypeVar("M", bound=models.Model)


def perm_models(model: type[models.Model]) -> tuple[type[Any], type[Any]]:
    """The direct foreign-key (user, group) permission models of `model`.

    Raises ImproperlyConfigured for a model that has none: falling back to guardian's
    generic table would silently bring back text joins and orphaned grants.
    """
    # guardian accepts a model class here, though its hints say an instance.
    user_model: Any = get_user_obj_perms_model(model)  # type: ignore[arg-type]
    group_model: Any = get_group_obj_perms_model(model)  # type: ignore[arg-type]
    if user_model.objects.is_generic() or group_model.objects.is_generic():
        raise ImproperlyConfigured(
            f"{model.__name__} needs direct foreign-key guardian models "
            f"({model.__name__}UserObjectPermission and {model.__name__}GroupObjectPermission)."
        )
    return user_model, group_model


def _permission_ids(model: type[models.Model], actions: Iterable[str]) -> QuerySet[Permission]:
    opts = model._meta
    return Permission.objects.filter(
        content_type__app_label=opts.app_label,
        content_type__model=opts.model_name,
        codename__in=[f"{action}_{opts.model_name}" for action in actions],
    )


_PERMISSION_IDS: dict[tuple[str, str | None, str], int | None] = {}


def _permission_id(model: type[models.Model], action: str) -> int | None:
    """The id of the model's `action` permission (None if it has none), read once per
    process: a literal keeps every list's SQL small, cheap to build and to plan."""
    opts = model._meta
    key = (opts.app_label, opts.model_name, action)
    if key not in _PERMISSION_IDS:
        found = _permission_ids(model, [action]).values_list("pk", flat=True).first()
        _PERMISSION_IDS[key] = found
    return _PERMISSION_IDS[key]


def forget_permission_ids(**kwargs: Any) -> None:
    """Connected to `post_migrate`: a migration or a test database flush may recreate
    the permission rows under new ids."""
    _PERMISSION_IDS.clear()


def _group_ids(user: User) -> list[int]:
    """The user's role ids, from its cached rights (`launch.rights_cache`).

    Literal ids rather than a subquery: the planner then estimates each role's grant
    count from its statistics, instead of guessing half the group table, and keeps the
    index-driven nested loop for a user who holds few grants.
    """
    return list(rights_of(user).group_ids)


def forget_roles(user: User) -> None:
    """Drop the role ids and permissions cached on this `user` object after its roles
    changed (the shared cache is invalidated by `rights_cache.user_rights_changed`)."""
    forget(user)


def _owner_holds(model: type[models.Model], action: str) -> bool:
    """Whether the model has the object action at all: its owner then holds it (the
    creator is granted every object action and nobody may take the owner's grants)."""
    opts = model._meta
    codenames = {f"{a}_{opts.model_name}" for a in opts.default_permissions}
    codenames |= {codename for codename, _ in opts.permissions}
    return f"{action}_{opts.model_name}" in codenames


@dataclass(frozen=True)
class _Visibility:
    """How `objects_visible_to` narrowed a queryset, kept on its filter so that a list can
    read a page without reading every visible row (`visible_page`, `visible_count`)."""

    user_id: Any
    owner_field: str | None  # rows the user owns are visible through this column
    shared: RawSQL  # ids of the rows shared with the user or one of its roles


_VISIBILITY = "launch_visibility"


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: type[models.Model], field_name: str) -> str:
    column = model._meta.get_field(field_name).column  # type: ignore[union-attr]
    return connection.ops.quote_name(str(column))


def team_actions(user: User | AnonymousUser, model: type[models.Model], team_id: Any) -> set[str]:
    """The object actions on `model`'s rows that `user`'s team role in `team_id` carries
    (every one for a superuser; none outside the team or without a team)."""
    if team_id is None or not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return set(OBJECT_ACTIONS)
    held = rights_of(user).teams.get(str(team_id), frozenset())
    opts = model._meta
    return {a for a in OBJECT_ACTIONS if f"{opts.app_label}.{a}_{opts.model_name}" in held}


def is_member(user: User | AnonymousUser, team_id: Any) -> bool:
    """Whether `user` belongs to team `team_id` (superusers work in any team)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or str(team_id) in rights_of(user).teams


def in_team(queryset: QuerySet[M], team_id: Any) -> QuerySet[M]:
    """`queryset` confined to `team_id`'s rows (itself when `team_id` is None)."""
    return queryset if team_id is None else queryset.filter(team_id=team_id)


_COUNT_BOUNDED = "launch_count_bounded"


def objects_visible_to(
    user: User | AnonymousUser,
    queryset: QuerySet[M],
    action: str = "view",
    *,
    team_id: Any = None,
) -> QuerySet[M]:
    """`queryset` narrowed to rows on which `user` or one of its roles holds `action`.

    The filter is `pk IN (owned UNION ALL shared with the user UNION ALL shared with its
    roles)`: the owner column's index, then the grant tables' indexes on (principal,
    permission, object), the user's own read through a partial index that leaves out its
    owner grants. So the cost follows the rows the user owns plus those shared with it,
    never the size of the table, and a list reads only its page (`visible_page`).
    Superusers see everything (of the team, with `team_id`).

    With `team_id`, rows of other teams are left out first; a team role carrying the
    model's `action` then sees every row of the team (the list walks the
    `(team, <order>)` index), and a role that does not sees its grants' rows of the team.
    """
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if team_id is not None and not is_member(user, team_id):
        return queryset.none()
    queryset = in_team(queryset, team_id)
    if user.is_superuser or action in team_actions(user, queryset.model, team_id):
        if team_id is not None:
            # A team's rows can be many: its count is bounded like a grant list's.
            setattr(queryset.query, _COUNT_BOUNDED, True)
        return queryset
    model = queryset.model
    # Plain SQL over the models' own tables and columns: the same query the ORM would
    # write, without building and resolving three querysets on every request (10-15% of
    # a list's CPU). Identifiers come from model metadata, quoted; values are parameters.
    user_model, group_model = perm_models(model)
    permission = _permission_id(model, action)
    content, principal = _column(user_model, "content_object"), _column(user_model, "user")
    sql = (
        f"SELECT {content} FROM {_table(user_model)} "  # noqa: S608 (see above)
        f"WHERE {principal} = %s AND {_column(user_model, 'permission')} = %s "
        f"AND NOT {_column(user_model, 'owner_grant')}"
    )
    params: list[Any] = [user.pk, permission]
    if group_ids := _group_ids(user):
        sql += (
            f" UNION ALL SELECT {_column(group_model, 'content_object')} "  # noqa: S608
            f"FROM {_table(group_model)} WHERE {_column(group_model, 'group')} = ANY(%s) "
            f"AND {_column(group_model, 'permission')} = %s"
        )
        params += [list(group_ids), permission]
    shared = RawSQL(sql, params)  # noqa: S611
    owner_field = getattr(model, "owner_field", None)
    if owner_field is None or not _owner_holds(model, action):
        owner_field = None
        visible = shared
    else:
        owned = (
            f"SELECT {_column(model, model._meta.pk.name)} FROM {_table(model)} "  # noqa: S608
            f"WHERE {_column(model, owner_field)} = %s"
        )
        visible = RawSQL(f"{owned} UNION ALL {sql}", [user.pk, *params])  # noqa: S611
    narrowed = queryset.filter(pk__in=visible)
    setattr(
        narrowed.query.where.children[-1], _VISIBILITY, _Visibility(user.pk, owner_field, shared)
    )
    return narrowed


def _split(queryset: QuerySet[M]) -> tuple[_Visibility | None, QuerySet[M]]:
    """The visibility `objects_visible_to` put on `queryset`, and `queryset` without it."""
    where = queryset.query.where
    if where.connector != "AND" or where.negated:
        return None, queryset
    for child in where.children:
        visibility = getattr(child, _VISIBILITY, None)
        if visibility is not None:
            base = queryset._chain()  # type: ignore[attr-defined]
            base.query.where.children = [c for c in base.query.where.children if c is not child]
            return visibility, base
    return None, queryset


def _stable_ordering(queryset: QuerySet[Any]) -> list[str] | None:
    """The queryset's ordering with the primary key as the last tie-breaker, or None
    when it is not plain field names (then no window is used)."""
    query = queryset.query
    terms = list(query.order_by) or (
        list(queryset.model._meta.ordering) if query.default_ordering else []
    )
    ordering = [term for term in terms if isinstance(term, str)]
    if len(ordering) != len(terms):
        return None
    if not {"pk", "-pk", "id", "-id"} & set(ordering):
        ordering.append("pk")
    return ordering


# The attribute (or the key, for `values()` rows) that carries the count on each row of
# a page read by `visible_page(..., count_up_to=N)`.
VISIBLE_COUNT = "launch_visible_count"


def visible_page(
    queryset: QuerySet[M], skip: int, limit: int, *, count_up_to: int | None = None
) -> QuerySet[M]:
    """Rows `skip` to `skip + limit` of `queryset` (narrowed by `objects_visible_to`,
    then filtered and ordered), read so that the cost follows the page.

    The first `skip + limit` rows of the visible set are among the first `skip + limit`
    rows the user owns (in the list's order: an index walk on the owner column) and the
    rows shared with it, so the page is read from those ids alone.

    With `count_up_to`, every row also carries `visible_count(queryset, count_up_to)` as
    `VISIBLE_COUNT`, computed in the same statement (issue 12: a list is one round trip
    and one plan, not two)."""
    visibility, base = _split(queryset)
    ordering = _stable_ordering(queryset)
    counted: dict[str, Any] = {}
    if count_up_to is not None:
        counted[VISIBLE_COUNT] = _visible_count_sql(queryset, count_up_to)
    if visibility is None or ordering is None:
        return queryset.annotate(**counted)[skip : skip + limit]
    window = visibility.shared
    if visibility.owner_field is not None:
        owned = base.filter(**{visibility.owner_field: visibility.user_id})
        first, params = (
            owned.order_by(*ordering).values("pk")[: skip + limit].query.sql_with_params()
        )
        shared_sql, shared_params = visibility.shared.sql, visibility.shared.params
        # The owned part compiled by the ORM (with the list's filters), then the shared ids.
        window = RawSQL(f"({first}) UNION ALL ({shared_sql})", [*params, *shared_params])  # noqa: S611
    page = base.filter(pk__in=window).annotate(**counted)
    return page.order_by(*ordering)[skip : skip + limit]


def visible_count(queryset: QuerySet[Any], up_to: int) -> int:
    """The number of rows of `queryset`, exact up to `up_to`; `up_to` when there are more.

    For a queryset narrowed by `objects_visible_to`, it counts at most `up_to + 1` owned
    rows and `up_to + 1` shared ones, so the cost is bounded whatever the user sees."""
    visibility, base = _split(queryset)
    if visibility is None:
        if getattr(queryset.query, _COUNT_BOUNDED, False):
            return min(queryset.order_by().values("pk")[: up_to + 1].count(), up_to)
        return queryset.count()
    return min(_bounded_rows(visibility, base, up_to).count(), up_to)


def _bounded_rows(visibility: _Visibility, base: QuerySet[Any], up_to: int) -> QuerySet[Any]:
    """The ids `visible_count` counts: at most `up_to + 1` owned and `up_to + 1` shared."""
    shared = base.filter(pk__in=visibility.shared).order_by().values("pk")[: up_to + 1]
    if visibility.owner_field is None:
        return shared
    owned = base.filter(**{visibility.owner_field: visibility.user_id})
    return owned.order_by().values("pk")[: up_to + 1].union(shared)


def _visible_count_sql(queryset: QuerySet[Any], up_to: int) -> RawSQL:
    """`visible_count(queryset, up_to)` as an uncorrelated scalar subquery, which
    PostgreSQL runs once per statement (an InitPlan), whatever the number of rows.
    The inner SQL is the ORM's own compilation; values stay parameters."""
    visibility, base = _split(queryset)
    if visibility is None:
        rows = queryset.order_by().values("pk")
        if getattr(queryset.query, _COUNT_BOUNDED, False):  # a team's whole list
            sql, params = rows[: up_to + 1].query.sql_with_params()
            bounded = f"SELECT LEAST(count(*), %s) FROM ({sql}) launch_counted"  # noqa: S608
            return RawSQL(bounded, [up_to, *params], models.IntegerField())  # noqa: S611
        sql, params = rows.query.sql_with_params()
        counted = f"SELECT count(*) FROM ({sql}) launch_counted"  # noqa: S608
        return RawSQL(counted, params, models.IntegerField())  # noqa: S611
    sql, params = _bounded_rows(visibility, base, up_to).query.sql_with_params()
    bounded = f"SELECT LEAST(count(*), %s) FROM ({sql}) launch_counted"  # noqa: S608
    return RawSQL(bounded, [up_to, *params], models.IntegerField())  # noqa: S611


def with_object_actions(user: User | AnonymousUser, queryset: QuerySet[M]) -> QuerySet[M]:
    """`queryset` with the object actions `user` holds on each row read along with it
    (two array subqueries), so that `object_actions_of` on a fetched row runs no query:
    a detail route then costs one query for the row and its permission check."""
    if not user.is_authenticated or not user.is_active or user.is_superuser:
        return queryset
    model = queryset.model
    user_model, group_model = perm_models(model)
    # Plain SQL, as in `objects_visible_to`: two ORM array subqueries cost ~15% of a
    # detail route's CPU to build and compile. Correlated to the row through the
    # model's own table, which a detail route's query reads unaliased.
    row = f"{_table(model)}.{_column(model, model._meta.pk.name)}"
    permission_table = _table(Permission)

    def held(grant_model: type[Any], principal: str) -> str:
        return (
            f"ARRAY(SELECT p.codename FROM {_table(grant_model)} g "  # noqa: S608
            f"JOIN {permission_table} p ON p.id = g.{_column(grant_model, 'permission')} "
            f"WHERE g.{principal} AND g.{_column(grant_model, 'content_object')} = {row})"
        )

    codenames: ArrayField[Any, Any] = ArrayField(models.CharField())
    annotations: dict[str, Any] = {
        "launch_actions_of": Value(user.pk, output_field=models.UUIDField()),
        "launch_actions_own": RawSQL(  # noqa: S611 - identifiers from metadata, values params
            held(user_model, f"{_column(user_model, 'user')} = %s"), [user.pk], codenames
        ),
    }
    if group_ids := _group_ids(user):
        annotations["launch_actions_roles"] = RawSQL(  # noqa: S611 - as above
            held(group_model, f"{_column(group_model, 'group')} = ANY(%s)"),
            [list(group_ids)],
            codenames,
        )
    return queryset.annotate(**annotations)


_NO_TEAM: Any = object()


def object_actions_of(
    user: User | AnonymousUser, obj: models.Model, *, team_id: Any = _NO_TEAM
) -> set[str]:
    """The object actions (`view`, `change`, ...) `user` holds on `obj`: read with the
    row when it was fetched through `with_object_actions` for this user, else one query.

    With `team_id` (the current team): none on a row of another team, and the user's
    team role's actions on the model join its grants. Without it (the admin, services
    deciding on grants alone), grants only."""
    if not user.is_authenticated or not user.is_active:
        return set()
    from_team: set[str] = set()
    if team_id is not _NO_TEAM:
        if team_id is None or str(getattr(obj, "team_id", None)) != str(team_id):
            return set()
        if not is_member(user, team_id):  # a former member's grants count no more
            return set()
        from_team = team_actions(user, type(obj), team_id)
    if user.is_superuser:
        return set(OBJECT_ACTIONS)
    suffix = f"_{obj._meta.model_name}"
    if getattr(obj, "launch_actions_of", None) == user.pk:
        held = [*obj.launch_actions_own, *getattr(obj, "launch_actions_roles", ())]  # type: ignore[attr-defined]
        return from_team | {codename.removesuffix(suffix) for codename in held}
    user_model, group_model = perm_models(type(obj))
    direct = user_model.objects.filter(user_id=user.pk, content_object_id=obj.pk)
    granted = Q(pk__in=direct.values("permission_id"))
    if group_ids := _group_ids(user):
        via_roles = group_model.objects.filter(group_id__in=group_ids, content_object_id=obj.pk)
        granted |= Q(pk__in=via_roles.values("permission_id"))
    codenames = Permission.objects.filter(granted).values_list("codename", flat=True)
    return from_team | {codename.removesuffix(suffix) for codename in codenames}


def normalize_actions(actions: Iterable[str]) -> set[str]:
    """Validate share actions and add the `view` that `change`, `delete`, `share` imply."""
    wanted = set(actions)
    unknown = wanted - set(OBJECT_ACTIONS)
    if unknown:
        raise ValueError(f"Unknown permissions: {', '.join(sorted(unknown))}.")
    if wanted & IMPLIES_VIEW:
        wanted.add("view")
    return wanted


def _set_grants(
    perm_model: type[Any],
    principal: dict[str, Any],
    obj: models.Model,
    actions: set[str],
    granted_by: User | None,
) -> None:
    rows = perm_model.objects.filter(content_object_id=obj.pk, **principal)
    wanted = {p.pk: p for p in _permission_ids(type(obj), actions)}
    rows.exclude(permission_id__in=wanted).delete()
    held = set(rows.values_list("permission_id", flat=True))
    extra = {}
    if "user" in principal:
        # The owner's grants are marked: lists find owned rows through the owner column.
        owner = getattr(obj, f"{getattr(type(obj), 'owner_field', '')}_id", None)
        extra["owner_grant"] = owner is not None and owner == principal["user"].pk
    perm_model.objects.bulk_create(
        perm_model(
            content_object=obj, permission=permission, granted_by=granted_by, **principal, **extra
        )
        for pk, permission in wanted.items()
        if pk not in held
    )


@transaction.atomic
def grant_owner_permissions(obj: models.Model, user: User) -> None:
    """Give the creator of `obj` every object action on it.

    Side effects: writes one grant row per action to `obj`'s user permission table.
    """
    perm_models(type(obj))  # fail loudly for a model without direct grant tables
    share_with_user(obj, user, OBJECT_ACTIONS)


@transaction.atomic
def share_with_user(
    obj: models.Model, user: User, actions: Iterable[str], *, granted_by: User | None = None
) -> set[str]:
    """Set `user`'s grants on `obj` to exactly `actions` (an empty set revokes all).

    The unchecked primitive: it decides nothing about who may do it. Requests and the
    admin go through `apps.rbac.services.share_set`, which applies the no-escalation rule
    and records the change; this is for an owner's grants at creation, commands and tests.
    Side effects: inserts and deletes rows in `obj`'s user permission table; new rows
    name `granted_by`.
    """
    wanted = normalize_actions(actions)
    _set_grants(perm_models(type(obj))[0], {"user": user}, obj, wanted, granted_by)
    return wanted


@transaction.atomic
def share_with_role(
    obj: models.Model, role: Group, actions: Iterable[str], *, granted_by: User | None = None
) -> set[str]:
    """Set a role's grants on `obj` to exactly `actions` (an empty set revokes all).

    Unchecked, like `share_with_user`. Side effects: inserts and deletes rows in `obj`'s
    group permission table.
    """
    wanted = normalize_actions(actions)
    _set_grants(perm_models(type(obj))[1], {"group": role}, obj, wanted, granted_by)
    return wanted


def owner_id_of(obj: models.Model) -> Any:
    """The pk of the user who created `obj`, named by the model's `owner_field`.

    The owner's grants are the one set nobody may change, and the owner may revoke any
    grant on its object.
    """
    field_name = getattr(type(obj), "owner_field", None)
    if field_name is None:
        raise ImproperlyConfigured(f"{type(obj).__name__} declares no owner_field.")
    return getattr(obj, f"{field_name}_id")


def grants_of(
    obj: models.Model, *, user: User | None = None, role: Group | None = None
) -> dict[str, Any]:
    """One principal's grants on `obj`: action -> pk of the user who granted it (or None)."""
    user_model, group_model = perm_models(type(obj))
    if user is not None:
        rows = user_model.objects.filter(content_object_id=obj.pk, user=user)
    else:
        rows = group_model.objects.filter(content_object_id=obj.pk, group=role)
    suffix = f"_{obj._meta.model_name}"
    return {
        codename.removesuffix(suffix): granted_by
        for codename, granted_by in rows.values_list("permission__codename", "granted_by_id")
    }


@cache
def grant_models() -> tuple[tuple[type[models.Model], type[Any], type[Any]], ...]:
    """Every model with direct grant tables, with its (user, group) grant models."""
    found = []
    for model in apps.get_models():
        try:
            found.append((model, *perm_models(model)))
        except (ImproperlyConfigured, AttributeError, TypeError):
            continue
    return tuple(found)


@dataclass
class Share:
    """One principal's grants on an object: exactly one of `user_id`, `role_id` is set."""

    user_id: Any = None
    role_id: int | None = None
    permissions: list[str] = field(default_factory=list)


def _ordered(actions: Iterable[str]) -> list[str]:
    return [action for action in OBJECT_ACTIONS if action in set(actions)]


def shares_of(obj: models.Model) -> list[Share]:
    """Every principal holding a grant on `obj`, users first, then roles (two queries)."""
    user_model, group_model = perm_models(type(obj))
    suffix = f"_{obj._meta.model_name}"
    by_principal: dict[tuple[str, Any], set[str]] = {}
    for kind, perm_model in (("user", user_model), ("group", group_model)):
        rows = perm_model.objects.filter(content_object_id=obj.pk).values_list(
            f"{kind}_id", "permission__codename"
        )
        for principal_id, codename in rows.order_by(f"{kind}_id"):
            by_principal.setdefault((kind, principal_id), set()).add(codename.removesuffix(suffix))
    return [
        Share(
            user_id=pid if kind == "user" else None,
            role_id=pid if kind == "group" else None,
            permissions=_ordered(actions),
        )
        for (kind, pid), actions in by_principal.items()
    ]


def share_for(obj: models.Model, *, user: User | None = None, role: Group | None = None) -> Share:
    """The grants one principal holds on `obj` (possibly none)."""
    user_model, group_model = perm_models(type(obj))
    if user is not None:
        rows = user_model.objects.filter(content_object_id=obj.pk, user=user)
    else:
        rows = group_model.objects.filter(content_object_id=obj.pk, group=role)
    suffix = f"_{obj._meta.model_name}"
    actions = {c.removesuffix(suffix) for c in rows.values_list("permission__codename", flat=True)}
    return Share(
        user_id=user.pk if user is not None else None,
        role_id=role.pk if role is not None else None,
        permissions=_ordered(actions),
    )
