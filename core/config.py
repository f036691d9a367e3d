"""Configuration: ``config.toml`` validated by pydantic; secrets only from the environment."""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from engine.settings import EngineSettings, ModelSettings

CONFIG_ENV = "MOUTHPIECE_CONFIG"


class ConfigError(ValueError):
    pass


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentSettings(_Section):
    name: str = "Mouthpiece"
    prefix: str = Field("!", min_length=1, max_length=3)
    database: Path = Path("data/mouthpiece.db")
    log_level: str = "INFO"
    #: Users with admin rights everywhere, as "platform:user_id" (e.g. "discord:1234").
    admins: list[str] = []


class PersonaSettings(_Section):
    default: str = "friendly"
    #: Folders holding the operator's own persona folders (see personas/README.md).
    user_dirs: list[Path] = [Path("my-personas")]


class PluginSettings(_Section):
    #: Plugins not to load, by name (e.g. "avatar", or an entry-point name).
    disabled: list[str] = []


class ConsoleSettings(_Section):
    #: ``!avatar PATH`` in the console only reads files inside this folder.
    allowed_dir: Path = Path(".")


class DiscordSettings(_Section):
    """The ``[discord]`` table; the bot token comes from ``MOUTHPIECE_DISCORD_TOKEN`` only."""

    #: Gateway connections: 0 for one, N for N shards, "auto" for as many as Discord advises.
    shards: Annotated[int, Field(ge=0)] | Literal["auto"] = 0
    #: Guild ids whose slash commands are synced at once on start (for development);
    #: empty: commands are synced globally, which Discord may take a while to show.
    sync_guilds: list[str] = []


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
    #: Plugins switched off in this server only (``[plugins] disabled`` switches them off everywhere).
    disabled_plugins: list[str] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin'") from None
        return value


class Config(_Section):
    agent: AgentSettings = AgentSettings()
    engine: EngineSettings = EngineSettings()
    models: ModelSettings = ModelSettings()
    personas: PersonaSettings = PersonaSettings()
    plugins: PluginSettings = PluginSettings()
    console: ConsoleSettings = ConsoleSettings()
    discord: DiscordSettings = DiscordSettings()
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
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None

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
