"""Writing settings into the operator's ``config.toml`` (``mouthpiece models pull``), keeping
its comments, order and layout: only the values set change."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def set_model_paths(path: Path, values: dict[str, str]) -> None:
    """Set ``[models]`` keys, dotted for a table (``vits_languages.es``), in the TOML file at ``path``
    (created when missing). The file is replaced whole, so a reader never sees half of it."""
    import tomlkit
    from tomlkit.items import InlineTable, Table

    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    if "models" not in document:
        document["models"] = tomlkit.table()
    made: list[Table] = []
    for key, value in values.items():
        table = document["models"]
        *parents, last = key.split(".")
        for parent in parents:
            if parent not in table:
                table[parent] = tomlkit.table()
                made.append(table[parent])
            table = table[parent]
        if not isinstance(table, (Table, InlineTable)):
            raise ValueError(f"{path}: [models] {'.'.join(parents) or 'models'} is not a table")
        table[last] = value
    for table in made:  # a blank line before whatever table follows, as in the rest of the file
        table.add(tomlkit.nl())
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(tomlkit.dumps(document), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
