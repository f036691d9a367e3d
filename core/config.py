"""Configuration: ``config.toml`` validated by pydantic; secrets only from the environment."""

from __future__ import annotations

import os
import string
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from engine.settings import EngineSettings, ModelSettings

CONFIG_ENV = "MOUTHPIECE_CONFIG"


class ConfigError(ValueError):
    pass


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentSettings(_Section):
    name: str = "Mouthpiece"
    prefix: str = Field("!", min_length=1, max_length=3)
    #: A SQLite file, or a postgresql+psycopg:// URL without its password (that comes from
    #: MOUTHPIECE_DATABASE_PASSWORD) for several bot processes on one database.
    database: str | Path = Path("data/mouthpiece.db")
    #: Files kept beside the state (members' voice samples, backups); default: the SQLite file's folder,
    #: or "data" with PostgreSQL.
    data_dir: Path | None = None
    #: With PostgreSQL, how often a process checks that it still runs the scheduled jobs, or
    #: whether it should take over from a leader that died.
    leader_check_seconds: float = Field(5.0, gt=0, le=300)

    @field_validator("database")
    @classmethod
    def _path_or_url(cls, value: str | Path) -> str | Path:
        if isinstance(value, Path) or "://" not in value:
            return Path(value)
        from core.database import DatabaseSettingError, database_url

        try:
            database_url(value, environ={})
        except DatabaseSettingError as error:
            raise ValueError(str(error).removeprefix("[agent] database")) from None
        return value
    log_level: str = "INFO"
    #: Users with admin rights everywhere, as "platform:user_id" (e.g. "discord:1234").
    admins: list[str] = []


class PersonaSettings(_Section):
    default: str = "friendly"
    #: Folders holding the operator's own persona folders (see personas/README.md).
    user_dirs: list[Path] = [Path("my-personas")]
    #: Personas of its own a server's admins may add (``!persona add``).
    max_per_server: int = Field(20, ge=0, le=1000)


class PluginSettings(_Section):
    #: Plugins not to load, by name (e.g. "avatar", or an entry-point name).
    disabled: list[str] = []


class ConsoleSettings(_Section):
    #: ``!avatar PATH`` in the console only reads files inside this folder.
    allowed_dir: Path = Path(".")


class ChatSettings(_Section):
    """The ``[chat]`` table: conversations with a persona and what it remembers."""

    #: Messages (the member's and the persona's) kept word for word per member; older ones are summarised.
    max_turns: int = Field(12, ge=2, le=200)
    #: Facts remembered per member ("likes jazz"); the oldest go first.
    max_facts: int = Field(20, ge=1, le=500)
    #: Length cap of the summary of older messages, in characters.
    max_summary_chars: int = Field(600, ge=100, le=4000)
    #: Length cap of a reply from the language model, in tokens.
    max_new_tokens: int = Field(80, ge=8, le=1024)
    #: A reply from the language model that takes longer is dropped for a template reply.
    reply_timeout_seconds: float = Field(20.0, gt=0, le=600)
    #: Personas whose memory of a member is shared by every server (by default each server has its own).
    global_personas: list[str] = []
    #: Answer every direct message that is not a command.
    respond_in_dms: bool = True


class SlackSettings(_Section):
    """How the Slack adapter connects; its tokens come from the environment only."""

    #: "socket": Socket Mode over a websocket the bot opens (app token; no public URL needed).
    #: "http": Slack posts events to ``http_path`` on this machine (signing secret; a public HTTPS URL).
    mode: Literal["socket", "http"] = "socket"
    http_host: str = "0.0.0.0"
    http_port: int = Field(3000, ge=0, le=65535)
    http_path: str = Field("/slack/events", pattern=r"^/")
    #: The Web API; change it only to point the bot at a test double of Slack.
    api_url: str = Field("https://slack.com/api/", pattern=r"^https?://.+/$")
    #: Hosts the bot downloads members' files from, with the bot token; the API's host is added.
    file_hosts: list[str] = ["files.slack.com"]
    #: Hosts the bot downloads members' profile pictures from (public images: no token is sent).
    avatar_hosts: list[str] = ["avatars.slack-edge.com"]


class AnnounceSettings(_Section):
    """``[announce]``: scheduled announcements."""

    #: A post whose moment passed while the agent was down goes out late within this many
    #: minutes; later than that it is skipped and the admins are told.
    grace_minutes: int = Field(15, ge=0)
    #: Scheduled announcements one server may have at a time.
    max_scheduled: int = Field(50, ge=1)


