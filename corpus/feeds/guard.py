"""SSRF guard: which IP addresses may be connected to, and an httpx transport that enforces it."""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import httpcore
import httpx

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT; 3.11's is_private misses it
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Blocked(Exception):
    """No connection made: unresolvable host or non-public address (str says which)."""


def address_kind(address: str) -> str | None:
    """None for a public unicast IP; else why it is refused ("loopback", "private", ...)."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        # These IPv6 forms carry an IPv4 address and reach it: judge the IPv4 address.
        nat64 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        ip = ip.ipv4_mapped or ip.sixtofour or nat64 or ip
    kinds = (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),  # 169.254.169.254 is the cloud metadata service
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),  # is_global is True for most multicast addresses
        ("private", ip.is_private),
        ("carrier-grade NAT", ip in _SHARED),
        ("reserved", ip.is_reserved),
    )
    kind = next((kind for kind, match in kinds if match), None)
    return kind or (None if ip.is_global else "non-public")


def check_address(host: str, address: str, allowed: Sequence[Network] = ()) -> None:
    """Raise Blocked unless address (which host resolved to) is public or in an allowed network."""
    ip = ipaddress.ip_address(address)
    if any(ip in network for network in allowed):
        return
    kind = address_kind(address)
    if kind is not None:
        shown = address if host == address else f"{host} resolves to {address}, which"
        article = "an" if kind[0] in "aeiou" else "a"
        raise Blocked(f"refused: {shown} is {article} {kind} address")


class _GuardedBackend(httpcore.SyncBackend):
    """Connects only to checked addresses, judged after resolution: no DNS rebinding window."""

    def __init__(self, allow_private: bool, allowed: Sequence[Network]) -> None:
        self._allow_private = allow_private
        self._allowed = allowed

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise Blocked(f"cannot resolve host {host}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not self._allow_private:
            # Any non-public answer refuses the host: a name that mixes public and private
            # addresses is an attack, not a news site.
            for address in addresses:
                check_address(host, address, self._allowed)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                # Connecting to the checked IP literal: the OS does no second lookup. TLS still
                # verifies the hostname, which httpcore passes to start_tls separately.
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"no address for {host}")


class GuardedTransport(httpx.BaseTransport):
    """httpx over an httpcore pool whose every connection, redirects included, is checked."""

    # httpx.HTTPTransport takes no network backend; building the pool here uses only public API
    # of both libraries instead of swapping HTTPTransport's private _pool. httpcore's exceptions
    # pass through unmapped (httpx maps them in HTTPTransport only): callers catch both kinds.
    def __init__(self, *, allow_private: bool = False, allowed_networks: Sequence[str] = ()):
        allowed = [ipaddress.ip_network(network) for network in allowed_networks]
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(), network_backend=_GuardedBackend(allow_private, allowed)
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = httpcore.URL(
            scheme=request.url.raw_scheme,
            host=request.url.raw_host,
            port=request.url.port,
            target=request.url.raw_path,
        )
        core = httpcore.Request(
            request.method,
            url,
            headers=request.headers.raw,
            content=request.read(),
            extensions=request.extensions,  # carries httpx's timeouts
        )
        response = self._pool.handle_request(core)
        return httpx.Response(
            response.status,
            headers=response.headers,
            stream=_Body(response),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _Body(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        yield from self._response.iter_stream()

    def close(self) -> None:
        self._response.close()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~20 ms; one context serves every fetch (it is thread-safe).
    return httpx.create_ssl_context()
