"""Voordeur handover API: the warm handover ("warme overdracht") from the assistant to staff."""

__version__ = "0.1.0"
