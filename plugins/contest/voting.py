"""The contest's rules on votes, applied after the agent has counted one.

The agent keeps one vote per member per poll, and a contest is one poll, so voting for
another entry moves the member's vote. What the rules refuse (one's own entry, a
replaced recording, a closed contest) is reverted: the member keeps the vote they had.
"""

from __future__ import annotations

from core.context import Context
from core.events import VoteEvent
from plugins.contest import models
from plugins.contest.models import Contest, Status


async def check_vote(event: VoteEvent, ctx: Context) -> None:
    contest_id = models.contest_of_poll(event.poll_id)
    contest = models.get(ctx.agent.storage, contest_id) if contest_id is not None else None
    if contest is None or contest.platform != event.platform or not event.added:
        return
    refusal, confirmation = _judge(ctx, contest, event)
    if refusal:
        ctx.agent.polls.revert(event.platform, event.poll_id, event.user.id)
    await ctx.reply(refusal or confirmation)


def _judge(ctx: Context, contest: Contest, event: VoteEvent) -> tuple[str, str]:
    """A refusal, or else the confirmation of the vote."""
    theme = f"«{contest.theme}»"
    if contest.status != Status.OPEN:
        return f"{theme} has closed; votes no longer count.", ""
    entry = models.entry_for_option(ctx.agent.storage, contest.id or 0, event.option)
    if entry is None:
        return "That recording has been replaced by a newer one: vote on the newer post.", ""
    if entry.user_id == event.user.id:
        return "You can't vote for your own entry. Pick someone else's!", ""
    return "", f"Your vote in {theme} goes to {entry.user_name}. You can change it until the contest ends."
