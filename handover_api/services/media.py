"""Photos and documents a resident sends in a message thread: what is accepted and how it is
served back to the professional.

Accepted: ``ALLOWED_TYPES`` (JPEG, PNG, HEIC photos and PDF documents) of at most
``MAX_BYTES`` each, at most ``MAX_PER_MESSAGE`` per message, and only when the first bytes
match the declared type (no HTML page or executable passes as a photo). Anything else is
refused with a reason code that the assistant's Twilio channel turns into advice for the
resident (the same codes as ``bot/channels/inbound_relay.py``): ``too_many``, ``too_large``,
``unsupported_type``, ``invalid_data``.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass

ALLOWED_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "application/pdf": "pdf",
}
MAX_BYTES = 10 * 1024 * 1024
MAX_PER_MESSAGE = 5

TOO_MANY = "too_many"
TOO_LARGE = "too_large"
WRONG_TYPE = "unsupported_type"
INVALID_DATA = "invalid_data"

_UNSAFE_FILENAME = re.compile(r"[^\w .()+-]")


@dataclass(frozen=True)
class IncomingFile:
    content_type: str
    filename: str | None
    data_base64: str


@dataclass(frozen=True)
class AcceptedFile:
    content_type: str
    filename: str | None
    data: bytes


@dataclass(frozen=True)
class RefusedFile:
    content_type: str
    reason: str


def base_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def looks_like(content_type: str, head: bytes) -> bool:
    """Whether the first bytes of a file match its declared type."""
    if content_type == "image/jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if content_type == "image/png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if content_type == "application/pdf":
        return head.startswith(b"%PDF-")
    if content_type == "image/heic":  # ISO base media file: a box of type 'ftyp' first
        return head[4:8] == b"ftyp"
    return False


def safe_filename(filename: str | None) -> str | None:
    """The name's last path part, without control or unusual characters, at most 100 long."""
    if not filename:
        return None
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    return name[:100] or None


def _decoded_size(data_base64: str) -> int:
    """The size the base64 text decodes to (without decoding it)."""
    text = data_base64.strip()
    return len(text) * 3 // 4 - text[-2:].count("=")


def check(files: list[IncomingFile]) -> tuple[list[AcceptedFile], list[RefusedFile]]:
    """Split a message's files into accepted and refused ones (deterministic: the same files
    give the same answer, so a repeated message is answered the same)."""
    accepted: list[AcceptedFile] = []
    refused: list[RefusedFile] = []
    for index, incoming in enumerate(files):
        content_type = base_type(incoming.content_type)
        if index >= MAX_PER_MESSAGE:
            refused.append(RefusedFile(content_type, TOO_MANY))
            continue
        if content_type not in ALLOWED_TYPES:
            refused.append(RefusedFile(content_type, WRONG_TYPE))
            continue
        if _decoded_size(incoming.data_base64) > MAX_BYTES:
            refused.append(RefusedFile(content_type, TOO_LARGE))
            continue
        try:
            data = base64.b64decode(incoming.data_base64, validate=True)
        except (binascii.Error, ValueError):
            refused.append(RefusedFile(content_type, INVALID_DATA))
            continue
        if not data:
            refused.append(RefusedFile(content_type, INVALID_DATA))
        elif len(data) > MAX_BYTES:
            refused.append(RefusedFile(content_type, TOO_LARGE))
        elif not looks_like(content_type, data[:16]):
            refused.append(RefusedFile(content_type, WRONG_TYPE))
        else:
            accepted.append(AcceptedFile(content_type, safe_filename(incoming.filename), data))
    return accepted, refused


def download_name(*, filename: str | None, content_type: str, reference: str, key: str) -> str:
    """The file name offered on download: the resident's (made safe) or a neutral one with
    the case's reference and ``key`` (the start of the file's id)."""
    if filename:
        return filename
    return f"{reference}-bijlage-{key}.{ALLOWED_TYPES.get(content_type, 'bin')}"
