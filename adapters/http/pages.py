"""The dashboard's pages, rendered on the server; forms post back here with the session's CSRF
token, and the render page follows its render through the API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from adapters.http import community
from adapters.http.api import render_out
from adapters.http.auth import SESSION_COOKIE, Principal, Sessions, check_csrf, session_principal
from adapters.http.commands import ServerRef
from adapters.http.errors import INTERNAL
from core import signin
from core.commands import CommandError
from engine.errors import RenderError

if TYPE_CHECKING:
    from core.agent import Agent

log = logging.getLogger(__name__)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


class SignInNeeded(HTTPException):
    def __init__(self) -> None:
        super().__init__(303, "sign in", headers={"Location": "/signin?expired=1"})


def page_principal(request: Request) -> Principal:
    principal = session_principal(request)
    if principal is None:
        raise SignInNeeded
    return principal


Admin = Annotated[Principal, Depends(page_principal)]
Csrf = Annotated[str, Form(alias="csrf")]


def _page(request: Request, name: str, principal: Principal | None, status: int = 200, **values: Any) -> Response:
    flash = request.app.state.flash.pop(request.cookies.get(SESSION_COOKIE, ""), None)
    return templates.TemplateResponse(request, name, {"me": principal, "flash": flash, **values},
                                      status_code=status)


def _redirect(request: Request, to: str, notice: str = "") -> Response:
    if notice:
        request.app.state.flash[request.cookies.get(SESSION_COOKIE, "")] = notice
    return RedirectResponse(to, status_code=303)


def _same_origin(request: Request) -> None:
    """Forms are only taken from our own pages (a second line behind SameSite and CSRF tokens)."""
    origin = request.headers.get("origin")
    if origin is not None and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host"):
        raise HTTPException(403, "This form came from another site.")


def _agent(request: Request) -> Agent:
    return request.app.state.agent


def _sign_in(request: Request, principal: Principal) -> Response:
    sessions: Sessions = request.app.state.sessions
    session_id = sessions.open(principal)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=int(sessions.lifetime.total_seconds()), httponly=True,
                        samesite="strict", path="/",
                        secure=request.url.scheme == "https" or _agent(request).config.dashboard.public_url.startswith(
                            "https://"))  # behind a TLS proxy the request itself comes in as http
    return response


# -- signing in ---------------------------------------------------------------------------------


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, expired: int = 0) -> Response:
    notice = "Your session has ended; sign in again." if expired else ""
    return _page(request, "signin.html", None, notice=notice, prefix=_agent(request).commands.prefix)


@router.post("/signin")
async def signin_submit(request: Request, token: Annotated[str, Form(max_length=1024)] = "") -> Response:
    _same_origin(request)
    if not request.app.state.sessions.token_matches(token):
        return _page(request, "signin.html", None, status=401, error="That token is not right.",
                     prefix=_agent(request).commands.prefix)
    return _sign_in(request, Principal("dashboard", "Operator"))


@router.get("/signin/link", response_class=HTMLResponse)
async def link_form(request: Request, code: str = "") -> Response:
    # Signing in takes a click: a link preview that fetches the address must not use the code up.
    return _page(request, "link.html", None, code=code[:200])


@router.post("/signin/link")
async def link_submit(request: Request, code: Annotated[str, Form(max_length=200)] = "") -> Response:
    _same_origin(request)
    grant = signin.redeem(_agent(request).storage, code)
    if grant is None:
        return _page(request, "link.html", None, status=401, code="",
                     error="This sign-in link has expired or was already used. Ask for a new one with "
                           f"{_agent(request).commands.prefix}dashboard.")
    return _sign_in(request, Principal(grant.user_id, grant.user_name or grant.user_id, grant.server,
                                       grant.server_name))


@router.post("/signout")
async def signout(request: Request, admin: Admin, csrf: Csrf) -> Response:
    check_csrf(admin, csrf)
    request.app.state.sessions.close(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- renders and personas -----------------------------------------------------------------------


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, admin: Admin) -> Response:
    agent = _agent(request)
    renders = [render_out(s) for s in request.app.state.renders.visible_to(admin)]
    records = [r for r in agent.storage.recent_renders(30)
               if admin.server is None or f"{r.platform}:{r.server_id}" == admin.server]
    return _page(request, "render.html", admin, personas=agent.personas.all(), default=agent.personas.default.name,
                 queue=[r for r in renders if r.status in ("queued", "rendering")],
                 finished=[r for r in renders if r.status not in ("queued", "rendering")][:20], records=records,
                 max_mb=agent.config.engine.max_audio_bytes // 2**20)


@router.get("/dashboard/personas", response_class=HTMLResponse)
async def personas(request: Request, admin: Admin) -> Response:
    return _page(request, "personas.html", admin, personas=_agent(request).personas.all())


# -- servers ------------------------------------------------------------------------------------


@router.get("/dashboard/servers", response_class=HTMLResponse)
async def servers(request: Request, admin: Admin, go: str = "") -> Response:
    if admin.server is not None:
        return RedirectResponse(f"/dashboard/servers/{admin.server}/settings", status_code=303)
    if go:
        return RedirectResponse(f"/dashboard/servers/{ServerRef.parse(go.strip())}/settings", status_code=303)
    return _page(request, "servers.html", admin, servers=community.known_servers(_agent(request), admin))


def _server_of(admin: Principal, server: str) -> ServerRef:
    ref = ServerRef.parse(server)
    if not admin.may_use(str(ref)):
        raise HTTPException(403, "This sign-in is for another server.")
    return ref


async def _attempt(work: Callable[[], Any]) -> str:
    """Run a change; the message of what went wrong, or "" when it worked."""
    try:
        await work()
    except (CommandError, RenderError) as error:
        return str(error)
    except HTTPException as error:
        return str(error.detail)
    except ValidationError as error:
        return "; ".join(str(e["msg"]) for e in error.errors())
    except Exception:
        log.exception("a dashboard change failed")
        return INTERNAL
    return ""


@router.get("/dashboard/servers/{server}/settings", response_class=HTMLResponse)
async def settings_page(request: Request, server: str, admin: Admin) -> Response:
    ref = _server_of(admin, server)
    return _settings_page(request, admin, ref)


def _settings_page(request: Request, admin: Principal, ref: ServerRef, status: int = 200, error: str = "") -> Response:
    agent = _agent(request)
    # The server's own personas too (by their name in the server, as !server persona takes them).
    personas = [(p.name, p.display_name) for p in agent.personas.all()]
    personas += [(name, f"{name} (this server's)") for name, _ in agent.server_personas.listed(ref.platform,
                                                                                               ref.server_id)]
    return _page(request, "settings.html", admin, status=status, error=error, server=str(ref),
                 settings=community.settings_of(agent, ref), personas=personas, section="settings")


@router.post("/dashboard/servers/{server}/settings")
async def settings_submit(request: Request, server: str, admin: Admin, csrf: Csrf,
                          persona: Annotated[str, Form(max_length=64)] = "",
                          timezone: Annotated[str, Form(max_length=64)] = "",
                          announce_channel: Annotated[str, Form(max_length=64)] = "",
                          welcome_channel: Annotated[str, Form(max_length=64)] = "") -> Response:
    _same_origin(request)
    check_csrf(admin, csrf)
    ref = _server_of(admin, server)
    form = await request.form()
    agent = _agent(request)
    current = community.settings_of(agent, ref)
    wanted: dict[str, Any] = {}
    for key, value in (("persona", persona), ("timezone", timezone), ("announce_channel", announce_channel.strip()),
                       ("welcome_channel", welcome_channel.strip())):
        if value != getattr(current, key):
            wanted[key] = value
    disabled = sorted(p for p in current.plugins if form.get(f"plugin-{p}") != "on")
    if disabled != sorted(current.disabled_plugins):
        wanted["disabled_plugins"] = disabled
    error = await _attempt(lambda: community.change_settings(agent, admin, ref, community.SettingsIn(**wanted)))
    if error:
        return _settings_page(request, admin, ref, status=400, error=error)
    return _redirect(request, f"/dashboard/servers/{ref}/settings", "Settings saved." if wanted else "Nothing changed.")


@router.get("/dashboard/servers/{server}/announcements", response_class=HTMLResponse)
async def announcements_page(request: Request, server: str, admin: Admin) -> Response:
    return _announcements_page(request, admin, _server_of(admin, server))


def _announcements_page(request: Request, admin: Principal, ref: ServerRef, status: int = 200, error: str = "",
                        form: dict[str, str] | None = None) -> Response:
    agent = _agent(request)
    return _page(request, "announcements.html", admin, status=status, error=error, server=str(ref),
                 settings=community.settings_of(agent, ref), section="announcements",
                 announcements=community.announcements_of(agent, ref), form=form or {})


@router.post("/dashboard/servers/{server}/announcements")
async def announcements_submit(request: Request, server: str, admin: Admin, csrf: Csrf,
                               text: Annotated[str, Form(max_length=4000)] = "",
                               kind: Annotated[str, Form(max_length=10)] = "at",
                               at: Annotated[str, Form(max_length=64)] = "",
                               cron: Annotated[str, Form(max_length=100)] = "",
                               channel: Annotated[str, Form(max_length=64)] = "") -> Response:
    _same_origin(request)
    check_csrf(admin, csrf)
    ref = _server_of(admin, server)
    agent = _agent(request)
    scheduled: list[community.AnnouncementOut] = []

    recurring = kind == "cron" or (not at.strip() and bool(cron.strip()))

    async def schedule() -> None:
        wanted = community.AnnouncementIn(text=text, at=None if recurring else at, cron=cron if recurring else None,
                                          channel=channel.strip() or None)
        scheduled.append(await community.schedule_announcement(agent, admin, ref, wanted))

    error = await _attempt(schedule)
    if error:
        return _announcements_page(request, admin, ref, status=400, error=error,
                                   form={"text": text, "kind": kind, "at": at, "cron": cron, "channel": channel})
    return _redirect(request, f"/dashboard/servers/{ref}/announcements",
                     f"Scheduled announcement #{scheduled[0].id}; its video is ready.")


@router.post("/dashboard/servers/{server}/announcements/{announcement_id}/cancel")
async def announcement_cancel(request: Request, server: str, announcement_id: int, admin: Admin,
                              csrf: Csrf) -> Response:
    _same_origin(request)
    check_csrf(admin, csrf)
    ref = _server_of(admin, server)
    error = await _attempt(lambda: community.cancel_announcement(_agent(request), admin, ref, announcement_id))
    if error:
        return _announcements_page(request, admin, ref, status=400, error=error)
    return _redirect(request, f"/dashboard/servers/{ref}/announcements", f"Cancelled announcement #{announcement_id}.")


@router.get("/dashboard/servers/{server}/contests", response_class=HTMLResponse)
async def contests_page(request: Request, server: str, admin: Admin) -> Response:
    ref = _server_of(admin, server)
    return _page(request, "contests.html", admin, server=str(ref), section="contests",
                 contests=community.contests_of(_agent(request), ref))
