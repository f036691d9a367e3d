"""Slack's slash commands, from the commands' declarations.

Every registered command answers to ``/NAME`` (once the app's manifest lists it) and to
``/mouthpiece NAME ARGS``; ``/mouthpiece`` alone or ``/mouthpiece help [COMMAND]`` answers,
only to the asker, with help made from the declarations. A slash command can't carry a
file, so a command that works on one (its ``primary`` attachment, e.g. a voice clip) gets the
member's newest file of that kind in the channel from the last hour. ``manifest`` is the app manifest
to paste at api.slack.com (``mouthpiece slack-manifest`` prints it).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from adapters.slack_files import FileHosts, file_attachment
from core.commands import Command, CommandRegistry, Option

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from core.events import Attachment

log = logging.getLogger(__name__)

CATCH_ALL_COMMAND = "/mouthpiece"
HELP_PREFIX = f"{CATCH_ALL_COMMAND} "
CLIP_WINDOW = 3600.0  # seconds back a slash command looks for the member's file
#: Slack's own commands, which an app can't take over; those commands are reached through /mouthpiece.
BUILT_IN = frozenset({"active", "apps", "archive", "away", "call", "collapse", "dm", "dnd", "expand", "feed",
                      "feedback", "help", "invite", "join", "leave", "me", "msg", "mute", "open", "prefs", "remind",
                      "remove", "rename", "search", "shortcuts", "shrug", "star", "status", "topic", "who"})
MAX_SLASH_COMMANDS = 50  # an app's limit
#: What the app needs: reading and posting messages and files, reactions (votes), members' names and
#: admin flags, direct messages (``!dashboard``), and knowing which channels it is in.
BOT_SCOPES = ["app_mentions:read", "channels:history", "channels:read", "chat:write", "commands", "files:read",
              "files:write", "groups:history", "groups:read", "im:history", "im:read", "im:write", "reactions:read",
              "reactions:write", "users:read"]
BOT_EVENTS = ["app_mention", "member_joined_channel", "message.channels", "message.groups", "message.im",
              "reaction_added", "reaction_removed"]


def own_commands(registry: CommandRegistry) -> list[Command]:
    """The commands that get a slash command of their own: names Slack takes, none of its own."""
    fits = [c for c in registry.all() if c.name not in BUILT_IN and 1 <= len(c.name) <= 31]
    return fits[:MAX_SLASH_COMMANDS - 1]  # one is /mouthpiece


def command_line(slash: str, text: str) -> str:
    """The registry's command line (without its prefix) for ``/NAME ARGS`` or ``/mouthpiece NAME ARGS``."""
    text = text.strip()
    if slash == CATCH_ALL_COMMAND:
        return text or "help"
    return f"{slash.removeprefix('/')} {text}".rstrip()


def help_topic(slash: str, text: str) -> str | None:
    """The command asked about, "" for all of them, None when this is not a request for help."""
    words = text.split()
    if slash != CATCH_ALL_COMMAND or (words and words[0].lower() != "help"):
        return None
    return words[1] if len(words) > 1 else ""


def usage_hint(command: Command) -> str:
    """What to type after ``/NAME``: a command's own grammar, else its options and the words it
    takes (a slash command carries no files; the one it works on is the newest posted)."""
    if command.usage:
        return command.usage
    parts = [f"--{o.name} {_value(o)}".rstrip() for o in command.options]
    shown = [p if o.required else f"[{p}]" for p, o in zip(parts, command.options, strict=True)]
    shown += [a.metavar if a.required else f"[{a.metavar}]" for a in command.words]
    if wanted := primary_file(command):
        shown.append(f"(takes the newest {wanted.name} you posted here)")
    return " ".join(shown)


def _value(option: Option) -> str:
    if not option.takes_value:
        return ""
    return option.choices[0] if len(option.choices) == 1 else option.metavar  # "--batch all"


def primary_file(command: Command | None) -> Option | None:
    """The attachment a command works on, if it declares one."""
    return next((a for a in command.attachments if a.primary), None) if command is not None else None


async def recent_file(client: AsyncWebClient, wanted: Option, user_id: str, channel_id: str, *, token: str,
                      hosts: FileHosts, max_bytes: int) -> tuple[Attachment, ...]:
    """The member's newest file of the ``wanted`` kind (e.g. audio or video) in the channel from the
    last hour (a clip recorded with Slack's own recorder counts): a slash command can't carry a file."""
    try:
        listing = await client.files_list(user=user_id, channel=channel_id, count=20,
                                          ts_from=str(int(time.time() - CLIP_WINDOW)))
    except SlackApiError as error:
        log.warning("Slack files.list failed: %s", error.response.get("error"))
        return ()
    files: list[dict[str, Any]] = listing.get("files") or []
    kinds = tuple(f"{family}/" for family in wanted.media)
    matching = [f for f in files if not kinds or str(f.get("mimetype", "")).startswith(kinds)]
    if not matching:
        return ()
    newest = max(matching, key=lambda f: f.get("created", 0))
    return (file_attachment(newest, token=token, hosts=hosts, max_bytes=max_bytes),)


def manifest(registry: CommandRegistry, *, request_url: str | None = None) -> dict[str, Any]:
    """The Slack app manifest: Socket Mode, or HTTP mode with ``request_url`` (events and commands)."""
    def slash(name: str, description: str, hint: str) -> dict[str, Any]:
        entry = {"command": name, "description": description[:2000], "should_escape": False}
        if hint:
            entry["usage_hint"] = hint[:1000]
        if request_url:
            entry["url"] = request_url
        return entry

    commands = [slash(CATCH_ALL_COMMAND, "Every Mouthpiece command; help lists them",
                      "help | COMMAND ARGS, e.g. say Hello")]
    commands += [slash(f"/{c.name}", c.summary, usage_hint(c)) for c in own_commands(registry)]
    events: dict[str, Any] = {"bot_events": BOT_EVENTS}
    if request_url:
        events["request_url"] = request_url
    return {
        "display_information": {"name": "Mouthpiece",
                                "description": "Talking-avatar videos of your words and voice clips"},
        "features": {"bot_user": {"display_name": "Mouthpiece", "always_online": True},
                     "slash_commands": commands},
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {"event_subscriptions": events, "socket_mode_enabled": request_url is None,
                     "org_deploy_enabled": False, "token_rotation_enabled": False},
    }
