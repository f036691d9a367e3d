"""``!contest start|enter|standings|end``: what members and admins type."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from core.adapter import ChannelUnavailable
from core.commands import CommandError, Option
from core.context import Context
from core.events import MessageEvent, ParsedCommand
from core.replies import PollReply, Responder, StatusMessage, VideoReply, VoteOption
from engine.engine import Priority
from engine.errors import UnknownPersonaError
from plugins.contest import closing, models, timing
from plugins.contest.models import Contest, ContestEntry, EntryVideo

MAX_THEME_CHARS = 200

OPTIONS = (
    Option.text("ends", "when the contest ends: 2h, 3d, or 2030-06-01T18:00 (server time)"),
    Option.text("personas", "who performs every entry, e.g. friendly,neon (default: the server's persona)"),
)
ARGUMENTS = (
    Option.text("action", 'start "THEME" (admins), enter, standings or end (admins)', raw=True),
    Option.attachment("clip", "for enter: your voice clip", media=("audio", "video")),
)
USAGE = 'start "THEME" --ends TIME [--personas a,b] | enter + a voice clip | standings | end'


async def contest(ctx: Context, command: ParsedCommand) -> None:
    """Route ``!contest ACTION`` to its handler."""
    action = command.args[0].lower() if command.args else ""
    handler = {"start": start, "enter": enter, "standings": show_standings, "end": end}.get(action)
    if handler is None:
        prefix = ctx.agent.commands.prefix
        raise CommandError(f"Use {prefix}contest {USAGE}.")
    await handler(ctx, command)


async def start(ctx: Context, command: ParsedCommand) -> None:
    """Admins: open a contest in this channel, closing at ``--ends``."""
    prefix, event = ctx.agent.commands.prefix, ctx.event
    if not ctx.is_admin:
        raise CommandError("Only admins can start a contest.")
    theme = " ".join(command.args[1:]).strip()
    if not theme:
        raise CommandError(f'Give the contest a theme, e.g. {prefix}contest start "Best evil laugh" --ends 2d.')
    if len(theme) > MAX_THEME_CHARS:
        raise CommandError(f"Keep the theme under {MAX_THEME_CHARS} characters.")
    if not command.options.get("ends"):
        raise CommandError("Say when it ends with --ends, e.g. --ends 2d or --ends 2030-06-01T18:00.")
    settings, zone = ctx.agent.config.contest, _zone(ctx)
    ends = timing.parse_deadline(str(command.options["ends"]), zone, timing.now(), settings.max_days)
    personas = _personas(ctx, command.options.get("personas"))
    new = Contest(platform=event.platform, server_id=event.channel.server_id, channel_id=event.channel.id,
                  theme=theme, personas_csv=",".join(personas), ends_at=ends, started_by=event.user.id)
    if not models.start(ctx.agent.storage, new):
        running = models.open_in(ctx.agent.storage, event.platform, event.channel.server_id)
        until = f" until {timing.describe(running.ends, zone)}" if running else ""
        raise CommandError(f"«{running.theme if running else 'A contest'}» is still running here{until}. "
                           f"One contest at a time: an admin can close it early with {prefix}contest end.")
    closing.schedule_closing(ctx.agent.scheduler, new)
    names = _display_names(ctx, personas)
    await ctx.reply(
        f"🎤 Voice contest: «{theme}»! Send {prefix}contest enter with a voice clip before "
        f"{timing.describe(ends, zone)}. Every entry is performed by {names}. Vote for your favourite under its "
        f"post: one vote each, changeable, not for yourself. {prefix}contest standings shows the count."
    )


async def enter(ctx: Context, command: ParsedCommand) -> None:
    """Members: send (or replace) one's entry; it is rendered with each persona and posted."""
    event = ctx.event
    assert isinstance(event, MessageEvent)
    prefix = ctx.agent.commands.prefix
    running = models.open_in(ctx.agent.storage, event.platform, event.channel.server_id)
    if running is None:
        raise CommandError("There is no contest running here right now.")
    if running.ends <= timing.now():
        raise CommandError(f"Entries for «{running.theme}» have closed; the result is on its way.")
    if not event.attachments:
        raise CommandError(f"Attach your voice clip to {prefix}contest enter "
                           "(wav, mp3, ogg, opus, m4a, flac or webm).")
    attached = event.attachments[0]
    # A file on this machine (the console) is read, not downloaded.
    async with ctx.working("reading your clip…" if attached.local else "downloading your clip…") as status:
        clip = await ctx.download(attached)
        videos = await _render(ctx, running, clip, status)
        await status.finish(None)
    current = models.get(ctx.agent.storage, running.id or 0)
    if current is None or current.status != models.Status.OPEN:
        await ctx.reply(f"«{running.theme}» closed while your entry was rendering, so it could not be counted.")
        return
    entry, replaced = models.save_entry(ctx.agent.storage, running.id or 0, event.user, videos)
    cleared = ctx.agent.polls.clear_option(event.platform, running.poll_id, replaced) if replaced else 0
    ctx.agent.storage.keep_files(running.file_owner, [v.path for v in videos])
    await _post(ctx, running, entry, replaced is not None)
    if replaced is None:
        await ctx.reply(f"Your entry for «{running.theme}» is in. Good luck!")
    else:
        reset = f"; the {cleared} vote(s) for the old one were reset" if cleared else ""
        await ctx.reply(f"Your entry for «{running.theme}» now has the new recording{reset}.")