class WelcomeSettings(_Section):
    """``[welcome]``: greeting clips for new members."""

    #: More joins than this within one minute in one server is a raid: one group greeting
    #: instead of a clip each.
    raid_joins_per_minute: int = Field(5, ge=1)
    group_template: str = "Welcome to {server}, everyone who just joined!"
    #: Said instead of a name that has nothing pronounceable in it.
    fallback_name: str = "new friend"
    #: Longer names are cut at a word boundary.
    max_name_chars: int = Field(32, ge=1, le=100)

    @field_validator("group_template")
    @classmethod
    def _group_placeholders(cls, value: str) -> str:
        return check_template(value, allowed=("server",))


class ContestSettings(_Section):
    """The ``[contest]`` table: voice contests (``!contest``)."""

    #: The longest a contest may run, from ``!contest start`` to its end.
    max_days: int = Field(60, ge=1)
    #: At most this many personas perform each entry (every entry is rendered once per persona).
    max_personas: int = Field(4, ge=1)


class HousekeepingSettings(_Section):
    """The ``[housekeeping]`` table: the retention job over the output folder and render cache."""

    #: Rendered files older than this are deleted (their render records stay).
    max_age_days: float = Field(7.0, gt=0)
    #: Above this size the oldest rendered files go first, until the folders fit again.
    max_folder_mb: float = Field(2048.0, gt=0)
    #: How often the retention job runs.
    every_minutes: int = Field(60, ge=1)


class LimitSettings(_Section):
    """The ``[limits]`` table: how often members may ask for videos (0 = no limit). Admins are exempt."""

    user_per_minute: int = Field(6, ge=0)
    server_per_minute: int = Field(30, ge=0)
    #: Rated commands one member may have running at once.
    user_concurrent_jobs: int = Field(1, ge=0)
    #: The commands these limits apply to: a command name, or a name and its first word ("contest enter").
    rated_commands: list[str] = ["avatar", "say", "contest enter"]


class TelegramSettings(_Section):
    """The ``[telegram]`` table; the bot token comes from ``MOUTHPIECE_TELEGRAM_TOKEN``."""

    #: "polling" (long polling, works anywhere) or "webhook" (Telegram posts to ``webhook_url``).
    mode: Literal["polling", "webhook"] = "polling"
    #: The public HTTPS address Telegram posts updates to, in webhook mode.
    webhook_url: str = ""
    #: Where the webhook server listens (put a TLS-terminating proxy in front of it).
    listen: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)
    #: Answer with round video notes instead of normal videos (``--note`` asks for one per command).
    video_notes: bool = False
    #: Bot API endpoints; change them only for a self-hosted Bot API server.
    api_url: str = "https://api.telegram.org/bot"
    file_url: str = "https://api.telegram.org/file/bot"
    #: Bots may download files up to 20 MB from the public Bot API (a self-hosted server lifts this).
    max_download_bytes: int = Field(20 * 1024 * 1024, gt=0)
    #: Flood control: messages and edits the bot sends into one group per minute (Telegram allows
    #: about 20), and how often a call Telegram refused with "retry after" is tried again.
    group_messages_per_minute: int = Field(20, gt=0)
    flood_retries: int = Field(3, ge=0)


class DiscordSettings(_Section):
    """The ``[discord]`` table; the bot token comes from ``MOUTHPIECE_DISCORD_TOKEN`` only."""

    #: Gateway connections: 0 for one, N for N shards, "auto" for as many as Discord advises.
    shards: Annotated[int, Field(ge=0)] | Literal["auto"] = 0
    #: Guild ids whose slash commands are synced at once on start (for development);
    #: empty: commands are synced globally, which Discord may take a while to show.
    sync_guilds: list[str] = []


class DashboardSettings(_Section):
    """The ``[dashboard]`` table: the web dashboard and REST API, served by ``mouthpiece run``
    only when ``MOUTHPIECE_DASHBOARD_TOKEN`` is set (at least 32 characters)."""

    host: str = "127.0.0.1"
    #: 0 picks a free port (the log says which).
    port: int = Field(8080, ge=0, le=65535)
    #: The address admins reach the dashboard at, for the sign-in links ``!dashboard`` sends
    #: (e.g. "https://bot.example.org"); empty: ``http://HOST:PORT``.
    public_url: str = Field("", pattern=r"^(https?://[^\s]+)?$")
    #: How long a dashboard sign-in lasts.
    session_hours: float = Field(12.0, gt=0, le=24 * 30)
    #: How long a ``!dashboard`` sign-in link stays valid (it works once).
    link_minutes: int = Field(10, ge=1, le=60)


