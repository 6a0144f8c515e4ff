"""Outbound HTTP to addresses a user typed into hub.yaml: ``public_http_client``.

A sink that POSTs to a configured URL (a webhook, a chat service, a CRM on premises) is a way to
make the hub's network reach somewhere: ``http://169.254.169.254/`` is a cloud's metadata
service, ``http://localhost:5432`` a database. So the client refuses a target whose address is
not public (private, loopback, link-local, shared, unspecified, multicast, reserved, IPv4 and
IPv6, an IPv4 address inside an IPv6 one too) unless the selection says ``allow_private``.

The check runs on the addresses the name resolves to, at request time, and the connection goes
to the address that was checked (the URL's host is kept for ``Host`` and TLS SNI), so a name
whose DNS answer changes between the check and the connect (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``resolve(host, port)``: the addresses to try, in order (``getaddrinfo`` by default).
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class PrivateAddressError(httpx.ConnectError):
    """The target resolves to an address that is not public and ``allow_private`` is off.

    A ``httpx.ConnectError`` (a ``TransportError``), so a caller that maps network errors to
    retries must test for it first: trying again cannot help."""


def is_public_address(address: str | IPAddress) -> bool:
    """Whether ``address`` is a public unicast address (looks inside IPv4-mapped, NAT64 and
    6to4 IPv6 addresses at the IPv4 address they carry)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    return ip.is_global and not ip.is_multicast


async def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class PinnedTransport(httpx.AsyncBaseTransport):
    """Resolves each request's host once, refuses non-public addresses (unless
    ``allow_private``), and connects to the first address that passed, keeping the host name
    for ``Host`` and SNI (so certificates are still checked against the name)."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allow_private = allow_private
        self._resolve = resolver or _getaddrinfo
        self._inner = inner or httpx.AsyncHTTPTransport(trust_env=False)

    async def address_for(self, host: str, port: int) -> str:
        """The address to connect to for ``host``: a checked one; ``PrivateAddressError`` if
        any address the name has is not public (one bad answer is enough to refuse: which one
        the connect would use is up to the resolver's order)."""
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        try:
            addresses = [str(literal)] if literal else await self._resolve(host, port)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpx.ConnectError(f"cannot resolve {host}: no address")
        if not self.allow_private:
            refused = [a for a in addresses if not is_public_address(a)]
            if refused:
                raise PrivateAddressError(
                    f"{host} resolves to {refused[0]}, which is not a public address"
                    " (set allow_private: true to post to your own network)"
                )
        return addresses[0]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        address = await self.address_for(host, port)
        if address != host:
            # Host was set from the URL when the request was built; only the socket moves.
            request.url = request.url.copy_with(host=address)
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def public_http_client(
    *,
    allow_private: bool = False,
    timeout: float = 10.0,
    resolver: Resolver | None = None,
    **options: Any,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for URLs from hub.yaml: refuses non-public targets after DNS
    (``PrivateAddressError``) unless ``allow_private``, connects to the address it checked,
    never follows redirects and ignores proxy environment variables (a proxy would connect
    where we did not look). ``options`` go to ``httpx.AsyncClient`` (``headers``...);
    ``resolver`` replaces the system's DNS (tests)."""
    transport = PinnedTransport(allow_private=allow_private, resolver=resolver)
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        **options,
    )


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """What is wrong with ``url`` as a target for ``public_http_client``, without resolving it:
    not http(s), no host, or a literal address that is not public. ``None`` if nothing."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"not a URL: {exc}"
    if parsed.scheme not in {"http", "https"}:
        return f"must be an http:// or https:// URL, not {parsed.scheme or 'no scheme'}:"
    if not parsed.host:
        return "has no host"
    if allow_private:
        return None
    try:
        literal = ipaddress.ip_address(parsed.host)
    except ValueError:
        literal = None
    if parsed.host == "localhost" or parsed.host.endswith(".localhost"):
        literal = ipaddress.IPv4Address("127.0.0.1")
    if literal is not None and not is_public_address(literal):
        return f"{parsed.host} is not a public address (set allow_private: true to allow it)"
    return None
