"""Members' own voice samples (``!voice``), for text spoken in their voice (``!say --voice mine``).

One sample per platform × user: a 16 kHz mono WAV written by us (never the uploaded file
itself) in a ``voices/`` folder next to the database, named by a hash of platform and user,
with a row in the database saying whose it is.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlmodel import Field, SQLModel, UniqueConstraint, select

from core.storage import Storage, utcnow
from engine.audio import write_wav
from engine.types import SAMPLE_RATE

VOICES_DIR = "voices"


class MemberVoice(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    user_id: str = Field(index=True)
    file_name: str  # inside the voices folder
    sha256: str  # of the stored WAV
    duration: float
    created_at: datetime = Field(default_factory=utcnow)


def voices_dir(storage: Storage) -> Path:
    return storage.data_dir / VOICES_DIR


def sample_file(storage: Storage, voice: MemberVoice) -> Path:
    return voices_dir(storage) / voice.file_name


def find(storage: Storage, platform: str, user_id: str) -> MemberVoice | None:
    with storage.session() as session:
        query = select(MemberVoice).where(MemberVoice.platform == platform, MemberVoice.user_id == user_id)
        return session.exec(query).first()


def save(storage: Storage, platform: str, user_id: str, samples: np.ndarray) -> MemberVoice:
    """Store ``samples`` (16 kHz mono float) as the member's sample, replacing any earlier one."""
    folder = voices_dir(storage)
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(f"{platform}\0{user_id}".encode()).hexdigest()[:32] + ".wav"
    part = folder / f"{name}.{uuid.uuid4().hex[:8]}.part"
    write_wav(part, samples)
    digest = hashlib.sha256(part.read_bytes()).hexdigest()
    os.replace(part, folder / name)
    with storage.session() as session:
        query = select(MemberVoice).where(MemberVoice.platform == platform, MemberVoice.user_id == user_id)
        row = session.exec(query).first() or MemberVoice(platform=platform, user_id=user_id, file_name=name,
                                                           sha256=digest, duration=0.0)
        row.file_name, row.sha256 = name, digest
        row.duration, row.created_at = len(samples) / SAMPLE_RATE, utcnow()
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


def clear(storage: Storage, platform: str, user_id: str) -> bool:
    """Delete the member's sample file and its row; False when there was none."""
    with storage.session() as session:
        query = select(MemberVoice).where(MemberVoice.platform == platform, MemberVoice.user_id == user_id)
        row = session.exec(query).first()
        if row is None:
            return False
        sample_file(storage, row).unlink(missing_ok=True)
        session.delete(row)
        session.commit()
        return True


def setup_hint(missing: list[str]) -> str:
    """What the operator must configure before members can speak in their own voice."""
    keys = ", ".join(missing)
    return ("Speaking in your own voice isn't set up on this bot yet: the operator has to set "
            f"[models] {keys} in config.toml (local SpeechT5, HiFi-GAN and speaker-encoder model folders; "
            "see the README's Models section).")
