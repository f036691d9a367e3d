"""The ``mouthpiece`` command. Heavy libraries are imported inside commands so ``--help`` is instant,
and the render commands build only the render stack (``core.rendering``), not the whole agent."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from core.cli_db import database_errors, db_app

if TYPE_CHECKING:
    from core.agent import Agent
    from core.config import Config
    from core.rendering import RenderStack
    from engine.engine import Progress
    from engine.types import RenderRequest, RenderResult

app = typer.Typer(help="Mouthpiece: talking-avatar videos for Discord, Telegram and Slack communities.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)

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
OutputOption = Annotated[Path, typer.Option("--output", "-o", help="where to write the MP4")]
LangOption = Annotated[Optional[str], typer.Option(
    "--lang", "-l", help="the text's language, e.g. es, cmn (Mandarin), yue (Cantonese), ja (default: found in the "
                         "text)")]
FaceOption = Annotated[Optional[Path], typer.Option(
    "--face", "-f", help="a photo or a 1–30 s video of a face to animate, with the persona's voice")]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


def _config(config_path: Path | None, *, serving: bool = False) -> Config:
    """The chosen config; one-shot commands log only warnings and errors."""
    from core.config import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise _fail(str(error)) from None
    level = logging.getLevelName(config.agent.log_level.upper())
    logging.basicConfig(level=level if serving else max(level, logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return config


def _agent(config_path: Path | None, *, serving: bool = False) -> Agent:
    from core.agent import Agent
    from core.config import Secrets

    config = _config(config_path, serving=serving)
    with database_errors():  # a database too new, unreachable or not upgradable: one clear line
        return Agent(config, Secrets.from_env())


def _stack(config_path: Path | None) -> RenderStack:
    """Personas and the render engine, with only the plugins that shape renders."""
    from core.plugins import RENDER_PLUGINS, build_plugin_manager
    from core.rendering import build_render_stack

    config = _config(config_path)
    return build_render_stack(config, build_plugin_manager(config.plugins.disabled, builtins=RENDER_PLUGINS))


def _render(stack: RenderStack, request: RenderRequest, output: Path | None) -> RenderResult:
    """Render with a progress bar on a terminal; copy the result to ``output``; exit 1 on a render error."""
    from engine.errors import RenderError

    with _progress_bar(request.persona) as on_progress:
        try:
            result = stack.engine.render(request, on_progress=on_progress)
        except RenderError as error:
            raise _fail(str(error)) from None
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result.path, output)
        result = _moved(result, output)
    return result


@contextmanager
def _progress_bar(persona: str) -> Iterator[Callable[[Progress], None] | None]:
    """A rich progress bar on stderr when it is a terminal (rich is imported only then)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
    with Bar(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(f"{persona}: starting", total=1)

        def on_progress(progress: Progress) -> None:
            bar.update(task, description=f"{persona}: {progress.stage}",
                       completed=progress.done, total=max(progress.total, 1))

        yield on_progress


def _moved(result: RenderResult, path: Path) -> RenderResult:
    from dataclasses import replace

    return replace(result, path=path)


def _report(result: RenderResult) -> None:
    speed = result.duration / max(result.elapsed, 1e-9)
    how = "from the cache" if result.cached else f"in {result.elapsed:.2f} s ({speed:.1f}× real time)"
    typer.echo(f"{result.path}  {result.duration:.2f} s of video, {result.persona}, made {how}")


def _with_engine(config_path: Path | None, work: Callable[[RenderStack], None]) -> None:
    stack = _stack(config_path)
    stack.engine.start()
    try:
        work(stack)
    finally:
        stack.engine.close()


def _persona(stack: RenderStack, wanted: str | None) -> str:
    from engine.errors import UnknownPersonaError

    try:
        return (stack.personas.get(wanted) if wanted else stack.personas.default).name
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
        output: OutputOption = Path("out/say.mp4"), lang: LangOption = None, config: ConfigOption = None) -> None:
    """A persona reads TEXT out on video, each piece in its language."""
    language = _language(lang)
    _with_engine(config, lambda stack: _report(_render(stack, stack.config.engine.request(
        _persona(stack, persona), text=text, expression=mood.value, lang=language, face=_face(face)), output)))


@app.command()
def avatar(clip: Path, persona: PersonaOption = None, mood: MoodOption = Mood.neutral, face: FaceOption = None,
           output: OutputOption = Path("out/avatar.mp4"), config: ConfigOption = None) -> None:
    """A persona says the voice CLIP (wav, mp3, ogg, opus, m4a, flac, webm) on video."""
    _with_engine(config, lambda stack: _report(_render(stack, stack.config.engine.request(
        _persona(stack, persona), audio_path=clip, expression=mood.value, face=_face(face)), output)))


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
    for p in _stack(config).personas.all():
        typer.echo(f"{p.name:<12} {p.style:<10} {p.description}")


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

    _with_engine(config, lambda stack: run_demo(stack, out, clip, render=_render, report=_report))


@app.command()
def run(config: ConfigOption = None) -> None:
    """Serve every platform whose token is set, all in one process; the console when none is."""
    import asyncio

    from core.runner import CONSOLE, Runner, SettingsRefused, choose_adapters

    gc.enable()

    agent = _agent(config, serving=True)
    try:
        adapters = choose_adapters(agent)
    except SettingsRefused as error:
        agent.storage.close()
        raise _fail(str(error)) from None
    # On the console Ctrl-C stays an interrupt, as in any terminal program; a service stops gracefully.
    serving_platforms = any(a.platform != CONSOLE for a in adapters)
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


def main() -> None:
    """The console script: run the command, then leave without tearing the interpreter down.

    Freeing every module's objects one by one takes longer than a short render; exit
    handlers still run and output is flushed first, so nothing is lost. The cycle
    collector stays off for one-shot commands (it would only walk the freshly imported
    modules, again and again); ``run``, which serves for days, switches it back on.
    """
    gc.disable()
    try:
        app()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