class ServerSettings(_Section):
    """One community's settings (a Discord guild, a Telegram group, a Slack workspace):
    ``[servers."PLATFORM:SERVER_ID"]``; ``[servers.default]`` covers servers without a table."""

    #: The persona that speaks for this server (announcements, welcomes); empty: ``[personas] default``.
    persona: str = ""
    #: IANA time zone for scheduled posts, e.g. "Europe/Berlin".
    timezone: str = "UTC"
    announce_channel: str = ""
    welcome_channel: str = ""
    welcome_template: str = "Welcome to {server}, {name}!"
    #: The persona of welcome clips; empty: ``persona``.
    welcome_persona: str = ""
    #: User ids with admin rights in this server only (besides its platform admins).
    admins: list[str] = []
    #: Plugins switched off in this server only (``[plugins] disabled`` switches them off everywhere).
    disabled_plugins: list[str] = []
    #: The community's language (e.g. "es", "cmn", "yue"): text in its script is spoken in it, chat templates
    #: answer in it; empty: each text's language is found from the text itself.
    language: str = ""
    #: The language of ``welcome_template``; empty: ``language``.
    welcome_language: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin'") from None
        return value

    @field_validator("language", "welcome_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        from engine.languages import canonical

        return canonical(value) if value.strip() else ""

    @field_validator("welcome_template")
    @classmethod
    def _welcome_placeholders(cls, value: str) -> str:
        return check_template(value, allowed=("server", "name"))


def check_template(template: str, allowed: tuple[str, ...]) -> str:
    """``template`` if its only placeholders are plain ``{field}``s named in ``allowed``."""
    names = ", ".join("{" + name + "}" for name in allowed)
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)
                  if name is not None]
    except ValueError:
        raise ValueError(f"the template's braces don't match; write placeholders as {names}") from None
    for name, spec, conversion in fields:
        if name not in allowed or spec or conversion:
            raise ValueError(f"the template may only use {names}, not {{{name}}}")
    return template


class Config(_Section):
    agent: AgentSettings = AgentSettings()
    engine: EngineSettings = EngineSettings()
    models: ModelSettings = ModelSettings()
    personas: PersonaSettings = PersonaSettings()
    plugins: PluginSettings = PluginSettings()
    console: ConsoleSettings = ConsoleSettings()
    discord: DiscordSettings = DiscordSettings()
    telegram: TelegramSettings = TelegramSettings()
    slack: SlackSettings = SlackSettings()
    chat: ChatSettings = ChatSettings()
    announce: AnnounceSettings = AnnounceSettings()
    welcome: WelcomeSettings = WelcomeSettings()
    contest: ContestSettings = ContestSettings()
    housekeeping: HousekeepingSettings = HousekeepingSettings()
    limits: LimitSettings = LimitSettings()
    dashboard: DashboardSettings = DashboardSettings()
    servers: dict[str, ServerSettings] = {}
    #: Free-form tables for third-party plugins: ``[plugin.NAME]``.
    plugin: dict[str, dict[str, Any]] = {}

    def server(self, platform: str, server_id: str) -> ServerSettings:
        """The settings of one server: its own table, else ``[servers.default]``, else the defaults."""
        return self.servers.get(f"{platform}:{server_id}") or self.servers.get("default") or ServerSettings()


class Secrets(BaseModel):
    """Tokens read from environment variables; ``SecretStr`` keeps them out of logs and reprs."""

    discord_token: SecretStr | None = None
    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    dashboard_token: SecretStr | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Secrets:
        env = os.environ if environ is None else environ
        values = {name: env.get(f"MOUTHPIECE_{name.upper()}") or None for name in cls.model_fields}
        return cls(**values)


def find_config_file(explicit: Path | None = None) -> Path | None:
    """``--config`` first, then ``$MOUTHPIECE_CONFIG``, then ``./config.toml``."""
    if explicit is not None:
        return explicit
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    local = Path("config.toml")
    return local if local.is_file() else None


def load_config(path: Path | None = None) -> Config:
    """Load and validate the config; with no file at all the built-in defaults apply."""
    found = find_config_file(path)
    if found is None:
        return Config()
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {found} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{found} is not valid TOML: {error}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{found} has invalid settings:\n{_describe(error)}") from None


def _describe(error: ValidationError) -> str:
    return "\n".join(f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
