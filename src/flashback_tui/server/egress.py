"""Which endpoints the local platform will call: the endpoint policy (stdlib only).

Validation probes and the gateway never connect to link-local and cloud metadata addresses,
nor to the unspecified address, unless the operator allows it. Built in, these are refused:

- ``169.254.0.0/16``: IPv4 link-local, where clouds serve instance metadata (169.254.169.254);
- ``fe80::/10``: IPv6 link-local;
- ``fd00:ec2::254``: the IPv6 instance metadata address of AWS;
- ``0.0.0.0`` and ``::``: the unspecified addresses, which reach the machine itself.

Everything else (public addresses, private networks such as 10/8, 172.16/12, 192.168/16, and
loopback) is allowed unless the operator denies it.

The operator narrows or widens this with two environment variables, read once per server by
:meth:`EndpointPolicy.from_env`: ``FLASHBACK_ENDPOINT_ALLOW`` and ``FLASHBACK_ENDPOINT_DENY``,
each a comma-separated list of entries. An entry is

- a CIDR (``10.0.0.0/8``, ``fd00::/8``) or a single address (``169.254.169.254``, ``::1``;
  brackets allowed); host bits are ignored (``10.1.2.3/8`` is ``10.0.0.0/8``). It applies to
  every address an endpoint's host resolves to, and to an address written in the URL;
- a host name: ``llm.corp.example`` matches exactly that name; ``*.corp.example`` and
  ``.corp.example`` (the same thing) match every name below ``corp.example`` at any depth,
  but not ``corp.example`` itself (list both to cover both). Names compare without case and
  without a trailing dot; international names compare in their ASCII (IDNA) form. A name
  entry applies to the host name written in the URL, never to an address.

How one connection, to an address for a host, is decided:

1. If the host is a name that name entries match, the most specific of them decides: an exact
   name beats a wildcard, a longer wildcard beats a shorter one. An allowed name is trusted
   wherever it resolves (no address rule applies to it); a denied one is refused.
2. Otherwise, if CIDR entries contain the address, the one with the longest prefix decides.
3. Otherwise the built-in refusals above decide.

In steps 1 and 2, a DENY entry beats an ALLOW entry of the same specificity. Operator entries
thus override the built-ins (``FLASHBACK_ENDPOINT_ALLOW=169.254.10.0/24`` allows that subnet;
``FLASHBACK_ENDPOINT_ALLOW=0.0.0.0/0`` allows every IPv4 address, metadata included), and an
allow list is built by denying everything and allowing a few (``DENY=0.0.0.0/0,::/0`` with
``ALLOW=api.openai.com,10.1.0.0/16``). An IPv4-mapped (``::ffff:169.254.169.254``) or NAT64
(``64:ff9b::a9fe:a9fe``) address is judged as the IPv4 address it carries, and so are CIDR
entries written in those forms.

A host name that resolves to several addresses is refused if any of them is refused.
:meth:`EndpointPolicy.check_endpoint` is the check at create/update time: it resolves the
host (off the event loop) and refuses if a resolved address is refused, but a name that does
not resolve there is not refused (on-prem names may resolve only inside their network). The
authoritative check is at connect time: the outbound transport
(:class:`~flashback_tui.server.upstream.UpstreamTransport`) resolves the host itself, checks
every address with :meth:`EndpointPolicy.allowed_addresses` and connects only to checked
addresses, so a name that changes its answer between the two checks cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

ALLOW_VAR = "FLASHBACK_ENDPOINT_ALLOW"
DENY_VAR = "FLASHBACK_ENDPOINT_DENY"
#: Longest wait for name resolution at create/update time; a slower name is not refused.
RESOLVE_TIMEOUT = 3.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Resolves ``(host, port)`` to addresses (as text), raising OSError when the name is unknown.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_HINT = f"(set {ALLOW_VAR} to allow it)"

#: The built-in refusals: (network, what it is).
BUILT_IN_REFUSALS: tuple[tuple[IPNetwork, str], ...] = (
    (ipaddress.IPv4Network("169.254.0.0/16"), "a link-local/cloud metadata address"),
    (ipaddress.IPv6Network("fe80::/10"), "an IPv6 link-local address"),
    (ipaddress.IPv6Network("fd00:ec2::254/128"), "a cloud metadata address"),
    (ipaddress.IPv4Network("0.0.0.0/32"), "the unspecified address"),
    (ipaddress.IPv6Network("::/128"), "the unspecified address"),
)


class EndpointRefused(Exception):
    """The endpoint policy refuses a connection; ``reason`` names the rule, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PolicyError(ValueError):
    """An entry of FLASHBACK_ENDPOINT_ALLOW/DENY is neither a CIDR nor a host name."""


