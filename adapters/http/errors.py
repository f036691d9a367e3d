"""Every error reaches the client as ``{"error": "a clear message"}`` (or a page saying so) with
the right status; nothing else, and never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from core.commands import CommandError
from core.limits import LimitExceeded
from engine.errors import EngineBusyError, InputError, RenderError

log = logging.getLogger(__name__)

INTERNAL = "Something went wrong on our side; the details are in the log."


class ErrorOut(BaseModel):
    error: str


MESSAGES = {
    400: "the request can't be done as asked", 401: "not signed in", 403: "not allowed", 404: "not found",
    409: "not possible in the current state", 413: "the upload is too large",
    415: "the body's content type is not accepted", 422: "the input is not valid",
    429: "too many requests: wait a little", 503: "busy: try again in a minute",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route: each error status with the error body."""
    return {code: {"model": ErrorOut, "description": MESSAGES[code]} for code in codes}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def describe_validation(exc: RequestValidationError | ValidationError) -> str:
    parts = []
    for item in exc.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path", "header"))
        message = str(item.get("msg", "is not valid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts) or "The input is not valid."


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error(422, describe_validation(exc))

    @app.exception_handler(LimitExceeded)
    async def limited(request: Request, exc: LimitExceeded) -> Response:
        return error(429, str(exc))

    @app.exception_handler(CommandError)
    async def command_error(request: Request, exc: CommandError) -> Response:
        return error(400, str(exc))

    @app.exception_handler(RenderError)
    async def render_error(request: Request, exc: RenderError) -> Response:
        if isinstance(exc, EngineBusyError):
            return error(503, str(exc))
        return error(422 if isinstance(exc, InputError) else 400, str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error(500, INTERNAL)
