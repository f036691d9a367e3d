"""Members' files on Slack, as attachments the agent downloads with the bot token, and their
profile pictures.

Slack serves a shared file only to requests carrying a token with ``files:read``, so
the download sends the bot token; it therefore goes ONLY to Slack's own file hosts
(``[slack] file_hosts`` plus the Web API's own host), never to a URL some other
service put in a file object (external files, links), and never follows a redirect
off those hosts. Profile pictures are public images on Slack's avatar hosts
(``[slack] avatar_hosts``): they are fetched only from there, without the token.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.adapter import MAX_PICTURE_BYTES, ProfilePictureUnavailable
from core.events import Attachment
from engine.errors import AudioInputError, RenderError

MAX_REDIRECTS = 3
#: ``users.info`` profile images, largest first (``image_original`` only for a picture the member uploaded).
PICTURE_FIELDS = ("image_original", "image_1024", "image_512", "image_192")
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
CHUNK_BYTES = 1 << 16


class FileHosts:
    """The origins (scheme and host) the bot downloads from (and sends the token to, for files)."""

    def __init__(self, hosts: Iterable[str], api_url: str) -> None:
        api = urlsplit(api_url)
        self.origins = {("https", host.lower()) for host in hosts} | {(api.scheme, api.netloc.lower())}

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc.lower()) in self.origins


def file_attachment(file: dict[str, Any], *, token: str, hosts: FileHosts, max_bytes: int) -> Attachment:
    """An ``Attachment`` for one entry of a message's ``files``."""
    filename = Path(file.get("name") or file.get("title") or "").name or f"{file.get('id', 'file')}"

    async def download(folder: Path) -> Path:
        url = file.get("url_private_download") or file.get("url_private")
        if not url:
            raise AudioInputError(f"Slack doesn't let me open {filename} (it is hidden or deleted). Upload it again.")
        target = folder / filename
        await _fetch(url, target, token=token, hosts=hosts, max_bytes=max_bytes, filename=filename)
        return target

    return Attachment(filename=filename, size=file.get("size"), content_type=file.get("mimetype"), download=download)


async def member_picture(client: AsyncWebClient, user_id: str, folder: Path, *, hosts: FileHosts) -> Path | None:
    """The member's own profile image (``users.info``), the largest Slack has, into ``folder``; None
    when they kept the picture Slack generated for them (``is_custom_image`` false)."""
    try:
        profile = (await client.users_info(user=user_id))["user"].get("profile", {})
    except SlackApiError as error:
        raise ProfilePictureUnavailable(f"Slack wouldn't say ({error.response.get('error')})") from None
    url = next((profile[field] for field in PICTURE_FIELDS if profile.get(field)), None)
    if not profile.get("is_custom_image") or url is None:
        return None
    suffix = Path(urlsplit(url).path).suffix.lower()
    target = folder / f"profile-picture{suffix if suffix in PICTURE_SUFFIXES else ''}"
    if not hosts.allows(url):
        raise ProfilePictureUnavailable(f"Slack keeps it on {urlsplit(url).netloc or 'no host'}, "
                                        "which is not one of the bot's [slack] avatar_hosts")
    try:
        await _fetch(url, target, token=None, hosts=hosts, max_bytes=MAX_PICTURE_BYTES, filename=target.name)
    except RenderError:
        target.unlink(missing_ok=True)
        raise ProfilePictureUnavailable("Slack's picture server didn't send it") from None
    return target


async def _fetch(url: str, target: Path, *, token: str | None, hosts: FileHosts, max_bytes: int,
                 filename: str) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        for _ in range(MAX_REDIRECTS + 1):
            if not hosts.allows(url):
                raise AudioInputError(
                    f"{filename} is not stored on Slack ({urlsplit(url).netloc or 'no host'}), so I won't fetch it. "
                    "Upload the clip to Slack itself."
                )
            try:
                async with session.get(url, headers=headers, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    _check_response(response, filename)
                    await _save(response, target, max_bytes, filename)
                    return
            except aiohttp.ClientError as error:
                raise RenderError(
                    f"I couldn't download {filename} from Slack ({error}). Try again in a moment.") from error
    raise RenderError(f"Slack redirected the download of {filename} too often. Try uploading it again.")


def _check_response(response: aiohttp.ClientResponse, filename: str) -> None:
    if response.status != 200:
        raise RenderError(f"Slack refused the download of {filename} (HTTP {response.status}). Try uploading it again.")
    if response.content_type == "text/html":
        # Slack answers a token without files:read with its sign-in page, not an error.
        raise RenderError(f"Slack sent a sign-in page instead of {filename}: the app needs the files:read scope.")


async def _save(response: aiohttp.ClientResponse, target: Path, max_bytes: int, filename: str) -> None:
    written = 0
    with target.open("wb") as out:
        async for chunk in response.content.iter_chunked(CHUNK_BYTES):
            written += len(chunk)
            if written > max_bytes:
                raise AudioInputError(
                    f"{filename} is over {max_bytes / 2**20:.0f} MB, the limit. Send a shorter or more compressed clip."
                )
            out.write(chunk)
