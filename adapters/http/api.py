"""The REST API under ``/api/v1``; its OpenAPI document is at ``/api/v1/openapi.json``."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from adapters.http import community
from adapters.http.auth import Principal, api_principal
from adapters.http.commands import ServerRef
from adapters.http.errors import describe_validation, documented
from adapters.http.renders import Renders, RenderState, save_upload, scratch_folder
from engine.engine import Priority
from engine.errors import UnknownPersonaError
from engine.face.media import MAX_FACE_BYTES
from engine.languages import UnknownLanguageError, canonical
from engine.text import clean_text
from engine.types import Expression

if TYPE_CHECKING:
    from core.agent import Agent

Mood = Literal["neutral", "happy", "sad", "surprised", "angry"]
ServerPath = Annotated[str, Path(description="PLATFORM:SERVER_ID, e.g. discord:1234", min_length=3, max_length=200,
                                 pattern=r"^[a-z0-9_-]+:[^/]+$")]
RenderId = Annotated[str, Path(min_length=1, max_length=64)]
PREVIEW_TEXT = "Hi! I'm {name}. This is how I sound."


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RenderIn(_Model):
    """A persona reads ``text`` out. To send a voice clip instead, or a face to animate (a photo or a
    1–30 s video), post multipart/form-data with the same fields and the files as ``clip`` and ``face``."""

    text: str = Field(min_length=1, max_length=20_000)
    persona: str | None = Field(None, max_length=64, description="a persona's name or style; default: the default")
    mood: Mood = "neutral"
    lang: str | None = Field(None, max_length=40, description="the language it is spoken in, e.g. es, cmn, yue; "
                                                               "default: found in the text")


class RenderCreated(_Model):
    id: str
    status: str
    url: str = Field(description="where to follow it")


class RenderOut(_Model):
    id: str
    status: Literal["queued", "rendering", "done", "failed", "cancelled"]
    stage: str
    progress: float = Field(ge=0, le=1, description="within the current stage")
    queue_position: int | None
    eta_seconds: float | None
    persona: str
    source: str
    error: str
    duration: float
    video_url: str | None
    created_at: datetime


class PersonaOut(_Model):
    name: str
    display_name: str
    style: str
    description: str
    preview_url: str


_MULTIPART_SCHEMA = {
    "type": "object",
    "properties": {
        "clip": {"type": "string", "format": "binary", "description": "a voice clip (wav, mp3, ogg, …)"},
        "face": {"type": "string", "format": "binary",
                 "description": "a photo or a 1–30 s video of a face, said with the persona's voice"},
        "text": {"type": "string", "maxLength": 20000}, "persona": {"type": "string", "maxLength": 64},
        "lang": {"type": "string", "maxLength": 40},
        "mood": {"type": "string", "enum": [e.value for e in Expression]},
    },
}
_RENDER_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": RenderIn.model_json_schema()},
    "multipart/form-data": {"schema": _MULTIPART_SCHEMA},
}}}

router = APIRouter(prefix="/api/v1", dependencies=[Depends(api_principal)], responses=documented(401, 403))
Caller = Annotated[Principal, Depends(api_principal)]


def _agent(request: Request) -> Agent:
    return request.app.state.agent


def _renders(request: Request) -> Renders:
    return request.app.state.renders


# -- renders ------------------------------------------------------------------------------------


@router.post("/renders", status_code=202, response_model=RenderCreated, openapi_extra=_RENDER_BODY,
             responses=documented(400, 413, 415, 422, 429, 503), tags=["renders"])
async def create_render(request: Request, caller: Caller) -> RenderCreated:
    """Queue a render; answers at once with its id. Rate limits and caps are those of chat."""
    state = await start_render(request, caller)
    return RenderCreated(id=state.id, status=state.status, url=f"/api/v1/renders/{state.id}")


async def start_render(request: Request, caller: Principal) -> RenderState:
    agent = _agent(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    scratch = None
    if kind == "application/json":
        try:
            wanted = RenderIn.model_validate_json(await request.body())
        except ValidationError as error:
            raise HTTPException(422, describe_validation(error)) from None
        fields: dict[str, Any] = wanted.model_dump()
        clip = face = None
    elif kind == "multipart/form-data":
        form = await request.form(max_files=2, max_fields=10)
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        uploads = {key: value for key, value in form.items() if isinstance(value, UploadFile)}
        if set(uploads) - {"clip", "face"}:
            raise HTTPException(422, "Send the voice clip in the field named 'clip' and a face in 'face'.")
        clip, face = uploads.get("clip"), uploads.get("face")
    else:
        raise HTTPException(415, "Send JSON (application/json) or a form with a clip (multipart/form-data).")
    persona = _persona(agent, fields.get("persona"))
    mood = fields.get("mood") or "neutral"
    if mood not in Expression._value2member_map_:
        raise HTTPException(422, f"mood must be one of: {', '.join(e.value for e in Expression)}.")
    text = fields.get("text") or None
    if (text is None) == (clip is None):
        raise HTTPException(422, "Send either text or a clip, not both or neither.")
    lang = _language(fields.get("lang"))
    settings = agent.config.engine
    for upload, cap in ((clip, settings.max_audio_bytes), (face, MAX_FACE_BYTES)):
        if upload is not None and upload.size is not None and upload.size > cap:
            raise HTTPException(413, f"{upload.filename} is {upload.size / 2**20:.1f} MB; the limit is "
                                     f"{cap / 2**20:.0f} MB.")
    if text is not None:
        clean_text(str(text), max_chars=settings.max_text_chars)  # a clear 422 before anything is queued
    if clip is not None or face is not None:
        scratch = scratch_folder()
    face_path = save_upload(scratch, face.filename or "face", face.file) if face and scratch else None
    if clip is not None and scratch is not None:
        path = save_upload(scratch, clip.filename or "clip", clip.file)
        render = settings.request(persona, audio_path=path, expression=mood, face=face_path)
        source, command = FilePath(path).name, "avatar"
    else:
        render = settings.request(persona, text=str(text), expression=mood, lang=lang, face=face_path)
        source, command = str(text), "say"
    return await _renders(request).start(caller, render, source=source, command=command, scratch=scratch)


def _language(code: object) -> str | None:
    """espeak-ng's name for the asked language (None: found in the text); 422 with close matches."""
    if not isinstance(code, str) or not code.strip():
        return None
    try:
        return canonical(code)
    except UnknownLanguageError as error:
        raise HTTPException(422, str(error)) from None


