"""Safe link fetching, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from core.fetch import (
    FetchError,
    SafeFetcher,
    filename_of,
    find_link,
    is_public_address,
    link_attachment,
)

BODY = bytes(range(256)) * 400  # 100 kB
LOCAL = frozenset({"127.0.0.1"})


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    never = asyncio.Event()

    async def clip(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="audio/wav")

    async def streamed(request: web.Request) -> web.StreamResponse:
        # No Content-Length: the cap must hold while the body streams in.
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(10):
            await response.write(BODY)
        return response

    async def declared_huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(10**9)})
        await response.prepare(request)
        await response.write(BODY)
        return response

    async def hop(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": request.query["to"]})

    async def loop_forever(request: web.Request) -> web.Response:
        return web.Response(status=301, headers={"Location": "/loop"})

    async def stall(request: web.Request) -> web.Response:
        await never.wait()
        raise AssertionError("unreachable")

    async def host(request: web.Request) -> web.Response:
        return web.Response(text=request.host)

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/clip.wav", clip)
    app.router.add_get("/streamed", streamed)
    app.router.add_get("/huge", declared_huge)
    app.router.add_get("/hop", hop)
    app.router.add_get("/loop", loop_forever)
    app.router.add_get("/stall", stall)
    app.router.add_get("/host", host)
    app.router.add_get("/missing", missing)
    async with TestServer(app, host="127.0.0.1") as test_server:
        yield test_server


def url(server: TestServer, path: str, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{server.port}{path}"


@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "0.0.0.0", "224.0.0.1",
    "240.0.0.1", "100.64.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "64:ff9b::a00:1",
])
def test_addresses_of_the_own_network_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


async def test_loopback_is_refused_by_default(server: TestServer, tmp_path: Path) -> None:
    fetcher = SafeFetcher(max_bytes=10**6)
    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(FetchError, match="private network"):
            await fetcher.fetch(url(server, "/clip.wav", host), tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_an_allowed_host_is_downloaded(server: TestServer, tmp_path: Path) -> None:
    path = await SafeFetcher(max_bytes=10**6, allow_hosts=LOCAL).fetch(url(server, "/clip.wav"), tmp_path)
    assert path == tmp_path / "clip.wav" and path.read_bytes() == BODY


@pytest.mark.parametrize("link", ["file:///etc/passwd", "ftp://example.com/clip.ogg", "gopher://127.0.0.1/"])
async def test_only_http_and_https(link: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="Only http and https"):
        await SafeFetcher(max_bytes=10**6, allow_hosts=LOCAL).fetch(link, tmp_path)


async def test_every_redirect_hop_is_vetted(server: TestServer, tmp_path: Path) -> None:
    fetcher = SafeFetcher(max_bytes=10**6, allow_hosts=LOCAL)
    # Allowed host redirecting to the same machine under a name that isn't allowed.
    with pytest.raises(FetchError, match="private network"):
        await fetcher.fetch(url(server, "/hop") + "?to=" + url(server, "/clip.wav", "localhost"), tmp_path)
    path = await fetcher.fetch(url(server, "/hop") + "?to=/clip.wav", tmp_path)
    assert path.read_bytes() == BODY


async def test_redirects_are_capped(server: TestServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="redirects more than 3 times"):
        await SafeFetcher(max_bytes=10**6, max_redirects=3, allow_hosts=LOCAL).fetch(url(server, "/loop"), tmp_path)


async def test_the_size_cap_holds_while_streaming(server: TestServer, tmp_path: Path) -> None:
    fetcher = SafeFetcher(max_bytes=len(BODY) * 3, allow_hosts=LOCAL)
    with pytest.raises(FetchError, match="larger than that; the limit is"):
        await fetcher.fetch(url(server, "/streamed"), tmp_path)
    with pytest.raises(FetchError, match=r"is 953\.7 MB; the limit is"):
        await fetcher.fetch(url(server, "/huge"), tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_http_errors_and_timeouts_are_clear(server: TestServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        await SafeFetcher(max_bytes=10**6, allow_hosts=LOCAL).fetch(url(server, "/missing"), tmp_path)
    with pytest.raises(FetchError, match="took longer than"):
        await SafeFetcher(max_bytes=10**6, timeout=0.2, allow_hosts=LOCAL).fetch(url(server, "/stall"), tmp_path)
    with pytest.raises(FetchError, match="does not exist"):
        await SafeFetcher(max_bytes=10**6).fetch("http://no-such-host.invalid/clip.ogg", tmp_path)


async def test_the_vetted_address_is_the_one_connected_to(server: TestServer, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: a second lookup would answer differently, so there must be none."""
    loop = asyncio.get_running_loop()
    real_getaddrinfo = loop.getaddrinfo
    answers = iter(["127.0.0.1"])

    async def rebinding(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host != "media.example":
            return await real_getaddrinfo(host, port, *args, **kwargs)
        address = next(answers, None)
        if address is None:
            raise AssertionError("looked up twice")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    fetcher = SafeFetcher(max_bytes=10**6, allow_hosts=frozenset({"media.example"}))
    path = await fetcher.fetch(url(server, "/host", "media.example"), tmp_path)
    assert path.read_text() == f"media.example:{server.port}"


async def test_a_link_in_a_message_becomes_an_attachment(server: TestServer, tmp_path: Path) -> None:
    text = f"!avatar --style anime <{url(server, '/clip.wav')}>, please"
    attachment = link_attachment(text, SafeFetcher(max_bytes=10**6, allow_hosts=LOCAL))
    assert attachment is not None and attachment.filename == "clip.wav" and attachment.size is None
    assert (await attachment.download(tmp_path)).read_bytes() == BODY
    assert link_attachment("!say no links here", SafeFetcher(max_bytes=1)) is None


def test_link_file_names_are_safe() -> None:
    from yarl import URL

    assert filename_of(URL("https://x.example/a/..%2F..%2Fetc%2Fpasswd")) == "passwd"
    assert filename_of(URL("https://x.example/..my%20voice%3B.ogg")) == "my_voice_.ogg"
    assert filename_of(URL("https://x.example/")) == "clip"
    assert find_link("see (https://x.example/v.ogg).") == "https://x.example/v.ogg"


@pytest.mark.parametrize("link", ["http://[oops", "http://h:99999/clip.ogg", "http://a:b:c/", "http://exa mple.com/",
                                  "http://xn--ls8h\u00ad.example/", "https://" + "a" * 70 + ".example/clip.ogg",
                                  "http://\u2488.example/"])
async def test_a_malformed_link_is_a_clear_refusal(link: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError) as refused:
        await SafeFetcher(max_bytes=10**6).fetch(link, tmp_path)
    assert str(refused.value).endswith(("not a valid web address; check the link, or attach the file instead.",
                                         "does not exist (its name does not resolve)."))


@pytest.mark.parametrize("text", ["!help http://[oops", "!avatar http://h:99999/", "!avatar http://a:b:c/"])
async def test_a_malformed_link_in_a_message_still_makes_an_attachment(text: str, tmp_path: Path) -> None:
    attachment = link_attachment(text, SafeFetcher(max_bytes=10**6))
    assert attachment is not None and attachment.filename == "clip"
    with pytest.raises(FetchError, match="is not a valid web address"):
        await attachment.download(tmp_path)
