"""The console's own commands (``:as``, ``:join``, ``:vote``): on a platform members join
and vote without typing a command, so on the console the operator acts it out."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from core.events import MemberJoinEvent, User, VoteEvent
from core.replies import TextReply

if TYPE_CHECKING:
    from adapters.console import ConsoleAdapter

CONSOLE_HELP = ":as NAME to type as a member, :join NAME to greet a newcomer, :vote N to vote, :help for more"
USAGE = """\
Console commands (they act out what members do on a platform):
  :as NAME   type as the member NAME from now on (no admin rights); :as alone: the operator again
  :join NAME the member NAME joins, as a newcomer to a server would (welcome clips)
  :vote N    vote for option N of a poll shown above (contest entries); one vote each, changeable
  :help      this list; quit (or Ctrl-D) leaves"""
MAX_NAME_CHARS = 32
_ID_UNSAFE = re.compile(r"[^a-z0-9]+")


def member(name: str) -> User:
    """A member of the console's server called ``name`` (the same name is the same member)."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise ValueError(f"a member's name must be 1 to {MAX_NAME_CHARS} characters, e.g. Ada")
    return User(id="member-" + (_ID_UNSAFE.sub("-", name.lower()).strip("-") or str(sum(map(ord, name)))), name=name)


class ConsoleCommands:
    def __init__(self, adapter: ConsoleAdapter) -> None:
        self.adapter = adapter

    async def run(self, line: str) -> None:
        word, _, rest = line[1:].partition(" ")
        action = {"as": self.as_member, "join": self.join, "vote": self.vote, "help": self.help}.get(word.lower())
        if action is None:
            await self.say(f"There is no console command :{word}.\n{USAGE}")
            return
        await action(rest.strip())

    async def say(self, text: str) -> None:
        await self.adapter.responder().send(TextReply(text))

    async def help(self, _: str) -> None:
        await self.say(USAGE)

    async def as_member(self, name: str) -> None:
        from adapters.console import LOCAL_USER

        if not name:
            self.adapter.user = LOCAL_USER
            await self.say(f"You are the operator again ({LOCAL_USER.name}, an admin).")
            return
        try:
            self.adapter.user = member(name)
        except ValueError as error:
            await self.say(f"I can't use that name: {error}.")
            return
        await self.say(f"You are now {self.adapter.user.name}, a member without admin rights. :as alone goes back.")

    async def join(self, name: str) -> None:
        try:
            newcomer = member(name)
        except ValueError as error:
            await self.say(f"Say who joins, e.g. :join Ada ({error}).")
            return
        await self.say(f"{newcomer.name} joins {self.adapter.channel.server_name}.")
        event = MemberJoinEvent(platform=self.adapter.platform, user=newcomer, channel=self.adapter.channel)
        await self.adapter.agent.handle_member_join(event, self.adapter.responder())

    async def vote(self, number: str) -> None:
        board = self.adapter.board
        ballot = board.ballot(int(number)) if number.isdigit() else None
        if ballot is None:
            shown = f"1 to {len(board.ballots)}" if board.ballots else "none yet: a poll shows its options"
            await self.say(f"Say which option, e.g. :vote 1 (the numbers in brackets; {shown}).")
            return
        event = VoteEvent(platform=self.adapter.platform, user=self.adapter.user, channel=self.adapter.channel,
                          poll_id=ballot.poll_id, option=ballot.option)
        await self.adapter.agent.handle_vote(event, self.adapter.responder())
