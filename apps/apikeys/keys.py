"""Making, parsing and hashing key strings.

A key is `lk_` + 8 characters (the visible prefix) + `_` + 40 characters, all drawn
from [A-Za-z0-9] by `secrets`: about 238 bits of randomness in the secret part, and a
string that a double click selects whole. `lk_` tells it apart from a JWT (which starts
with `eyJ`) in the same `Authorization: Bearer` header.

Why HMAC-SHA256 and not the password hasher (bcrypt): password hashing is slow on
purpose, to make guessing a low-entropy password from a stolen hash expensive. A key
is 238 random bits, which no amount of guessing reaches, so a slow hash would buy
nothing and cost every API request tens of milliseconds. The HMAC's server-side key
(`API_KEY_HASH_KEY`, by default derived from SECRET_KEY) means a copy of the table alone
is not even enough to check a candidate key offline.
"""

from __future__ import annotations

import hmac
import re
import secrets
import string
from dataclasses import dataclass
from functools import cache
from hashlib import sha256

from django.conf import settings
from django.utils.crypto import salted_hmac

MARKER = "lk_"
PREFIX_CHARS = 8
SECRET_CHARS = 40
ALPHABET = string.ascii_letters + string.digits
KEY_RE = re.compile(
    rf"^(?P<prefix>{MARKER}[A-Za-z0-9]{{{PREFIX_CHARS}}})_[A-Za-z0-9]{{{SECRET_CHARS}}}$"
)
# Longer header values are refused before any work (and before any database lookup).
MAX_KEY_LENGTH = len(MARKER) + PREFIX_CHARS + 1 + SECRET_CHARS


@dataclass(frozen=True)
class NewKey:
    prefix: str
    raw: str  # shown once to its creator, then forgotten
    hashed: str


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


@cache
def _hash_key(configured: str, secret_key: str) -> bytes:
    if configured:
        return configured.encode()
    return salted_hmac("launch.apikeys.hash-key", "", secret=secret_key).digest()


def hash_key(raw: str) -> str:
    """The stored form of a key: HMAC-SHA256 under the server's key, hex."""
    key = _hash_key(settings.API_KEY_HASH_KEY, settings.SECRET_KEY)
    return hmac.new(key, raw.encode(), sha256).hexdigest()


def new_key() -> NewKey:
    prefix = MARKER + _random(PREFIX_CHARS)
    raw = f"{prefix}_{_random(SECRET_CHARS)}"
    return NewKey(prefix=prefix, raw=raw, hashed=hash_key(raw))


def looks_like_key(value: str) -> bool:
    """Whether a bearer credential is meant as an API key (rather than a JWT)."""
    return value.startswith(MARKER)


def prefix_of(raw: str) -> str | None:
    """The prefix of a well-formed key, else None (so a malformed one costs no query)."""
    if len(raw) > MAX_KEY_LENGTH:
        return None
    match = KEY_RE.match(raw)
    return match.group("prefix") if match else None


def matches(raw: str, hashed: str) -> bool:
    """Constant-time comparison of a presented key with a stored hash."""
    return hmac.compare_digest(hash_key(raw), hashed)
