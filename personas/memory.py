"""What a persona remembers of the people it talks to, per persona × platform × user."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint, select

from core.storage import Storage, utcnow

#: Memory of a persona marked global is shared across servers under this scope.
GLOBAL_SCOPE = "*"


class PersonaMemory(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("persona", "platform", "scope", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    persona: str = Field(index=True)
    platform: str
    scope: str  # the server the memory belongs to, or GLOBAL_SCOPE
    user_id: str = Field(index=True)
    user_name: str = ""
    turns_json: str = "[]"  # recent turns: [{"role": "user"|"persona", "text": ...}]
    facts_json: str = "[]"  # things learned: ["likes jazz", ...]
    summary: str = ""  # condensed older turns
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)

    @property
    def turns(self) -> list[dict[str, str]]:
        return json.loads(self.turns_json)

    @property
    def facts(self) -> list[str]:
        return json.loads(self.facts_json)


def recall(storage: Storage, persona: str, platform: str, scope: str, user_id: str) -> PersonaMemory | None:
    with storage.session() as session:
        query = select(PersonaMemory).where(
            PersonaMemory.persona == persona,
            PersonaMemory.platform == platform,
            PersonaMemory.scope == scope,
            PersonaMemory.user_id == user_id,
        )
        return session.exec(query).first()