async def show_standings(ctx: Context, command: ParsedCommand) -> None:
    """Anyone: the votes so far, or the final result of the last contest."""
    event, storage = ctx.event, ctx.agent.storage
    shown = models.open_in(storage, event.platform, event.channel.server_id) \
        or models.latest_in(storage, event.platform, event.channel.server_id)
    if shown is None:
        raise CommandError("No contest has run here yet. "
                           f"Admins start one with {ctx.agent.commands.prefix}contest start.")
    if shown.status == models.Status.OPEN:
        rows = models.standings(ctx.agent.polls, shown, models.entries(storage, shown.id or 0))
        header = (f"«{shown.theme}» ends {timing.describe(shown.ends, _zone(ctx))} "
                  f"({timing.time_left(shown.ends, timing.now())} left).")
    else:
        rows, header = shown.final_standings(), f"«{shown.theme}» has ended. Final standings:"
    if not rows:
        await ctx.reply(f"{header}\nNo entries yet: send {ctx.agent.commands.prefix}contest enter with a voice clip.")
        return
    await ctx.reply(f"{header}\n{closing.standings_text(rows)}")


async def end(ctx: Context, command: ParsedCommand) -> None:
    """Admins: close the running contest now and post the result."""
    if not ctx.is_admin:
        raise CommandError("Only admins can end a contest early.")
    running = models.open_in(ctx.agent.storage, ctx.event.platform, ctx.event.channel.server_id)
    if running is None:
        raise CommandError("There is no contest running here right now.")
    await ctx.reply(f"Closing «{running.theme}» now.")
    await closing.close_and_announce(ctx.agent, running.id or 0)


async def _render(ctx: Context, running: Contest, clip: Path, status: StatusMessage) -> list[EntryVideo]:
    """One video per persona of the contest, from the one clip, queued as a batch."""
    names = running.persona_names
    videos = []
    for number, name in enumerate(names, 1):
        persona = ctx.agent.personas.get(name)
        request = ctx.agent.config.engine.request(persona.name, audio_path=clip)
        result = await ctx.render(request, priority=Priority.BATCH, status=status,
                                  label=f"{persona.display_name} {number}/{len(names)}")
        videos.append(EntryVideo(persona.name, str(result.path), result.duration))
    return videos


async def _post(ctx: Context, running: Contest, entry: ContestEntry, replaced: bool) -> None:
    """The entry in the contest's channel: the first persona's video with the vote button,
    then the other personas' videos."""
    first, *others = entry.videos
    names = _display_names(ctx, [v.persona for v in entry.videos])
    note = " (a new recording; votes for the old one no longer count)" if replaced else ""
    target = await _contest_channel(ctx, running)
    await target.send(PollReply(running.poll_id, f"Entry by {entry.user_name} for «{running.theme}», performed by "
                                                 f"{names}{note}",
                                (VoteOption(entry.option, f"Vote for {entry.user_name}"),),
                                video=Path(first.path)))
    for video in others:
        caption = f"Entry by {entry.user_name}, performed by {_display_names(ctx, [video.persona])}"
        await target.send(VideoReply(Path(video.path), caption=caption, duration=video.duration))


async def _contest_channel(ctx: Context, running: Contest) -> Responder:
    if ctx.event.channel.id == running.channel_id:
        return ctx.responder
    try:
        return await ctx.agent.open_channel(running.platform, running.channel_id, server_id=running.server_id)
    except ChannelUnavailable:
        return ctx.responder  # the contest's channel is out of reach: show the entry here instead


def _personas(ctx: Context, wanted: object) -> list[str]:
    """The persona names of ``--personas a,b``, or the server's persona."""
    if not isinstance(wanted, str) or not wanted:
        return [ctx.agent.persona_for(ctx.event).name]
    names = list(dict.fromkeys(ctx.agent.persona_for(ctx.event, name.strip()).name
                               for name in str(wanted).split(",") if name.strip()))
    limit = ctx.agent.config.contest.max_personas
    if not names:
        raise CommandError("Name at least one persona after --personas, e.g. --personas friendly,neon.")
    if len(names) > limit:
        raise CommandError(f"At most {limit} personas per contest (each entry is rendered once per persona).")
    return names


def _display_names(ctx: Context, names: list[str]) -> str:
    shown = [_display_name(ctx, n) for n in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _display_name(ctx: Context, name: str) -> str:
    """A contest persona's name to show (a server's own persona is stored by its private key)."""
    try:
        return ctx.agent.personas.get(name).display_name
    except UnknownPersonaError:  # removed since the contest began
        return name


def _zone(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.agent.server_settings(ctx.event).timezone)