@router.get("/renders", response_model=list[RenderOut], tags=["renders"])
async def list_renders(request: Request, caller: Caller) -> list[RenderOut]:
    """Renders asked for over HTTP since the agent started, newest first."""
    return [render_out(s) for s in _renders(request).visible_to(caller)]


@router.get("/renders/{render_id}", response_model=RenderOut, responses=documented(404), tags=["renders"])
async def get_render(render_id: RenderId, request: Request, caller: Caller) -> RenderOut:
    return render_out(_render_of(request, caller, render_id))


@router.get("/renders/{render_id}/video", response_class=FileResponse, tags=["renders"],
            responses={200: {"content": {"video/mp4": {}}, "description": "the MP4"}, **documented(404, 409)})
async def render_video(render_id: RenderId, request: Request, caller: Caller) -> FileResponse:
    state = _render_of(request, caller, render_id)
    if state.status != "done" or state.video is None:
        raise HTTPException(409, f"The render is {state.status}; the video is there once it is done.")
    if not state.video.is_file():
        raise HTTPException(404, "The video was deleted by housekeeping; render it again.")
    return FileResponse(state.video, media_type="video/mp4", filename=f"mouthpiece-{state.id}.mp4",
                        content_disposition_type="inline")


@router.delete("/renders/{render_id}", response_model=RenderOut, responses=documented(404, 409), tags=["renders"])
async def cancel_render(render_id: RenderId, request: Request, caller: Caller) -> RenderOut:
    """Cancel a queued or running render."""
    state = _render_of(request, caller, render_id)
    if not _renders(request).cancel(state):
        raise HTTPException(409, f"The render is already {state.status}.")
    state.status, state.error = "cancelled", "The render was cancelled."
    return render_out(state)


def render_out(state: RenderState) -> RenderOut:
    return RenderOut(id=state.id, status=state.status, stage=state.stage,
                     progress=round(state.progress, 3), queue_position=state.position, eta_seconds=state.eta_seconds,
                     persona=state.persona, source=state.source, error=state.error, duration=state.duration,
                     video_url=f"/api/v1/renders/{state.id}/video" if state.status == "done" else None,
                     created_at=state.created_at)


def _render_of(request: Request, caller: Principal, render_id: str) -> RenderState:
    state = _renders(request).get(render_id)
    if state is None or (caller.server is not None and state.server != caller.server):
        raise HTTPException(404, f"There is no render {render_id!r} (renders are forgotten at a restart).")
    return state


def _persona(agent: Agent, wanted: object) -> str:
    try:
        return (agent.personas.get(str(wanted)) if wanted else agent.personas.default).name
    except UnknownPersonaError as error:
        raise HTTPException(422, str(error)) from None


# -- personas -----------------------------------------------------------------------------------


