"""Export of handovers to an organisation's own systems: a small registry of plugins.

``get_exporter(name)`` gives the exporter an organisation's ``export: {kind: ...}`` names:

- ``none``: nothing is exported (the default of every organisation);
- ``klantinteracties``: a klantcontact, betrokkene, digitale adressen, bijlage and interne
  taak in the organisation's Klantinteracties API (Open Klant, used with KISS):
  ``handover_api/export/klantinteracties.py``, ``docs/klantinteracties-export.md``.

The outbox (``handover_exports``), retries and idempotency are in ``services/exports.py``.
"""

from __future__ import annotations

from handover_api.export.base import (
    Exporter,
    ExportError,
    ExportProgress,
    ExportResult,
    HandoverView,
    view_of,
)
from handover_api.export.klantinteracties import KlantinteractiesExporter
from handover_api.services.directory import ExportConfig

__all__ = [
    "EXPORTERS",
    "ExportError",
    "ExportProgress",
    "ExportResult",
    "Exporter",
    "HandoverView",
    "NoneExporter",
    "get_exporter",
    "view_of",
]


class NoneExporter:
    """Exports nothing; any configuration is fine."""

    name = "none"

    def check_config(self, config: ExportConfig) -> list[str]:
        return []

    def export(
        self, view: HandoverView, *, config: ExportConfig, progress: ExportProgress
    ) -> ExportResult:
        return ExportResult(remote_ids={})


EXPORTERS: dict[str, Exporter] = {
    "none": NoneExporter(),
    "klantinteracties": KlantinteractiesExporter(),
}


def get_exporter(name: str) -> Exporter:
    """The exporter called ``name``; KeyError naming the known ones otherwise."""
    try:
        return EXPORTERS[name]
    except KeyError:
        raise KeyError(
            f"unknown exporter {name!r}; known: {', '.join(sorted(EXPORTERS))}"
        ) from None
