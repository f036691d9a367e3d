"""Opening a media file someone sent, with FFmpeg through PyAV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from av.container import InputContainer


def open_input(path: Path, **options: Any) -> InputContainer:
    """``path`` opened for reading. Its tags need not be UTF-8: phones and old taggers write other
    encodings and a damaged file holds anything, and PyAV would raise ``UnicodeDecodeError`` on
    opening it instead of reading the sound or the picture; such tags are read with a replacement
    character (nothing here uses them)."""
    import av  # slow to import: not before a file is opened

    return av.open(str(path), mode="r", metadata_errors="replace", **options)
