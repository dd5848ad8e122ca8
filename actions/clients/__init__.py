"""Clients of external services, one module each; built per call, never at import time."""
