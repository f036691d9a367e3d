"""Where the CLI writes a video (``-o``): the format comes from the extension, and a missing
folder is made only inside the current folder, so a typo can't scatter folders elsewhere."""

from __future__ import annotations

from pathlib import Path

from engine.formats import check_format


class OutputError(ValueError):
    """An ``-o`` path the CLI won't write; the message says why and what to do."""


def check_output(path: Path) -> None:
    """Refuse an unknown extension, or a missing folder outside the current folder, before any work."""
    try:
        check_format(path)
    except ValueError as error:
        raise OutputError(str(error)) from None
    folder = path.expanduser().absolute().parent
    if folder.is_dir():
        return
    if folder.exists():
        raise OutputError(f"{folder} is not a folder.")
    if not folder.resolve().is_relative_to(Path.cwd().resolve()):
        raise OutputError(f"The folder {folder} does not exist. Create it first, or write somewhere that does "
                          "(a missing folder is only made inside the current one).")


def batch_outputs(output: Path, personas: list[str]) -> list[Path]:
    """One file per persona for ``--batch all``: ``out/say.mp4`` → ``out/say-friendly.mp4``, …"""
    return [output.with_name(f"{output.stem}-{name}{output.suffix}") for name in personas]


def save(rendered: Path, output: Path) -> Path:
    """Write the engine's MP4 to ``output`` in the format its extension names."""
    from engine.formats import write_as

    output.parent.mkdir(parents=True, exist_ok=True)
    write_as(rendered, output)
    return output
