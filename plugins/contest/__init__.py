"""Voice contests: admins open one with a theme and a deadline, members enter a voice clip
that every contest persona performs, everyone votes, and at the deadline the winner is
announced with their video.

Everything lives in the database (contests and entries here, votes in ``core.polls``,
the closing job in the scheduler's store), so a restart mid-contest resumes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from core.commands import Command
from core.plugins import hookimpl
from plugins.contest import closing, voting
from plugins.contest.commands import ARGUMENTS, OPTIONS, USAGE, contest
from plugins.contest.models import Contest, ContestEntry

if TYPE_CHECKING:
    from sqlmodel import SQLModel

    from core.agent import Agent
    from core.context import Context
    from core.events import VoteEvent


@hookimpl
def register_models(register: Callable[[type[SQLModel]], None]) -> None:
    for model in (Contest, ContestEntry,):
        register(model)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("contest", "voice contests: enter a clip, vote, see the standings", contest,
                     usage=USAGE, arguments=ARGUMENTS, options=OPTIONS, plugin="contest"))


@hookimpl
async def on_vote(event: VoteEvent, ctx: Context) -> None:
    """Votes on contest entries: none for oneself, none once closed."""
    await voting.check_vote(event, ctx)


@hookimpl
async def on_leadership(agent: Agent) -> None:
    """Catch up on contests that ended while no process ran the schedule; reschedule the others."""
    await closing.resume(agent)