@dataclass(frozen=True)
class _NameEntry:
    """One host-name entry: ``name`` exactly, or every name below it when ``wildcard``."""

    text: str
    name: str
    wildcard: bool
    deny: bool

    def matches(self, host: str) -> bool:
        return host.endswith("." + self.name) if self.wildcard else host == self.name

    @property
    def rank(self) -> tuple[int, int, bool]:
        return (0 if self.wildcard else 1, len(self.name), self.deny)


@dataclass(frozen=True)
class _NetworkEntry:
    """One CIDR entry."""

    text: str
    network: IPNetwork
    deny: bool

    @property
    def rank(self) -> tuple[int, bool]:
        return (self.network.prefixlen, self.deny)


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system resolver (getaddrinfo, in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address (brackets and an IPv6 zone allowed), or None for a name."""
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def judged_address(address: IPAddress) -> IPAddress:
    """The address the policy judges: the IPv4 address a mapped or NAT64 address carries."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def normalize_host(host: str) -> str:
    """A host name as policies compare it: lower case, no trailing dot, ASCII (IDNA) form."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # left as it is: no entry (always ASCII) can match it
    return host


class EndpointPolicy:
    """The rules deciding which addresses and host names outbound calls may connect to.

    ``allow`` and ``deny`` are entries as in the environment variables (see the module
    docstring for their meaning); ``resolver`` maps a host name to its addresses (the system
    resolver by default; tests pass their own). Raises :class:`PolicyError` for an entry that
    is neither a CIDR nor a host name, so a mistyped DENY never goes unnoticed.
    """

    def __init__(
        self,
        allow: Iterable[str] = (),
        deny: Iterable[str] = (),
        *,
        resolver: Resolver | None = None,
    ) -> None:
        self.resolver: Resolver = resolver or system_resolver
        self._names: list[_NameEntry] = []
        self._networks: list[_NetworkEntry] = []
        for variable, entries, is_deny in ((ALLOW_VAR, allow, False), (DENY_VAR, deny, True)):
            for entry in entries:
                if entry.strip():
                    self._add(variable, entry.strip(), is_deny)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, resolver: Resolver | None = None
    ) -> EndpointPolicy:
        """The policy that FLASHBACK_ENDPOINT_ALLOW/DENY in ``env`` (the process's) name."""
        env = os.environ if env is None else env
        return cls(
            env.get(ALLOW_VAR, "").split(","), env.get(DENY_VAR, "").split(","),
            resolver=resolver,
        )

    def _add(self, variable: str, entry: str, deny: bool) -> None:
        try:
            network = ipaddress.ip_network(entry.strip("[]"), strict=False)
        except ValueError:
            network = None
        if network is not None:
            self._networks.append(_NetworkEntry(entry, _judged_network(network), deny))
            return
        name = normalize_host(entry)
        wildcard = name.startswith(("*.", "."))
        name = name.removeprefix("*").removeprefix(".")
        labels = name.split(".")
        valid = all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()
        if not name or len(name) > 253 or not valid:  # "10.1.2" is neither: say so
            raise PolicyError(f"{variable}: {entry!r} is neither a CIDR nor a host name")
        self._names.append(_NameEntry(entry, name, wildcard, deny))

    def __repr__(self) -> str:
        allow = [e.text for e in (*self._names, *self._networks) if not e.deny]
        deny = [e.text for e in (*self._names, *self._networks) if e.deny]
        return f"EndpointPolicy(allow={allow!r}, deny={deny!r})"

    # -- decisions ----------------------------------------------------------------------------

    def _name_entry(self, host: str) -> _NameEntry | None:
        """The most specific name entry matching ``host`` (a name, normalized), if any."""
        matching = [entry for entry in self._names if entry.matches(host)]
        return max(matching, key=lambda entry: entry.rank) if matching else None

    def check_host(self, host: str) -> str | None:
        """Why the host written in a URL is refused as such, or None.

        An address is checked as by :meth:`check_address`. A name is refused only when a DENY
        name entry decides it; its addresses are checked when it is resolved.
        """
        if parse_address(host) is not None:
            return self.check_address(host)
        name = normalize_host(host)
        entry = self._name_entry(name)
        if entry is None or not entry.deny:
            return None
        if entry.wildcard:
            return f"endpoint refused: {name} matches {entry.text} in {DENY_VAR}"
        return f"endpoint refused: {name} is listed in {DENY_VAR}"

    def check_address(self, address: str | IPAddress, *, host: str | None = None) -> str | None:
        """Why connecting to ``address`` (resolved from the name ``host``, if given) is
        refused, naming the rule, or None when it is allowed."""
        name = None if host is None or parse_address(host) is not None else normalize_host(host)
        if name is not None:
            entry = self._name_entry(name)
            if entry is not None:
                return self.check_host(name) if entry.deny else None
        shown = str(address).strip().strip("[]")  # as written (Python may show it otherwise)
        if isinstance(address, str):
            parsed = parse_address(address)
            if parsed is None:
                return f"endpoint refused: {address!r} is not an IP address"
            address = parsed
        judged = judged_address(address)
        subject = shown if judged == address else f"{shown} (IPv4 {judged})"
        lead = f"endpoint refused: {subject} is"
        if name is not None:
            lead = f"endpoint refused: {name} resolves to {subject},"
        matching = [rule for rule in self._networks if judged in rule.network]
        if matching:
            rule = max(matching, key=lambda rule: rule.rank)
            if not rule.deny:
                return None
            if name is not None:
                return f"{lead} which matches {rule.text} in {DENY_VAR}"
            return f"{lead} in {rule.text}, listed in {DENY_VAR}"
        for network, what in BUILT_IN_REFUSALS:
            if judged in network:
                return f"{lead} {what} {_HINT}"
        return None

    # -- with name resolution ------------------------------------------------------------------

    async def allowed_addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``, all checked; the connect-time check.

        Raises :class:`EndpointRefused` if the host or any address it resolves to is refused,
        and OSError (``socket.gaierror``) if the name does not resolve.
        """
        reason = self.check_host(host)
        if reason is not None:
            raise EndpointRefused(reason)
        literal = parse_address(host)
        if literal is not None:
            return [str(literal)]
        addresses = list(await self.resolver(host, port))
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "no address for the host name")
        for address in addresses:
            reason = self.check_address(address, host=host)
            if reason is not None:
                raise EndpointRefused(reason)
        return addresses

    async def check_destination(self, host: str, port: int) -> str | None:
        """Why ``host`` is refused, resolving it if it is a name, or None.

        A name that does not resolve (in :data:`RESOLVE_TIMEOUT`) is not refused: only the
        connect-time check can judge it.
        """
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                await self.allowed_addresses(host, port)
        except EndpointRefused as refused:
            return refused.reason
        except (OSError, TimeoutError, UnicodeError):
            return None
        return None

    async def check_endpoint(self, url: str) -> str | None:
        """Why the endpoint ``url`` is refused (the create/update check), or None.

        A URL without a host, or one that does not parse, is not this policy's business (None).
        """
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            return None
        if not host:
            return None
        if port is None:
            port = 443 if parts.scheme.lower() == "https" else 80
        return await self.check_destination(host, port)


async def refused_endpoint_reason(url: str, policy: EndpointPolicy) -> str | None:
    """Why ``policy`` refuses the endpoint ``url`` (for a 400 at create/update), or None."""
    return await policy.check_endpoint(url)


def _judged_network(network: IPNetwork) -> IPNetwork:
    """A CIDR entry written in the IPv4-mapped or NAT64 form, as the IPv4 network it covers."""
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        for prefix in (_MAPPED, _NAT64):
            if network.subnet_of(prefix):
                base = ipaddress.IPv4Address(int(network.network_address) & 0xFFFFFFFF)
                return ipaddress.IPv4Network(f"{base}/{network.prefixlen - 96}")
    return network
