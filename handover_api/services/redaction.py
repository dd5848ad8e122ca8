"""Redaction of personal data in free text (transcripts, evidence, log lines).

A thin re-export: the policy lives in the stdlib-only ``privacy.redaction`` at the repository
root, so the action server (another venv, which must not import the API) applies exactly the
same rules. The order of the steps and the two policies (``redact`` and ``strip_bsn``) are
documented there. The names stay importable from here for the API's own modules.
"""

from __future__ import annotations

from privacy.redaction import (
    ADDRESS,
    BIRTH_DATE,
    BSN,
    BSN_REMOVED,
    EMAIL,
    IBAN,
    PHONE,
    POSTCODE,
    elfproef,
    redact,
    redact_for_log,
    strip_bsn,
)

__all__ = [
    "ADDRESS",
    "BIRTH_DATE",
    "BSN",
    "BSN_REMOVED",
    "EMAIL",
    "IBAN",
    "PHONE",
    "POSTCODE",
    "elfproef",
    "redact",
    "redact_for_log",
    "strip_bsn",
]
