"""Secrets: bearer tokens, staff session ids and CSRF tokens.

Bearer tokens and session ids are random and only their SHA-256 hashes are stored, so the
database alone gives no way in. CSRF tokens come in two kinds:

1. before login there is no session yet, so the login form gets a *signed* random value, sent
   both as a cookie and as a hidden field (double submit); the signature (HMAC with a key
   derived from the server's secret) means a value planted in the cookie by someone else is
   refused, and the timestamp in it lets an old form expire;
2. after login the token is derived from the session id (HMAC), so it needs no storage, is the
   same on every page of the session and dies with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

TOKEN_PREFIX = "vd_"
LOGIN_CSRF_MAX_AGE_SECONDS = 2 * 3600


def new_token() -> str:
    """A fresh random bearer token (shown once, never stored in clear)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_session_id() -> str:
    """A fresh random staff session id (kept only in the browser's cookie)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, so the server secret itself is never used to sign anything."""
    return hmac.new(secret.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def session_csrf_token(session_id: str) -> str:
    """The CSRF token of a logged-in session: bound to the session, unguessable without it."""
    return _mac(session_id.encode("utf-8"), "voordeur-staff-csrf")


def new_login_csrf(key: bytes, *, now: float | None = None) -> str:
    """A signed pre-session CSRF value ``<nonce>.<issued>.<mac>`` for the login form."""
    issued = str(int(now if now is not None else time.time()))
    body = f"{secrets.token_urlsafe(24)}.{issued}"
    return f"{body}.{_mac(key, body)}"


def login_csrf_valid(
    key: bytes,
    *,
    cookie: str | None,
    field: str | None,
    now: float | None = None,
    max_age: int = LOGIN_CSRF_MAX_AGE_SECONDS,
) -> bool:
    """True when cookie and form field carry the same, correctly signed, unexpired value."""
    if not cookie or not field or not tokens_equal(cookie, field):
        return False
    parts = cookie.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    nonce, issued, mac = parts
    if not tokens_equal(mac, _mac(key, f"{nonce}.{issued}")):
        return False
    age = (now if now is not None else time.time()) - int(issued)
    return 0 <= age <= max_age
