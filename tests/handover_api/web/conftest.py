"""Fixtures of the staff page tests: the browser tests' live app and Chromium
(defined in ``browser_support.py``)."""

from tests.handover_api.web.browser_support import (  # noqa: F401 - fixtures
    chromium,
    foreign_site,
    live_app,
)