@router.get("/personas", response_model=list[PersonaOut], tags=["personas"])
async def list_personas(request: Request) -> list[PersonaOut]:
    return [PersonaOut(name=p.name, display_name=p.display_name, style=p.style, description=p.description,
                       preview_url=f"/api/v1/personas/{p.name}/preview") for p in _agent(request).personas.all()]


@router.get("/personas/{name}/preview", response_class=FileResponse, tags=["personas"],
            responses={200: {"content": {"video/mp4": {}}, "description": "a short clip of the persona"},
                       **documented(404, 503)})
async def persona_preview(name: Annotated[str, Path(max_length=64)], request: Request) -> FileResponse:
    """A short clip of the persona introducing itself (rendered once, then from the cache)."""
    agent = _agent(request)
    persona = next((p for p in agent.personas.all() if p.name == name), None)
    if persona is None:
        raise HTTPException(404, f"There is no persona {name!r}. Personas: {', '.join(agent.personas.names())}.")
    render = agent.config.engine.request(persona.name, text=PREVIEW_TEXT.format(name=persona.display_name),
                                         expression="happy")
    job = await asyncio.to_thread(agent.engine.submit, render, Priority.BATCH)
    result = await job
    return FileResponse(result.path, media_type="video/mp4", content_disposition_type="inline")


# -- servers ------------------------------------------------------------------------------------


def _server(server: str, caller: Principal) -> ServerRef:
    ref = ServerRef.parse(server)
    if not caller.may_use(str(ref)):
        raise HTTPException(403, "This sign-in is for another server.")
    return ref


@router.get("/servers", response_model=list[community.ServerOut], tags=["servers"])
async def list_servers(request: Request, caller: Caller) -> list[community.ServerOut]:
    """The servers the agent knows of (those this sign-in may manage)."""
    return community.known_servers(_agent(request), caller)


@router.get("/servers/{server}/settings", response_model=community.SettingsOut, responses=documented(422),
            tags=["servers"])
async def get_settings(server: ServerPath, request: Request, caller: Caller) -> community.SettingsOut:
    return community.settings_of(_agent(request), _server(server, caller))


@router.patch("/servers/{server}/settings", response_model=community.SettingsOut,
              responses=documented(400, 409, 422), tags=["servers"])
async def change_settings(server: ServerPath, wanted: community.SettingsIn, request: Request,
                          caller: Caller) -> community.SettingsOut:
    """Change settings as ``!server`` does; each is checked as in chat."""
    ref = _server(server, caller)
    await community.change_settings(_agent(request), caller, ref, wanted)
    return community.settings_of(_agent(request), ref)


@router.get("/servers/{server}/announcements", response_model=list[community.AnnouncementOut],
            responses=documented(422), tags=["announcements"])
async def list_announcements(server: ServerPath, request: Request, caller: Caller) -> list[community.AnnouncementOut]:
    return community.announcements_of(_agent(request), _server(server, caller))


@router.post("/servers/{server}/announcements", status_code=201, response_model=community.AnnouncementOut,
             responses=documented(400, 409, 422, 429, 503), tags=["announcements"])
async def schedule_announcement(server: ServerPath, wanted: community.AnnouncementIn, request: Request,
                                caller: Caller) -> community.AnnouncementOut:
    """Schedule an announcement (``!announce at`` / ``cron``); the video is rendered now."""
    return await community.schedule_announcement(_agent(request), caller, _server(server, caller), wanted)


@router.delete("/servers/{server}/announcements/{announcement_id}", status_code=204,
               responses=documented(404, 409, 422), tags=["announcements"])
async def cancel_announcement(server: ServerPath, announcement_id: Annotated[int, Path(ge=1, le=2**62)],
                              request: Request, caller: Caller) -> None:
    await community.cancel_announcement(_agent(request), caller, _server(server, caller), announcement_id)


@router.get("/servers/{server}/contests", response_model=list[community.ContestOut], responses=documented(422),
            tags=["contests"])
async def list_contests(server: ServerPath, request: Request, caller: Caller) -> list[community.ContestOut]:
    """The server's contests, newest first, with their standings (live while one runs)."""
    return community.contests_of(_agent(request), _server(server, caller))


@router.get("/servers/{server}/contests/{contest_id}", response_model=community.ContestOut,
            responses=documented(404, 422), tags=["contests"])
async def get_contest(server: ServerPath, contest_id: Annotated[int, Path(ge=1, le=2**62)], request: Request,
                      caller: Caller) -> community.ContestOut:
    """One contest and its standings."""
    found = [c for c in community.contests_of(_agent(request), _server(server, caller)) if c.id == contest_id]
    if not found:
        raise HTTPException(404, f"There is no contest #{contest_id} in this server.")
    return found[0]
