"""Closing a contest at its deadline and posting the result, through any restart.

The closing job is a persistent APScheduler job (a module-level function taking the
contest id). Each step is a state change in the database, made once: ``open`` →
``closed`` (tallied) → ``announced``. A deadline that passed while the agent was down
is caught up on start; a result that could not be posted (the platform not connected
yet, the channel gone) is tried again every minute, up to an hour, then given up.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.jobstores.base import JobLookupError
from apscheduler.triggers.date import DateTrigger

from core.adapter import ChannelUnavailable
from core.replies import Reply, TextReply, VideoReply
from core.scheduler import running_agent
from plugins.contest import models, timing
from plugins.contest.models import Contest, Standing, Status

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from core.agent import Agent

log = logging.getLogger(__name__)

ANNOUNCE_RETRY = timedelta(minutes=1)
ANNOUNCE_ATTEMPTS = 60

#: Contests whose result is being posted right now (the job and a catch-up may meet).
_announcing: set[int] = set()


def close_job_id(contest_id: int) -> str:
    return f"contest-close-{contest_id}"


def schedule_closing(scheduler: BaseScheduler, contest: Contest) -> None:
    """Close ``contest`` at its end, however late the agent gets there."""
    scheduler.add_job(close_contest_job, DateTrigger(contest.ends), args=[contest.id], id=close_job_id(contest.id or 0),
                      replace_existing=True, misfire_grace_time=None, coalesce=True)


async def close_contest_job(contest_id: int) -> None:
    """The scheduled job: the contest's deadline has come."""
    await close_and_announce(running_agent(), contest_id)


async def announce_job(contest_id: int) -> None:
    """The scheduled job: try posting a closed contest's result again."""
    await announce(running_agent(), contest_id)


async def close_and_announce(agent: Agent, contest_id: int) -> None:
    _remove_job(agent.scheduler, close_job_id(contest_id))
    if models.close(agent.storage, agent.polls, contest_id, timing.now()) is not None:
        await announce(agent, contest_id)


async def resume(agent: Agent) -> None:
    """On start: close what ended during the downtime, make sure every running contest has
    its closing job, and post results that were never posted."""
    current = timing.now()
    for contest in models.unfinished(agent.storage):
        assert contest.id is not None
        if contest.status == Status.OPEN and contest.ends <= current:
            await close_and_announce(agent, contest.id)
        elif contest.status == Status.OPEN:
            if agent.scheduler.get_job(close_job_id(contest.id)) is None:
                schedule_closing(agent.scheduler, contest)
        else:
            for job in agent.scheduler.get_jobs():
                if job.id.startswith(_announce_job_prefix(contest.id)):
                    _remove_job(agent.scheduler, job.id)
            await announce(agent, contest.id)


async def announce(agent: Agent, contest_id: int) -> None:
    """Post a closed contest's result in its channel, or schedule another try."""
    contest = models.get(agent.storage, contest_id)
    if contest is None or contest.status != Status.CLOSED or contest_id in _announcing:
        return
    _announcing.add(contest_id)
    try:
        channel = await agent.open_channel(contest.platform, contest.channel_id, server_id=contest.server_id)
        for reply in result_posts(agent, contest):
            await channel.send(reply)
    except Exception as error:  # the platform refused: try again later rather than lose the result
        log.warning("could not post the result of contest %s in %s:%s: %s", contest_id, contest.platform,
                    contest.channel_id, error, exc_info=not isinstance(error, ChannelUnavailable))
        _retry_later(agent, contest)
        return
    finally:
        _announcing.discard(contest_id)
    models.set_status(agent.storage, contest, Status.ANNOUNCED)
    agent.storage.release_files(contest.file_owner)


def result_posts(agent: Agent, contest: Contest) -> list[Reply]:
    """The result: who won (and their video), or why nobody did, and the standings."""
    final = contest.final_standings()
    theme = f"«{contest.theme}»"
    if not final:
        return [TextReply(f"🏁 {theme} has ended without any entries. Maybe next time!")]
    top = final[0].votes
    if top == 0:
        return [TextReply(f"🏁 {theme} has ended with {_count(len(final), 'entry', 'entries')} but no votes, "
                          "so there is no winner this time.\n" + standings_text(final))]
    winners = [s for s in final if s.votes == top]
    if len(winners) == 1:
        headline = f"🏆 {theme} has ended! The winner is {winners[0].name} with {_count(top, 'vote')}."
    else:
        headline = (f"🏆 {theme} has ended in a tie! {_names(winners)} share the win "
                    f"with {_count(top, 'vote')} each.")
    posts: list[Reply] = [TextReply(headline + "\n" + standings_text(final))]
    for winner in winners:
        path = Path(winner.video.path)
        if path.is_file():
            posts.append(VideoReply(path, caption=f"Winning entry by {winner.name}", duration=winner.video.duration))
        else:
            log.warning("the winning video of contest %s is gone: %s", contest.id, path)
    return posts


def standings_text(rows: list[Standing]) -> str:
    """``1. Ada — 3 votes`` per line; equal votes share a place."""
    lines, place = [], 0
    for number, row in enumerate(rows, 1):
        if number == 1 or row.votes != rows[number - 2].votes:
            place = number
        lines.append(f"{place}. {row.name} — {_count(row.votes, 'vote')}")
    return "\n".join(lines)


def _retry_later(agent: Agent, contest: Contest) -> None:
    contest = models.count_attempt(agent.storage, contest)
    assert contest.id is not None
    if contest.announce_attempts >= ANNOUNCE_ATTEMPTS:
        log.error("gave up posting the result of contest %s after %d attempts", contest.id, contest.announce_attempts)
        models.set_status(agent.storage, contest, Status.UNDELIVERED)
        agent.storage.release_files(contest.file_owner)
        return
    # A new id per attempt: the job that is running now must not replace its successor.
    agent.scheduler.add_job(announce_job, DateTrigger(timing.now() + ANNOUNCE_RETRY), args=[contest.id],
                            id=f"{_announce_job_prefix(contest.id)}{contest.announce_attempts}",
                            replace_existing=True, misfire_grace_time=None, coalesce=True)


def _announce_job_prefix(contest_id: int) -> str:
    return f"contest-announce-{contest_id}-"


def _remove_job(scheduler: BaseScheduler, job_id: str) -> None:
    try:
        scheduler.remove_job(job_id)
    except JobLookupError:
        pass  # it already ran (a date job is removed as it starts) or was never there


def _count(n: int, singular: str, plural: str = "") -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _names(rows: list[Standing]) -> str:
    names = [r.name for r in rows]
    return ", ".join(names[:-1]) + " and " + names[-1]
