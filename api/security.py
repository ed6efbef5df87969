"""Passwords (argon2) and bearer tokens (random, stored as sha256 with an expiry)."""
from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .settings import Settings


def password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_cost)


def hash_password(password: str, *, settings: Settings) -> str:
    return password_hasher(settings).hash(password)


def verify_password(password_hash: str, password: str, *, settings: Settings) -> bool:
    try:
        return password_hasher(settings).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# verified against when the user does not exist, so both cases take the same time
_DUMMY_HASHES: dict[tuple[int, int], str] = {}


def dummy_verify(password: str, *, settings: Settings) -> None:
    key = (settings.argon2_time_cost, settings.argon2_memory_cost)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hash_password(secrets.token_hex(8), settings=settings)
    verify_password(_DUMMY_HASHES[key], password, settings=settings)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
