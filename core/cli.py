"""The ``mouthpiece`` command. Heavy libraries are imported inside commands so ``--help`` is instant."""

from __future__ import annotations

import asyncio
import logging
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from core.cli_db import database_errors, db_app
from core.models_cli import app as models_app

if TYPE_CHECKING:
    from core.agent import Agent
    from engine.types import RenderRequest, RenderResult

app = typer.Typer(help="Mouthpiece: talking-avatar videos for Discord, Telegram and Slack communities.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
app.add_typer(models_app, name="models")
app.add_typer(db_app, name="db")


class Mood(str, Enum):
    """The persona's expression (kept here, not imported from the engine, so --help stays fast)."""

    neutral = "neutral"
    happy = "happy"
    sad = "sad"
    surprised = "surprised"
    angry = "angry"


ConfigOption = Annotated[Optional[Path], typer.Option(
    "--config", "-c", help="config.toml to use (default: $MOUTHPIECE_CONFIG, then ./config.toml)")]
PersonaOption = Annotated[Optional[str], typer.Option(
    "--persona", "--style", "-p", help="persona name or style (default: the configured default)")]
MoodOption = Annotated[Mood, typer.Option("--mood", "-m", help="the face the persona makes")]
OutputOption = Annotated[Path, typer.Option(
    "--output", "-o", help="where to write the video: .mp4 (H.264/AAC), .webm (VP9/Opus) or .gif (no sound)")]
BatchOption = Annotated[Optional[str], typer.Option(
    "--batch", metavar="all", help="all: once with every persona, into NAME-PERSONA.EXT")]
LangOption = Annotated[Optional[str], typer.Option(
    "--lang", "-l", help="the text's language, e.g. es, cmn (Mandarin), yue (Cantonese), ja (default: found in the "
                         "text)")]
FaceOption = Annotated[Optional[Path], typer.Option(
    "--face", "-f", help="a photo or a 1–30 s video of a face to animate, with the persona's voice")]
RendererOption = Annotated[Optional[str], typer.Option(
    "--renderer", help="wav2lip: neural lip-sync for photo and template personas (needs [models] lipsync)")]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


def _agent(config_path: Path | None, *, serving: bool = False) -> Agent:
    """The agent on the chosen config; one-shot commands log only warnings and errors."""
    from core.agent import Agent
    from core.config import ConfigError, Secrets, load_config

    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise _fail(str(error)) from None
    level = logging.getLevelName(config.agent.log_level.upper())
    logging.basicConfig(level=level if serving else max(level, logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with database_errors():  # a database too new, unreachable or not upgradable: one clear line
        return Agent(config, Secrets.from_env())


def _render(agent: Agent, request: RenderRequest, output: Path | None) -> RenderResult:
    """Render with a progress bar; copy the result to ``output``; exit 1 on a render error."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    from core.cli_output import OutputError, check_output, save
    from engine.errors import RenderError

    if output is not None:
        output = output.expanduser()
        try:
            check_output(output)
        except OutputError as error:
            raise _fail(str(error)) from None
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
    stderr = Console(stderr=True)
    with Progress(*columns, transient=True, console=stderr, disable=not stderr.is_terminal) as bar:
        task = bar.add_task(f"{request.persona}: starting", total=1)

        def on_progress(progress) -> None:  # type: ignore[no-untyped-def]
            bar.update(task, description=f"{request.persona}: {progress.stage}",
                       completed=progress.done, total=max(progress.total, 1))

        try:
            result = agent.engine.render(request, on_progress=on_progress)
        except RenderError as error:
            raise _fail(str(error)) from None
    return result if output is None else _moved(result, save(result.path, output))


def _moved(result: RenderResult, path: Path) -> RenderResult:
    from dataclasses import replace

    return replace(result, path=path)


def _report(result: RenderResult) -> None:
    speed = result.duration / max(result.elapsed, 1e-9)
    how = "from the cache" if result.cached else f"in {result.elapsed:.2f} s ({speed:.1f}× real time)"
    typer.echo(f"{result.path}  {result.duration:.2f} s of video, {result.persona}, made {how}")


def _with_engine(config_path: Path | None, work) -> None:  # type: ignore[no-untyped-def]
    agent = _agent(config_path)
    agent.engine.start()
    try:
        work(agent)
    finally:
        agent.engine.close()
        agent.storage.close()


def _targets(agent: Agent, wanted: str | None, batch: str | None, output: Path) -> list[tuple[str, Path]]:
    """(persona, file) pairs to render: the chosen persona, or every one with ``--batch all``."""
    from core.cli_output import batch_outputs

    if batch is None:
        return [(_persona(agent, wanted), output)]
    if batch.lower() != "all":
        raise _fail(f"--batch takes only 'all' (every persona), not {batch!r}")
    if wanted:
        raise _fail("use --persona or --batch all, not both")
    names = [p.name for p in agent.personas.all()]
    return list(zip(names, batch_outputs(output, names)))


def _render_each(agent: Agent, targets: list[tuple[str, Path]], **what: Any) -> None:
    """Render and report each (persona, file) of ``targets``; ``what``: the request's text or clip and mood."""
    for name, out in targets:
        _report(_render(agent, agent.config.engine.request(name, **what), out))


def _persona(agent: Agent, wanted: str | None) -> str:
    from engine.errors import UnknownPersonaError

    try:
        return (agent.personas.get(wanted) if wanted else agent.personas.default).name
    except UnknownPersonaError as error:
        raise _fail(str(error)) from None


def _language(wanted: str | None) -> str | None:
    from engine.languages import UnknownLanguageError, canonical

    try:
        return canonical(wanted) if wanted else None
    except UnknownLanguageError as error:
        raise _fail(str(error)) from None


@app.command()
def say(text: str, persona: PersonaOption = None, mood: MoodOption = Mood.neutral, face: FaceOption = None,
        output: OutputOption = Path("out/say.mp4"), batch: BatchOption = None, lang: LangOption = None,
        renderer: RendererOption = None, config: ConfigOption = None) -> None:
    """A persona reads TEXT out on video, each piece in its language."""
    language = _language(lang)
    _with_engine(config, lambda agent: _render_each(agent, _targets(agent, persona, batch, output), text=text,
                                                    expression=mood.value, lang=language, face=_face(face),
                                                    renderer=_renderer(agent, renderer)))


@app.command()
def avatar(clip: Path, persona: PersonaOption = None, mood: MoodOption = Mood.neutral, face: FaceOption = None,
           output: OutputOption = Path("out/avatar.mp4"), batch: BatchOption = None,
           renderer: RendererOption = None, config: ConfigOption = None) -> None:
    """A persona says the voice CLIP (wav, mp3, ogg, opus, m4a, flac, webm) on video."""
    _with_engine(config, lambda agent: _render_each(agent, _targets(agent, persona, batch, output),
                                                    audio_path=clip, expression=mood.value, face=_face(face),
                                                    renderer=_renderer(agent, renderer)))


def _renderer(agent: Agent, wanted: str | None) -> str | None:
    """``--renderer``, refused before any work when it is unknown or its model is not set up."""
    from core.renderers import renderer_problem

    problem = renderer_problem(agent, wanted)
    if problem:
        raise _fail(problem)
    return wanted


def _face(face: Path | None) -> Path | None:
    """The face file, checked before the render so a bad one fails with its own message."""
    if face is None:
        return None
    from engine.errors import InputError
    from personas.faces import check_face

    try:
        check_face(face)
    except InputError as error:
        raise _fail(str(error)) from None
    return face


personas_app = typer.Typer(help="List the personas (built-in and your own), or add your own.",
                           invoke_without_command=True, no_args_is_help=False)
app.add_typer(personas_app, name="personas")


@personas_app.callback()
def personas(ctx: typer.Context, config: ConfigOption = None) -> None:
    """List the personas (built-in and your own)."""
    if ctx.invoked_subcommand is not None:
        return
    agent = _agent(config)
    rows = [("NAME", "CALLED", "STYLE", "KIND", "VOICE")]
    rows += [(p.name, p.display_name, p.style, p.renderer, " ".join(filter(None, (
        p.voice.backend, p.voice.language, p.voice.variant)))) for p in agent.personas.all()]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])


@personas_app.command("add")
def personas_add(
    name: str,
    face: Annotated[Path, typer.Option("--face", "-f", help="a photo or a 1–30 s video of the persona's face")],
    voice: Annotated[Optional[str], typer.Option(
        help="espeak-ng voice: LANGUAGE or LANGUAGE+VARIANT, e.g. en-gb or en-us+f3")] = None,
    display_name: Annotated[Optional[str], typer.Option(help="the name shown for it")] = None,
    config: ConfigOption = None,
) -> None:
    """Make persona NAME from a photo or video, in the first of [personas] user_dirs."""
    from core.config import ConfigError, load_config
    from engine.errors import InputError
    from personas.faces import create_face_persona
    from personas.model import VoiceConfig

    try:
        folder = load_config(config).personas.user_dirs[0]
    except (ConfigError, IndexError) as error:
        raise _fail(str(error) or "config.toml's [personas] user_dirs is empty") from None
    try:
        language, _, variant = (voice or "en-us").partition("+")
        voice_config = VoiceConfig(language=language, variant=variant or None) if voice else None
    except ValueError as error:
        raise _fail(f"--voice {voice}: expected LANGUAGE or LANGUAGE+VARIANT, e.g. en-gb+f3") from error
    try:
        made = create_face_persona(folder, name, face, display_name=display_name, voice=voice_config)
    except InputError as error:
        raise _fail(str(error)) from None
    typer.echo(f"{made.name}: a {made.renderer} persona in {folder / made.name}; "
               f"use it with --persona {made.name}")


@app.command()
def demo(out: Annotated[Path, typer.Option(help="folder for the videos")] = Path("out"),
         clip: Annotated[Optional[Path], typer.Option(help="a voice clip to use instead of the generated one")] = None,
         config: ConfigOption = None) -> None:
    """Render one clip per built-in persona from text, and one from an audio file."""
    from core.demo import run_demo

    _with_engine(config, lambda agent: run_demo(agent, out, clip, render=_render, report=_report))


@app.command()
def run(config: ConfigOption = None, as_member: Annotated[Optional[str], typer.Option(
        "--as", metavar="NAME", help="try the console as the member NAME (no admin rights), even with tokens set")]
        = None) -> None:
    """Serve every platform whose token is set, all in one process; the console when none is."""
    from core.runner import CONSOLE, Runner, SettingsRefused, choose_adapters, console_as, keep_log_out_of_chat

    agent = _agent(config, serving=True)
    try:
        adapters = console_as(agent, as_member) if as_member is not None else choose_adapters(agent)
    except SettingsRefused as error:
        agent.storage.close()
        raise _fail(str(error)) from None
    except ValueError as error:  # --as: a name no member could have
        agent.storage.close()
        raise _fail(f"--as: {error}") from None
    # On the console Ctrl-C stays an interrupt, as in any terminal program; a service stops gracefully.
    serving_platforms = any(a.platform != CONSOLE for a in adapters)
    if not serving_platforms:
        keep_log_out_of_chat()
    asyncio.run(Runner(agent, adapters).run(handle_signals=serving_platforms))


@app.command()
def doctor(config: ConfigOption = None) -> None:
    """Show which platforms can start and what each is missing (never the secrets themselves)."""
    from core.config import ConfigError, Secrets, find_config_file, load_config
    from core.database import describe
    from core.runner import adapter_states

    try:
        settings = load_config(config)
    except ConfigError as error:
        raise _fail(str(error)) from None
    found = find_config_file(config)
    typer.echo(f"config:    {found or 'built-in defaults'}")
    typer.echo(f"database:  {describe(settings.agent.database)}")
    models = settings.models
    typer.echo(f"models:    asr={models.asr or 'none'}, llm={models.llm or 'none'}, device={models.device}")
    typer.echo("adapters:")
    states = adapter_states(Secrets.from_env(), settings)
    for state in states:
        typer.echo(f"  {state.name:<10} {state.describe()}")
    platforms = [s.name for s in states if s.ready and s.name != "console"]
    serves = ", ".join(platforms) if platforms else "the console (no platform is ready)"
    typer.echo(f"'mouthpiece run' serves: {serves}")


@app.command()
def worker(
    address: Annotated[Optional[str], typer.Option(help="the head node's host:port (for a worker node)")] = None,
    head: Annotated[bool, typer.Option("--head", help="start the cluster's head node (on the bot's machine)")] = False,
    renders: Annotated[Optional[int], typer.Option(
        min=0, help="renders this node runs at once (default: one per core; 0 on a head)")] = None,
    port: Annotated[int, typer.Option(help="the head's port")] = 6379,
    ip: Annotated[Optional[str], typer.Option(help="this node's address as the others reach it")] = None,
    object_store_mb: Annotated[Optional[int], typer.Option(min=64, help="Ray object store size in MB")] = None,
    extra: Annotated[Optional[list[str]], typer.Argument(help="more `ray start` options, after --")] = None,
) -> None:
    """Start this machine as a node of the render cluster ([engine] executor = "ray"), with `ray start`.

    RAY_AUTH_TOKEN must hold the cluster's shared token, the same on the bot and every node.
    """
    import os
    import subprocess

    from core.cluster import ray_environment, ray_start_command

    if head == (address is not None):
        raise _fail("give either --head (the first node) or --address HOST:PORT (a worker node)")
    try:
        env = ray_environment()
    except ValueError as error:
        raise _fail(str(error)) from None
    slots = renders if renders is not None else (0 if head else os.cpu_count() or 1)
    command = ray_start_command(head=head, address=address, port=port, renders=slots, ip=ip,
                                object_store_mb=object_store_mb, extra=list(extra or []))
    typer.echo(" ".join(command), err=True)
    try:
        raise typer.Exit(subprocess.call(command, env=env))
    except FileNotFoundError:
        raise _fail('Ray is not installed here: pip install "mouthpiece[ray]"') from None
