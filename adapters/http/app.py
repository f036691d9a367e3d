"""The ASGI application: the REST API, the dashboard's pages and their static files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from adapters.http import api, errors, pages
from adapters.http.auth import Sessions
from adapters.http.guard import Guard
from adapters.http.renders import Renders

if TYPE_CHECKING:
    from core.agent import Agent

HERE = Path(__file__).parent
#: Room for a multipart form's other fields around the largest clip.
FORM_OVERHEAD = 64 * 1024


def build_app(agent: Agent, token: str) -> FastAPI:
    """The dashboard and API of ``agent``, signed in with ``token``."""
    settings = agent.config.dashboard
    app = FastAPI(title="Mouthpiece", version="1", summary="Talking-avatar videos: renders, personas and servers.",
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)  # the docs UIs load from a CDN
    app.state.agent = agent
    app.state.sessions = Sessions(token, timedelta(hours=settings.session_hours), agent.storage)
    app.state.renders = Renders(agent)
    app.state.flash = {}  # a notice for a session's next page ("Settings saved."), by session cookie
    errors.install(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(Guard, max_body=agent.config.engine.max_audio_bytes + FORM_OVERHEAD)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                             routes=api.router.routes)
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "MOUTHPIECE_DASHBOARD_TOKEN"}}
        schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
    return app.openapi_schema
