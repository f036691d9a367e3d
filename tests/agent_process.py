"""One bot process for the tests of several processes on one database.

``python -m tests.agent_process CONFIG POSTS`` runs an agent on CONFIG's database with a test
platform whose every post is appended to the file POSTS (one JSON line each), prints ``leader``
or ``follower`` once started, and runs until it is killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from core.agent import Agent
from core.config import load_config
from core.replies import Reply, Responder, StatusMessage, TextReply, VideoReply
from core.testing.testbot import RecordingAdapter, RecordingStatus


class FileResponder(Responder):
    def __init__(self, posts: Path, channel_id: str) -> None:
        self.posts, self.channel_id = posts, channel_id

    async def send(self, reply: Reply) -> None:
        text = reply.caption if isinstance(reply, VideoReply) else reply.text if isinstance(reply, TextReply) else ""
        with self.posts.open("a") as out:
            out.write(json.dumps({"channel": self.channel_id, "kind": type(reply).__name__, "text": text}) + "\n")

    async def status(self, text: str) -> StatusMessage:
        return RecordingStatus(self, text)  # type: ignore[arg-type]


class FileAdapter(RecordingAdapter):
    def __init__(self, agent: Agent, posts: Path) -> None:
        super().__init__(agent)
        self.posts = posts

    async def open_channel(self, channel_id: str, *, server_id: str | None = None) -> Responder:
        return FileResponder(self.posts, channel_id)


async def main(config: Path, posts: Path) -> None:
    async with Agent(load_config(config)) as agent:
        agent.attach(FileAdapter(agent, posts))
        print("leader" if agent.leadership.held else "follower", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
