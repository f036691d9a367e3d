"""The ``mouthpiece`` command. Heavy libraries are imported inside commands so ``--help`` is instant,
and the render commands build only the render stack (``core.rendering``), not the whole agent."""

from __future__ import annotations

import atexit
import gc
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from core.cli_common import config_option, fail, load
from core.cli_db import db_app
from core.cli_serve import doctor, run, worker
from core.cli_slack import slack_manifest
from core.models_cli import app as models_app

if TYPE_CHECKING:
    from rich.console import Console

    from core.rendering import RenderStack
    from engine.engine import Progress
    from engine.types import RenderRequest, RenderResult

F = TypeVar("F", bound=Callable[..., Any])

#: The persona's expressions (kept here, not imported from the engine, so --help stays fast).
MOODS = ("neutral", "happy", "sad", "surprised", "angry")


@click.group("mouthpiece", no_args_is_help=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120})
def app() -> None:
    """Mouthpiece: talking-avatar videos for Discord, Telegram and Slack communities."""


app.add_command(models_app)
app.add_command(db_app)
app.add_command(slack_manifest)
for served in (run, doctor, worker):
    app.add_command(served)


def render_options(default_output: str) -> Callable[[F], F]:
    """The options ``say`` and ``avatar`` share: who says it, how, and where the video goes."""
    options = (
        click.option("--persona", "--style", "-p", "persona", metavar="NAME",
                     help="persona name or style (default: the configured default)"),
        click.option("--mood", "-m", type=click.Choice(MOODS), default="neutral", show_default=True,
                     help="the face the persona makes"),
        click.option("--face", "-f", type=click.Path(path_type=Path),
                     help="a photo or a 1–30 s video of a face to animate, with the persona's voice"),
        click.option("--output", "-o", type=click.Path(path_type=Path), default=Path(default_output),
                     show_default=True,
                     help="where to write the video: .mp4 (H.264/AAC), .webm (VP9/Opus) or .gif (no sound)"),
        click.option("--batch", metavar="all", help="all: once with every persona, into NAME-PERSONA.EXT"),
        click.option("--renderer", metavar="NAME", help="wav2lip: neural lip-sync for photo and template personas "
                                        "(needs [models] lipsync)"),
        config_option(),
    )

    def decorate(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _stack(config_path: Path | None) -> RenderStack:
    """Personas and the render engine, with only the plugins that shape renders."""
    from core.plugins import RENDER_PLUGINS, build_plugin_manager
    from core.rendering import build_render_stack

    config = load(config_path)
    return build_render_stack(config, build_plugin_manager(config.plugins.disabled, builtins=RENDER_PLUGINS))


def _render(stack: RenderStack, request: RenderRequest, output: Path | None) -> RenderResult:
    """Render with a progress bar on a terminal; save the result as ``output``; exit 1 on a render error."""
    from core.cli_output import OutputError, check_output, save
    from engine.errors import RenderError

    if output is not None:
        output = output.expanduser()
        try:
            check_output(output)
        except OutputError as error:
            raise fail(str(error)) from None
    with _progress_bar(request.persona) as on_progress:
        try:
            result = stack.engine.render(request, on_progress=on_progress)
        except RenderError as error:
            raise fail(str(error)) from None
    return result if output is None else _moved(result, save(result.path, output))


@contextmanager
def _progress_bar(persona: str) -> Iterator[Callable[[Progress], None] | None]:
    """A progress bar on stderr when it is a terminal and the render takes a while (see ``core.cli_progress``)."""
    if not sys.stderr.isatty():
        yield None
        return
    from core.cli_progress import LateProgressBar

    def console() -> Console:
        from rich.console import Console

        return Console(stderr=True)

    bar = LateProgressBar(persona, console)
    try:
        yield bar
    finally:
        bar.close()


def _moved(result: RenderResult, path: Path) -> RenderResult:
    from dataclasses import replace

    return replace(result, path=path)


def _report(result: RenderResult) -> None:
    speed = result.duration / max(result.elapsed, 1e-9)
    how = "from the cache" if result.cached else f"in {result.elapsed:.2f} s ({speed:.1f}× real time)"
    click.echo(f"{result.path}  {result.duration:.2f} s of video, {result.persona}, made {how}")


def _with_engine(config_path: Path | None, work: Callable[[RenderStack], None]) -> None:
    stack = _stack(config_path)
    stack.engine.start()
    try:
        work(stack)
    finally:
        stack.engine.close()


def _targets(stack: RenderStack, wanted: str | None, batch: str | None, output: Path) -> list[tuple[str, Path]]:
    """(persona, file) pairs to render: the chosen persona, or every one with ``--batch all``."""
    from core.cli_output import batch_outputs

    if batch is None:
        return [(_persona(stack, wanted), output)]
    if batch.lower() != "all":
        raise fail(f"--batch takes only 'all' (every persona), not {batch!r}")
    if wanted:
        raise fail("use --persona or --batch all, not both")
    names = [p.name for p in stack.personas.all()]
    return list(zip(names, batch_outputs(output, names)))


def _render_each(stack: RenderStack, targets: list[tuple[str, Path]], **what: Any) -> None:
    """Render and report each (persona, file) of ``targets``; ``what``: the request's text or clip and mood."""
    for name, out in targets:
        _report(_render(stack, stack.config.engine.request(name, **what), out))


def _persona(stack: RenderStack, wanted: str | None) -> str:
    from engine.errors import UnknownPersonaError

    try:
        return (stack.personas.get(wanted) if wanted else stack.personas.default).name
    except UnknownPersonaError as error:
        raise fail(str(error)) from None


def _language(wanted: str | None) -> str | None:
    from engine.languages import UnknownLanguageError, canonical

    try:
        return canonical(wanted) if wanted else None
    except UnknownLanguageError as error:
        raise fail(str(error)) from None


@app.command()
@click.argument("text")
@click.option("--lang", "-l", metavar="CODE", help="the text's language, e.g. es, cmn (Mandarin), yue (Cantonese), "
                                                   "ja (default: found in the text)")
@render_options("out/say.mp4")
def say(text: str, persona: str | None, mood: str, face: Path | None, output: Path, batch: str | None,
        renderer: str | None, config: Path | None, lang: str | None) -> None:
    """A persona reads TEXT out on video, each piece in its language."""
    language = _language(lang)
    _with_engine(config, lambda stack: _render_each(stack, _targets(stack, persona, batch, output), text=text,
                                                    expression=mood, lang=language, face=_face(face),
                                                    renderer=_renderer(stack, renderer)))


@app.command()
@click.argument("clip", type=click.Path(path_type=Path))
@render_options("out/avatar.mp4")
def avatar(clip: Path, persona: str | None, mood: str, face: Path | None, output: Path, batch: str | None,
           renderer: str | None, config: Path | None) -> None:
    """A persona says your voice CLIP on video.

    CLIP: wav, mp3, ogg, opus, m4a, flac or webm.
    """
    _with_engine(config, lambda stack: _render_each(stack, _targets(stack, persona, batch, output),
                                                    audio_path=clip, expression=mood, face=_face(face),
                                                    renderer=_renderer(stack, renderer)))


def _renderer(stack: RenderStack, wanted: str | None) -> str | None:
    """``--renderer``, refused before any work when it is unknown or its model is not set up."""
    from core.renderers import renderer_problem

    problem = renderer_problem(stack.backends.renderer, stack.config.models, wanted)
    if problem:
        raise fail(problem)
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
        raise fail(str(error)) from None
    return face


@app.group(invoke_without_command=True)
@config_option()
@click.pass_context
def personas(ctx: click.Context, config: Path | None) -> None:
    """List the personas (built-in and your own), or add your own."""
    if ctx.invoked_subcommand is not None:
        return
    rows = [("NAME", "CALLED", "STYLE", "KIND", "VOICE")]
    rows += [(p.name, p.display_name, p.style, p.renderer, " ".join(filter(None, (
        p.voice.backend, p.voice.language, p.voice.variant)))) for p in _stack(config).personas.all()]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])


