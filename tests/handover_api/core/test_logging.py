"""The redacting log filter."""

from __future__ import annotations

import logging

from handover_api.core.logging import RedactingFilter


def test_access_log_arguments_are_url_decoded_and_redacted() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "GET",
            "/api/v1/conversations/whatsapp%3A%2B31612345678/transcript?mail=jan%40example.nl",
            "1.1",
            200,
        ),
        None,
    )
    assert RedactingFilter().filter(record)
    message = record.getMessage()
    assert "31612345678" not in message and "jan" not in message
    assert "whatsapp:[telefoon]" in message and "[e-mail]" in message
    assert message.endswith(" 200")
