"""``!dashboard``: an admin gets a one-time link to the web dashboard in a direct message,
signed in as that server's admin (and only that server's), valid for a few minutes.

The link is never posted where others could read it: when the bot can't write to the
admin privately, it says so and sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from core import signin
from core.adapter import ChannelUnavailable
from core.commands import Command, CommandError
from core.context import Context
from core.events import ParsedCommand
from core.plugins import hookimpl
from core.replies import TextReply

log = logging.getLogger(__name__)

#: The dashboard's adapter, as named in ``adapters.ADAPTERS``.
DASHBOARD = "http"


async def dashboard(ctx: Context, command: ParsedCommand) -> None:
    event, agent = ctx.event, ctx.agent
    if event.channel.is_direct:
        raise CommandError(f"Send {ctx.prefix}dashboard in the server you want to manage: the link is for that server.")
    adapter = agent.adapters.get(DASHBOARD)
    base_url = str(getattr(adapter, "base_url", "") or "")
    if adapter is None or not base_url:
        raise CommandError("The web dashboard is not running. The operator starts it by setting "
                           "MOUTHPIECE_DASHBOARD_TOKEN (see the README).")
    try:
        private = await agent.open_direct(event.platform, event.user.id)
    except ChannelUnavailable as error:
        raise CommandError(f"I can't send you a direct message ({error}). Allow direct messages from me, "
                           f"then send {ctx.prefix}dashboard again.") from None
    minutes = agent.config.dashboard.link_minutes
    grant = signin.Grant(event.platform, event.channel.server_id, event.channel.server_name, event.user.id,
                         event.user.name)
    code = signin.issue(agent.storage, grant, timedelta(minutes=minutes))
    where = event.channel.server_name or grant.server
    try:
        await private.send(TextReply(f"Your sign-in link to the Mouthpiece dashboard of {where}. It works once, "
                                     f"within {minutes} minutes; don't share it:\n{base_url}/signin/link?code={code}"))
    except Exception as error:  # e.g. the member never opened a chat with the bot (Telegram)
        log.info("could not send a dashboard link to %s:%s: %s", event.platform, event.user.id, type(error).__name__)
        raise CommandError(f"I can't send you a direct message. Open a private chat with me (or allow direct "
                           f"messages), then send {ctx.prefix}dashboard again.") from None
    await ctx.reply(f"I sent you a sign-in link in a direct message. It works once, within {minutes} minutes.")


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    register(Command("dashboard", "get a one-time sign-in link to the web dashboard by direct message", dashboard,
                     admin_only=True, plugin="dashboard"))
