"""Fetching a link a member posted, safely: any adapter turns a link into an ``Attachment``.

A link is untrusted input that makes the bot open a connection, so it must not
reach the bot's own network (server-side request forgery):

- only ``http`` and ``https``;
- the host is resolved here, and every address it resolves to must be public
  (no private, loopback, link-local, multicast, reserved or unspecified address,
  IPv4 or IPv6, IPv4 hidden in an IPv6 address included);
- the connection goes to the address that was vetted, so a second DNS answer
  cannot swap in another one (DNS rebinding); TLS still checks the host name;
- every redirect hop is vetted the same way, and there are only a few;
- the size cap holds while the body streams in, whatever Content-Length says;
- the whole fetch has one time limit.

Each refusal is a ``FetchError`` whose message the member can act on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from core.events import Attachment
from engine.errors import InputError

_REDIRECTS = {301, 302, 303, 307, 308}
_CHUNK = 64 * 1024
_LINK = re.compile(r"https?://[^\s<>\"'|]+", re.IGNORECASE)
# The well-known NAT64 prefix carries an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(InputError):
    """A link that could not or may not be fetched; the message says why."""


def is_public_address(address: IPAddress) -> bool:
    """True for an address on the public internet; False for anything the bot's own
    network could answer (private, loopback, link-local, multicast, reserved, unspecified)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified
                                      or address.is_loopback or address.is_link_local or address.is_private)


class _PinnedResolver(AbstractResolver):
    """Answers only for the vetted host, with the vetted addresses: aiohttp never looks it up again."""

    def __init__(self, host: str, addresses: list[ResolveResult]) -> None:
        self.host, self.addresses = host, addresses

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host != self.host:
            raise OSError(f"{host} was not vetted")
        return [dict(a, port=port) for a in self.addresses]  # type: ignore[misc]

    async def close(self) -> None:
        pass


@dataclass(frozen=True)
class SafeFetcher:
    """Downloads a link into a folder under the rules above.

    ``allow_hosts`` names hosts whose addresses are not checked. It exists for tests
    against a server on 127.0.0.1; the product never sets it.
    """

    max_bytes: int
    timeout: float = 30.0
    max_redirects: int = 5
    allow_hosts: frozenset[str] = frozenset()

    async def fetch(self, url: str, folder: Path) -> Path:
        """Download ``url`` into ``folder``; return the file. Raises ``FetchError``."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(parse_link(url), folder)
        except (ValueError, UnicodeError):  # a bad port, host or IDNA name, here or in a redirect
            raise FetchError(_not_a_link(url)) from None
        except TimeoutError:
            raise FetchError(f"The link took longer than {self.timeout:.0f} s to download; "
                             "try a faster host or attach the file instead.") from None
        except aiohttp.ClientError as error:
            raise FetchError(f"I couldn't download the link ({type(error).__name__}); "
                             "check that it opens in a browser, or attach the file instead.") from None

    async def _follow(self, url: URL, folder: Path) -> Path:
        for _ in range(self.max_redirects + 1):
            addresses = await self._vet(url)
            connector = aiohttp.TCPConnector(resolver=_PinnedResolver(url.host or "", addresses),
                                             use_dns_cache=False, force_close=True)
            async with (aiohttp.ClientSession(connector=connector, trust_env=False) as session,
                        session.get(url, allow_redirects=False) as response):
                if response.status in _REDIRECTS and "Location" in response.headers:
                    url = url.join(URL(response.headers["Location"]))
                    continue
                if response.status != 200:
                    raise FetchError(f"The link answered with HTTP {response.status} {response.reason or ''}".rstrip()
                                     + "; check that it points straight at the file.")
                return await self._save(response, url, folder)
        raise FetchError(f"The link redirects more than {self.max_redirects} times; post the final address instead.")

    async def _vet(self, url: URL) -> list[ResolveResult]:
        if url.scheme not in ("http", "https"):
            raise FetchError(f"Only http and https links can be fetched, not {url.scheme or 'this'}:.")
        if not url.host:
            raise FetchError("That link has no host name.")
        host, port = url.host, url.port or (443 if url.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise FetchError(f"The host {host} does not exist (its name does not resolve).") from None
        addresses = {str(info[4][0]) for info in infos}
        if host not in self.allow_hosts:
            blocked = [a for a in addresses if not is_public_address(ipaddress.ip_address(a.split("%")[0]))]
            if blocked:
                raise FetchError(f"{host} points into a private network ({blocked[0]}); "
                                 "I only fetch links on the public internet.")
        return [_resolve_result(host, info) for info in infos]

    async def _save(self, response: aiohttp.ClientResponse, url: URL, folder: Path) -> Path:
        declared = response.content_length
        if declared is not None and declared > self.max_bytes:
            raise FetchError(self._too_big(declared))
        path = folder / filename_of(url)
        received = 0
        try:
            with path.open("wb") as out:
                async for chunk in response.content.iter_chunked(_CHUNK):
                    received += len(chunk)
                    if received > self.max_bytes:
                        raise FetchError(self._too_big(None))
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if received == 0:
            path.unlink(missing_ok=True)
            raise FetchError("The link gave me an empty file.")
        return path

    def _too_big(self, size: int | None) -> str:
        what = f"is {size / 2**20:.1f} MB" if size is not None else "is larger than that"
        return f"The file at that link {what}; the limit is {self.max_bytes / 2**20:.0f} MB. Send a shorter clip."


def _resolve_result(host: str, info: tuple[Any, ...]) -> ResolveResult:
    family, _, proto, _, sockaddr = info
    return {"hostname": host, "host": sockaddr[0], "port": sockaddr[1], "family": family,
            "proto": proto, "flags": socket.AI_NUMERICHOST}


def parse_link(url: str) -> URL:
    """``url`` as a ``URL``, or a ``FetchError`` when it isn't a well-formed web address."""
    try:
        parsed = URL(url)
        parsed.port, parsed.host  # noqa: B018 -- both parse lazily, and raise on a bad port or host
    except (ValueError, UnicodeError):
        raise FetchError(_not_a_link(url)) from None
    return parsed


def _not_a_link(url: str) -> str:
    shown = url if len(url) <= 60 else url[:57] + "…"
    return f"{shown} is not a valid web address; check the link, or attach the file instead."


def filename_of(url: URL) -> str:
    """A safe local file name from the link's last path segment (``clip`` if it has none)."""
    name = unquote(url.path.rsplit("/", 1)[-1])
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")[:100]
    return name or "clip"


def find_link(text: str) -> str | None:
    """The first http(s) link in a message's text, trailing punctuation and <> stripped."""
    match = _LINK.search(text)
    return match.group(0).rstrip(").,;:!?>") if match else None


def link_attachment(text: str, fetcher: SafeFetcher) -> Attachment | None:
    """The first link in ``text`` as an attachment fetched by ``fetcher`` on download."""
    link = find_link(text)
    if link is None:
        return None
    try:
        name = filename_of(parse_link(link))
    except FetchError:
        name = "clip"  # the message is still answered; the download says what is wrong with the link

    async def download(folder: Path) -> Path:
        return await fetcher.fetch(link, folder)

    return Attachment(filename=name, size=None, content_type=None, download=download)
