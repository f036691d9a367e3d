"""``python -m personas.artwork``: regenerate the built-in personas' assets."""

from __future__ import annotations

from personas.artwork import generate

for folder in generate():
    print(f"wrote {folder}")