@personas.command("add")
@click.argument("name")
@click.option("--face", "-f", type=click.Path(path_type=Path), required=True,
              help="a photo or a 1–30 s video of the persona's face")
@click.option("--voice", help="espeak-ng voice: LANGUAGE or LANGUAGE+VARIANT, e.g. en-gb or en-us+f3")
@click.option("--display-name", help="the name shown for it")
@config_option()
def personas_add(name: str, face: Path, voice: str | None, display_name: str | None, config: Path | None) -> None:
    """Make persona NAME from a photo or video, in the first of [personas] user_dirs."""
    from engine.errors import InputError
    from personas.faces import create_face_persona
    from personas.model import VoiceConfig

    folders = load(config).personas.user_dirs
    if not folders:
        raise fail("config.toml's [personas] user_dirs is empty: name a folder for your personas there")
    folder = folders[0]
    try:
        language, _, variant = (voice or "en-us").partition("+")
        voice_config = VoiceConfig(language=language, variant=variant or None) if voice else None
    except ValueError as error:
        raise fail(f"--voice {voice}: expected LANGUAGE or LANGUAGE+VARIANT, e.g. en-gb+f3") from error
    try:
        made = create_face_persona(folder, name, face, display_name=display_name, voice=voice_config)
    except InputError as error:
        raise fail(str(error)) from None
    click.echo(f"{made.name}: a {made.renderer} persona in {folder / made.name}; "
               f"use it with --persona {made.name}")


@app.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
              help="folder for the videos")
@click.option("--clip", type=click.Path(path_type=Path), help="a voice clip to use instead of the generated one")
@config_option()
def demo(out: Path, clip: Path | None, config: Path | None) -> None:
    """One video per built-in persona, and one of a voice clip.

    Each built-in persona reads a sentence from text; one says an audio file (--clip, or one made here).
    """
    from core.demo import run_demo

    _with_engine(config, lambda stack: run_demo(stack, out, clip, render=_render, report=_report))


def main() -> None:
    """The console script: run the command, then leave without tearing the interpreter down.

    Freeing every module's objects one by one takes longer than a short render; exit
    handlers still run and output is flushed first, so nothing is lost. The cycle
    collector stays off for one-shot commands (it would only walk the freshly imported
    modules, again and again); ``run``, which serves for days, switches it back on.
    """
    gc.disable()
    # The engine runs jobs side by side, never one big matrix product: OpenBLAS's thread pool
    # would only cost numpy's import 40 ms (a sentence takes 0.3 s) and contend with the workers.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
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
