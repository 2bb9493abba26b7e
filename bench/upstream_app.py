"""The upstream baseline: what the FastAPI original does for the benchmarked endpoints.

A FastAPI + SQLAlchemy app with sync endpoints (FastAPI runs them in its thread pool),
JWT auth as upstream does it (decode the HS256 bearer token with PyJWT, load the user by
the `sub` claim), served the way upstream ships it: uvicorn (`fastapi run` is uvicorn)
with 2 workers here, to match Launch's 2. It reads Launch's own tables, so both answer
from the same rows, and it returns the same JSON as Launch (the same fields, roles and
tags included), so the comparison does not reward sending less. What it does not do is
what upstream does not do: no object permissions (the items list filters on
`owner_id`), and the items list's `count` is the page length.

Never part of the product: `requirements/bench.txt` installs FastAPI and SQLAlchemy.

    DATABASE_URL=... SECRET_KEY=... uvicorn bench.upstream_app:app --workers 2
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import jwt
import psycopg
from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Uuid,
    create_engine,
    func,
    select,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)

SECRET_KEY = os.environ["SECRET_KEY"]
DATABASE_URL = os.environ["DATABASE_URL"]


def _connect() -> Any:
    # Launch's URLs may name a Unix socket directory in the query (`?host=/path`), which
    # libpq reads as is; SQLAlchemy's URL parser would not.
    return psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://", 1))


# Upstream's engine: SQLAlchemy's default QueuePool (5 connections + 10 overflow).
engine = create_engine("postgresql+psycopg://", creator=_connect)


class Base(DeclarativeBase):
    pass


user_groups = Table(
    "users_user_groups",
    Base.metadata,
    Column("id", BigInteger, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users_user.id")),
    Column("group_id", Integer, ForeignKey("auth_group.id")),
)
item_tags = Table(
    "items_item_tags",
    Base.metadata,
    Column("id", BigInteger, primary_key=True),
    Column("item_id", Uuid, ForeignKey("items_item.id")),
    Column("tag_id", Uuid, ForeignKey("tags_tag.id")),
)


class Group(Base):
    __tablename__ = "auth_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150))


class Tag(Base):
    __tablename__ = "tags_tag"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    color: Mapped[str] = mapped_column(String(7))


class User(Base):
    __tablename__ = "users_user"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool]
    is_superuser: Mapped[bool]
    is_staff: Mapped[bool]
    date_joined: Mapped[datetime]
    groups: Mapped[list[Group]] = relationship(secondary=user_groups, order_by=Group.name)

    @property
    def roles(self) -> list[str]:
        return [group.name for group in self.groups]


class Item(Base):
    __tablename__ = "items_item"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users_user.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    tags: Mapped[list[Tag]] = relationship(
        secondary=item_tags, order_by=(Tag.name, Tag.id), lazy="selectin"
    )


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    is_active: bool
    is_superuser: bool
    full_name: str
    is_staff: bool
    date_joined: datetime
    roles: list[str]


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int


class TagBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    color: str


class ItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    title: str
    description: str | None
    owner_id: uuid.UUID
    tags: list[TagBrief]
    created_at: datetime
    updated_at: datetime


class ItemsPublic(BaseModel):
    data: list[ItemPublic]
    count: int


def get_db() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
TokenDep = Annotated[str, Depends(OAuth2PasswordBearer(tokenUrl="/api/v1/login/access-token"))]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
        user_id = uuid.UUID(str(payload["sub"]))
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise HTTPException(status_code=403, detail="Could not validate credentials") from exc
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    if not user.is_active:
        raise HTTPException(status_code=400, detail="Inactive user")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_current_superuser(user: CurrentUser) -> User:
    if not user.is_superuser:
        raise HTTPException(status_code=403, detail="The user doesn't have enough privileges")
    return user


router = APIRouter(prefix="/api/v1")


@router.get("/users/me", response_model=UserPublic)
def read_user_me(current_user: CurrentUser) -> Any:
    return current_user


@router.get("/users/", response_model=UsersPublic, dependencies=[Depends(get_current_superuser)])
def read_users(session: SessionDep, skip: int = 0, limit: int = 100) -> Any:
    count = session.scalar(select(func.count()).select_from(User))
    statement = select(User).order_by(User.email).offset(skip).limit(limit)
    users = session.scalars(statement.options(selectinload(User.groups))).all()
    return UsersPublic(data=[UserPublic.model_validate(u) for u in users], count=count or 0)


@router.get("/items/", response_model=ItemsPublic)
def read_items(
    session: SessionDep, current_user: CurrentUser, skip: int = 0, limit: int = 100
) -> Any:
    statement = select(Item).order_by(Item.created_at.desc(), Item.id)
    if not current_user.is_superuser:
        statement = statement.where(Item.owner_id == current_user.id)
    items = session.scalars(statement.offset(skip).limit(limit)).all()
    return ItemsPublic(data=[ItemPublic.model_validate(i) for i in items], count=len(items))


@router.get("/items/{item_id}", response_model=ItemPublic)
def read_item(session: SessionDep, current_user: CurrentUser, item_id: uuid.UUID) -> Any:
    item = session.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    if not current_user.is_superuser and item.owner_id != current_user.id:
        raise HTTPException(status_code=400, detail="Not enough permissions")
    return item


app = FastAPI(title="upstream baseline")
app.include_router(router)
