"""Privacy rules shared by the action server and the handover API.

Stdlib only on purpose: the action server (.venv-rasa: pydantic 1, SQLAlchemy 1.4) and the
handover API (.venv-api: pydantic 2, SQLAlchemy 2.0) both import this package with the
repository root on ``PYTHONPATH``, so one redaction policy serves both without either service
importing the other's code.
"""

from privacy.redaction import redact, redact_for_log, strip_bsn

__all__ = ["redact", "redact_for_log", "strip_bsn"]
