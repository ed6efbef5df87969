"""Errors raised below the routes, turned into JSON ``{"detail": ...}`` with their status code."""
from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status_code: int, detail: str, *, code: str | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.code = code
        self.headers = headers


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found.", code="not_found")


def forbidden(detail: str = "You are not allowed to do this.") -> ApiError:
    return ApiError(403, detail, code="forbidden")


def conflict(detail: str) -> ApiError:
    return ApiError(409, detail, code="conflict")


def invalid(detail: str) -> ApiError:
    return ApiError(422, detail, code="invalid")


# ImageError.code -> HTTP status
IMAGE_ERROR_STATUS = {
    "empty": 422,
    "too_large": 413,
    "too_many_pixels": 413,
    "not_an_image": 415,
    "unsupported_format": 415,
    "too_small": 422,
    "truncated": 422,
}
