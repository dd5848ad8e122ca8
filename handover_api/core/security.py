"""Bearer tokens: generation and hashing (only SHA-256 hashes are stored)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "vd_"


def new_token() -> str:
    """A fresh random bearer token (shown once, never stored in clear)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
