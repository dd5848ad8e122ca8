"""Errors raised by services and mapped to HTTP responses by the routes."""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(ServiceError):
    status_code = 404


class ConflictError(ServiceError):
    status_code = 409


class InvalidRequestError(ServiceError):
    """A business rule on otherwise well-formed input (422)."""

    status_code = 422
