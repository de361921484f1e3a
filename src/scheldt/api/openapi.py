"""The OpenAPI description as the server really answers: the one error body, how to authenticate,
and TAXII's own media type and error resource.

FastAPI describes every 422 with its own ``HTTPValidationError`` body and knows nothing of
Scheldt's credentials, so an API review found /docs unable to authorize and every documented
error body wrong. This module rewrites those parts of the generated document once, on first use.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from scheldt.api.deps import OPEN_PATHS, SESSION_COOKIE

#: The error body of every ``/api/v1`` failure (:func:`scheldt.api.errors.error_response`).
ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["status", "where", "why"], "additionalProperties": False,
        "properties": {"status": {"type": "integer", "description": "the HTTP status again"},
                       "where": {"type": "string", "description": "the field, parameter or thing at fault"},
                       "why": {"type": "string", "description": "what is wrong, in words"}}}},
}
#: TAXII 2.1's error resource (OASIS TAXII 2.1, section 3.6.1).
TAXII_ERROR_SCHEMA = {
    "type": "object", "required": ["title"],
    "properties": {"title": {"type": "string"}, "description": {"type": "string"},
                   "error_id": {"type": "string"}, "error_code": {"type": "string"},
                   "http_status": {"type": "string"}, "external_details": {"type": "string"},
                   "details": {"type": "object"}},
}
TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "an API token (`scheldt token create USER`, or POST /api/v1/tokens)"},
    "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                "description": "the workbench's session (POST /api/v1/auth/sign-in sets it)"},
    "basic": {"type": "http", "scheme": "basic", "description": "TAXII clients: username and password"},
}
#: Failures every authenticated API operation can answer, all with :data:`ERROR_SCHEMA`.
API_ERRORS = {
    "400": "input that cannot be used (the field and why)",
    "401": "no credentials, or unknown, revoked or expired ones",
    "403": "the role or organisation may not do this",
    "404": "no such thing, or not one this organisation may see",
    "409": "clashes with the current state (taken name, full shift, closed order...)",
    "422": "a parameter or body field of the wrong type or range",
    "503": "the store is unavailable for a moment (Retry-After says when to try again)",
}
#: What an operation checking a password answers after too many refused sign-ins from one
#: address (an API review found it sent, with Retry-After, and documented nowhere).
THROTTLED = {"429": "too many refused sign-ins from this address (Retry-After says when to try again)"}
#: Failures of an operation that takes a body, besides :data:`API_ERRORS`.
BODY_ERRORS = {"413": "a body over 1 MiB", "415": "a body that is not JSON (Content-Type: application/json)"}
#: Failures of an operation taking a whole file as its body (any Content-Type), besides :data:`API_ERRORS`.
FILE_ERRORS = {"413": "a file over 64 MiB"}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def install(app: FastAPI) -> None:
    """Have ``app`` serve :func:`document` at /openapi.json (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's description of ``app`` with Scheldt's errors, credentials and TAXII media type."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["TaxiiError"] = TAXII_ERROR_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, item in doc.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            if path.startswith("/taxii2"):
                _taxii(operation, method)
            elif path.startswith("/api/v1/") and path not in OPEN_PATHS:
                _api(operation)
            else:  # signing in: no credentials yet, a wrong password is 401
                _errors(operation, {k: API_ERRORS[k] for k in ("400", "401", "422", "503")} | BODY_ERRORS | THROTTLED,
                        "Error", "application/json")
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


def _api(operation: dict[str, Any]) -> None:
    operation["security"] = [{"bearer": []}, {"session": []}]
    body = operation.get("requestBody", {}).get("content", {})
    taken = FILE_ERRORS if "application/octet-stream" in body else BODY_ERRORS if body else {}
    _errors(operation, API_ERRORS | taken, "Error", "application/json")


def _taxii(operation: dict[str, Any], method: str) -> None:
    operation["security"] = [{"basic": []}, {"bearer": []}]
    for response in operation.get("responses", {}).values():
        content = response.get("content")
        if content and "application/json" in content:
            response["content"] = {TAXII_MEDIA_TYPE: content.pop("application/json")}
    taxii_errors = {k: v for k, v in API_ERRORS.items() if k != "409"} | THROTTLED | {
        "406": "the Accept header names no TAXII 2.1 media type",
        "415": "a body that is not a TAXII 2.1 envelope"} | ({"413": "a body over 1 MiB"} if method == "post" else {})
    _errors(operation, taxii_errors, "TaxiiError", TAXII_MEDIA_TYPE)


def _errors(operation: dict[str, Any], errors: dict[str, str], schema: str, media_type: str) -> None:
    responses = operation.setdefault("responses", {})
    for status, description in errors.items():
        responses[status] = {"description": description,
                             "content": {media_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}
