"""Logging without personal data.

Our own log lines carry only ids, references and redacted values. On top of that a
``RedactingFilter`` redacts the (URL-decoded) string arguments of uvicorn's access and error
logs, whose request paths can hold a conversation id such as ``whatsapp:+316...``, and of every
record that passes the handler installed by ``configure_logging`` (used by ``cli serve``).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from handover_api.services.redaction import redact_for_log

# The web chat's sender id is its credential (GET /api/v1/webchat/messages?sender=...).
SENDER_PARAM = re.compile(r"([?&]sender=)[^&#\s\"]*")


def _redact(value: str) -> str:
    return redact_for_log(SENDER_PARAM.sub(r"\1[verwijderd]", unquote(value)), max_length=500)


class RedactingFilter(logging.Filter):
    """Redacts the string arguments of log records (e.g. the request path of the access log),
    the value of a ``sender=`` query parameter included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) if isinstance(a, str) else a for a in record.args)
        return True


_FILTER = RedactingFilter()


def install_log_filters(level: str = "INFO") -> None:
    """Idempotently attach the redacting filter to uvicorn's loggers and set our level."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    logging.getLogger("handover_api").setLevel(level.upper())


def configure_logging(level: str = "INFO") -> None:
    """Log ``handover_api.*`` to stderr through a redacting handler (for ``cli serve``)."""
    logger = logging.getLogger("handover_api")
    if any(getattr(h, "_voordeur", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    handler.addFilter(_FILTER)
    handler._voordeur = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
