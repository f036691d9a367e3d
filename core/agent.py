"""The agent: one per process; routes events from adapters to plugins over shared services."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Iterable

from pluggy import HookCaller

from core.adapter import Adapter, ChannelUnavailable
from core.commands import Command, CommandError, CommandRegistry
from core.config import Config, Secrets, ServerSettings
from core.context import Context
from core.dashboard_sessions import DashboardSession
from core.events import Event, MemberJoinEvent, MessageEvent, VoteEvent
from core.leader import Leadership
from core.limits import Limits
from core.plugins import await_all, build_plugin_manager, declared_models, first_handler, migration_folders
from core.polls import PollMessage, Polls, PollVote
from core.rendering import build_render_stack
from core.replies import SORRY, PollTally, Responder
from core.scheduler import build_scheduler, set_running_agent
from core.servers import ServerOverride, ServerSettingsStore
from core.signin import SignInLink
from core.storage import RenderRecord, Storage
from engine.errors import RenderError, UnknownPersonaError
from personas.server_personas import ServerPersona, ServerPersonas

if TYPE_CHECKING:
    from engine.engine import RenderEngine
    from engine.types import RenderResult
    from personas.model import Persona
    from personas.registry import PersonaRegistry

log = logging.getLogger(__name__)


#: The tables of the agent's own services (``core.storage`` has its two); plugins declare theirs
#: through ``register_models``.
CORE_MODELS = (PollVote, PollMessage, ServerOverride, ServerPersona, SignInLink, DashboardSession)


class Agent:
    def __init__(self, config: Config, secrets: Secrets | None = None, extra_plugins: Iterable[object] = ()) -> None:
        self.config = config
        self.secrets = secrets or Secrets()
        self.pm = build_plugin_manager(config.plugins.disabled, extra_plugins)
        self.commands = CommandRegistry(prefix=config.agent.prefix)
        self.pm.hook.register_commands(register=self.commands.register)
        self.storage = Storage(config.agent.database, migrations=migration_folders(self.pm),
                               models=[*CORE_MODELS, *declared_models(self.pm)],
                               data_dir=config.agent.data_dir)
        self.polls = Polls(self.storage)
        #: Per-server settings: the config's, with admins' changes by command on top.
        self.servers = ServerSettingsStore(self.storage, config)
        self.limits = Limits(config.limits)
        #: The running platform adapters by platform name, for posts no event asked for.
        self.adapters: dict[str, Adapter] = {}
        stack = build_render_stack(config, self.pm)
        self.personas: PersonaRegistry = stack.personas
        self.models = stack.models
        self.engine_backends = stack.backends
        self.pipeline = stack.pipeline
        self.engine: RenderEngine = stack.engine
        #: Servers' own personas (``!persona add``), private in ``personas``.
        self.server_personas = ServerPersonas(self.storage, self.personas,
                                              max_per_server=config.personas.max_per_server)
        self.scheduler = build_scheduler(self.storage)
        #: Whether this process runs the scheduled jobs (always, on SQLite).
        self.leadership = Leadership(self.storage)
        self._watch: asyncio.Task[None] | None = None
        self.started = False

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self.engine.start()
        set_running_agent(self)
        # Paused until this process leads; jobs added meanwhile still go to the shared store.
        self.scheduler.start(paused=True)
        leads = await asyncio.to_thread(self.leadership.try_acquire)
        if leads:
            self._take_schedule()
        await await_all(self.pm.hook.startup(agent=self))
        self.started = True
        if leads:
            await await_all(self.pm.hook.on_leadership(agent=self))
        if self.leadership.shared:
            self._watch = asyncio.create_task(self._watch_leadership())
        log.info("agent ready: %d personas, %d commands", len(self.personas.names()), len(self.commands.all()))

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        if self._watch is not None:
            self._watch.cancel()
        await await_all(self.pm.hook.shutdown(agent=self))
        self.scheduler.shutdown(wait=False)
        self.leadership.release()
        set_running_agent(None)
        self.engine.close()
        self.storage.close()

    async def __aenter__(self) -> Agent:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _take_schedule(self) -> None:
        """Run the scheduled jobs from now on; ``register_jobs`` first, so it sees them before the first pass."""
        self.pm.hook.register_jobs(scheduler=self.scheduler, agent=self)
        self.scheduler.resume()

    async def _watch_leadership(self) -> None:
        """With a shared database: the leader checks it still holds the lock and looks for jobs
        other processes added; a follower takes over when the leader is gone."""
        while True:
            await asyncio.sleep(self.config.agent.leader_check_seconds)
            try:
                if self.leadership.held:
                    if await asyncio.to_thread(self.leadership.still_held):
                        self.scheduler.wakeup()
                    else:
                        self.scheduler.pause()
                elif await asyncio.to_thread(self.leadership.try_acquire):
                    log.info("this process now runs the scheduled jobs")
                    self._take_schedule()
                    await await_all(self.pm.hook.on_leadership(agent=self))
            except Exception:
                log.exception("checking who runs the scheduled jobs failed; trying again")

    # -- events -----------------------------------------------------------------------

    async def handle_message(self, event: MessageEvent, responder: Responder) -> None:
        """Answer one message; never raises, so one bad request can't hurt anyone else."""
        if event.user.is_bot:
            return
        ctx = Context(self, event, responder)
        try:
            if self.commands.is_command(event.text):
                await self._run_command(ctx, event)
            else:
                await first_handler(self._hook("on_message", event), event=event, ctx=ctx)
        except (CommandError, RenderError) as error:
            await _answer_safely(ctx, str(error))
        except Exception:
            log.exception("failed to handle a message on %s from user %s", event.platform, event.user.id)
            await _answer_safely(ctx, SORRY)
        finally:
            ctx.cleanup()

    async def handle_member_join(self, event: MemberJoinEvent, responder: Responder) -> None:
        await self._dispatch("on_member_join", event, responder)

    async def handle_vote(self, event: VoteEvent, responder: Responder) -> None:
        """Count the vote (one per member per poll), let plugins react, then show the tally."""
        if event.user.is_bot or not self.polls.record(event):
            return
        await self._dispatch("on_vote", event, responder)
        try:
            await responder.send(PollTally(event.poll_id, self.polls.tally(event.platform, event.poll_id)))
        except Exception:
            log.exception("could not show the tally of poll %s on %s", event.poll_id, event.platform)

    async def _dispatch(self, hook_name: str, event: Event, responder: Responder) -> None:
        ctx = Context(self, event, responder)
        try:
            await await_all(self._hook(hook_name, event)(event=event, ctx=ctx))
        except RenderError as error:
            await _answer_safely(ctx, str(error))
        except Exception:
            log.exception("%s failed on %s", hook_name, event.platform)
        finally:
            ctx.cleanup()

    async def _run_command(self, ctx: Context, event: MessageEvent) -> None:
        command, parsed = self.commands.parse(event.text)
        self._check_switched_on(command, event)
        if command.admin_only and not ctx.is_admin:
            await ctx.reply(f"Only admins can use {self.commands.prefix}{command.name}.")
            return
        self.commands.check_files(command, len(event.attachments))
        with self.limits.admit(event, parsed, exempt=ctx.is_admin):
            await command.handler(ctx, parsed)

    def _check_switched_on(self, command: Command, event: Event) -> None:
        if command.plugin and not self.plugin_enabled(command.plugin, event):
            raise CommandError(f"The {command.plugin} plugin is switched off in this server. "
                               f"An admin can switch it on with {self.commands.prefix}server enable {command.plugin}.")

    def _hook(self, name: str, event: Event) -> HookCaller:
        """The hook ``name`` without the plugins switched off in the event's server."""
        off = [plugin for plugin_name in self.server_settings(event).disabled_plugins
               if (plugin := self.pm.get_plugin(plugin_name)) is not None]
        return self.pm.subset_hook_caller(name, off) if off else getattr(self.pm.hook, name)

    # -- services -----------------------------------------------------------------------

    def attach(self, adapter: Adapter) -> None:
        """Make a running adapter reachable for unprompted posts (``open_channel``)."""
        self.adapters[adapter.platform] = adapter

    def detach(self, adapter: Adapter) -> None:
        if self.adapters.get(adapter.platform) is adapter:
            del self.adapters[adapter.platform]

    async def open_channel(self, platform: str, channel_id: str, *, server_id: str | None = None) -> Responder:
        """A responder posting into a channel; ``ChannelUnavailable`` if the bot can't post there,
        or (given ``server_id``) if the channel is in another server (``Adapter.open_channel``)."""
        adapter = self.adapters.get(platform)
        if adapter is None:
            raise ChannelUnavailable(f"no {platform} adapter is running")
        return await adapter.open_channel(channel_id, server_id=server_id)

    async def open_direct(self, platform: str, user_id: str) -> Responder:
        """A responder writing to the user in a direct message; ``ChannelUnavailable`` if it can't."""
        adapter = self.adapters.get(platform)
        if adapter is None:
            raise ChannelUnavailable(f"no {platform} adapter is running")
        return await adapter.open_direct(user_id)

    def server_settings(self, event: Event) -> ServerSettings:
        """The settings of the event's server, admins' changes by command included."""
        return self.servers.settings(event.platform, event.channel.server_id)

    def persona_for(self, event: Event, wanted: str | None = None) -> Persona:
        """``wanted`` as the event's server knows it: its own persona of that name (``!persona add``),
        else the bot's by name or style (``UnknownPersonaError`` lists them). Without ``wanted``, the
        persona speaking for the server (``!server persona``), else the default."""
        if wanted:
            own = self.server_personas.find(event.platform, event.channel.server_id, wanted)
            return own or self.personas.get(wanted)
        chosen = self.server_settings(event).persona
        if chosen:
            try:
                return self.persona_for(event, chosen)
            except UnknownPersonaError:  # removed since it was chosen
                log.warning("the persona %r of %s:%s is gone; the default speaks instead", chosen,
                            event.platform, event.channel.server_id)
        return self.personas.default

    def persona_setting(self, persona: Persona) -> str:
        """What a server setting stores for ``persona``: its name, or for a server's own persona its name
        in that server (``ServerPersonas.add`` makes that its display name; its own name is a private key)."""
        return persona.name if persona.name in self.personas else persona.display_name

    def plugin_enabled(self, plugin: str, event: Event) -> bool:
        """False when ``plugin`` is switched off in the event's server."""
        return plugin not in self.server_settings(event).disabled_plugins

    def is_admin(self, event: Event) -> bool:
        """The one permission check: a platform admin, a user named in ``[agent] admins``
        ("platform:user_id"), or one named in the server's ``admins``."""
        return (event.user.is_admin or f"{event.platform}:{event.user.id}" in self.config.agent.admins
                or event.user.id in self.server_settings(event).admins)

    def help(self, event: Event, topic: str = "", *, prefix: str | None = None) -> str:
        """``!help`` (or, with ``topic``, ``!help COMMAND``) as the event's sender may see it in its
        server: no admin-only commands for members, none of a plugin switched off there; what needs
        models not configured is left out for members and marked for admins. ``prefix``: how commands
        are invoked where it is shown (``/mouthpiece `` on Slack). ``CommandError`` for an unknown topic."""
        switched_off = self.server_settings(event).disabled_plugins
        models = {key for key, value in self.config.models if value is not None}  # the [models] set
        if topic:
            return self.commands.help_for(topic, is_admin=self.is_admin(event), switched_off=switched_off,
                                          models=models, prefix=prefix)
        return self.commands.help_text(is_admin=self.is_admin(event), switched_off=switched_off, models=models,
                                       prefix=prefix)

    def record_render(self, event: Event, result: RenderResult) -> None:
        self.storage.add(RenderRecord(
            platform=event.platform, server_id=event.channel.server_id, user_id=event.user.id,
            persona=result.persona, path=str(result.path), duration=result.duration,
            elapsed=result.elapsed, cached=result.cached,
        ))


async def _answer_safely(ctx: Context, text: str) -> None:
    try:
        await ctx.reply(text)
    except Exception:
        log.exception("could not send an answer on %s", ctx.event.platform)
