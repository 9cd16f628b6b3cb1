"""The endpoint policy: built-in refusals, FLASHBACK_ENDPOINT_ALLOW/DENY, create-time checks.

Nothing here connects anywhere: addresses are judged as values, and names resolve through a
table (``FakeResolver``), except numeric host forms that the system parses without DNS.
"""

from __future__ import annotations

import socket

import pytest

from flashback_tui.server import egress
from flashback_tui.server.egress import (
    EndpointPolicy,
    EndpointRefused,
    PolicyError,
    refused_endpoint_reason,
)
from tests.support.egress import FakeResolver

pytestmark = pytest.mark.no_database

HINT = "(set FLASHBACK_ENDPOINT_ALLOW to allow it)"
METADATA = f"a link-local/cloud metadata address {HINT}"


def policy(allow: str = "", deny: str = "", **table: list[str]) -> EndpointPolicy:
    """A policy as the environment would give it, resolving names from ``table``."""
    env = {"FLASHBACK_ENDPOINT_ALLOW": allow, "FLASHBACK_ENDPOINT_DENY": deny}
    return EndpointPolicy.from_env(env, resolver=FakeResolver(table))


# ---------------------------------------------------------------------------------------------
# Built-in refusals
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "what"),
    [
        ("169.254.169.254", METADATA),
        ("169.254.0.1", METADATA),
        ("fe80::1", f"an IPv6 link-local address {HINT}"),
        ("fe80::1%eth0", f"an IPv6 link-local address {HINT}"),
        ("febf:ffff::1", f"an IPv6 link-local address {HINT}"),
        ("fd00:ec2::254", f"a cloud metadata address {HINT}"),
        ("0.0.0.0", f"the unspecified address {HINT}"),
        ("::", f"the unspecified address {HINT}"),
    ],
)
def test_metadata_link_local_and_unspecified_addresses_are_refused(address: str, what: str) -> None:
    assert policy().check_address(address) == f"endpoint refused: {address} is {what}"


@pytest.mark.parametrize(
    ("address", "carried"),
    [
        ("::ffff:169.254.169.254", "169.254.169.254"),
        ("::ffff:a9fe:a9fe", "169.254.169.254"),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("::ffff:0.0.0.0", "0.0.0.0"),
    ],
)
def test_an_ipv4_mapped_or_nat64_address_is_judged_as_the_ipv4_it_carries(
    address: str, carried: str
) -> None:
    reason = policy().check_address(address)

    assert reason is not None
    assert reason.startswith(f"endpoint refused: {address} (IPv4 {carried}) is ")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1",  # loopback
        "10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.10", "fd12:3456::1",  # on-prem
        "8.8.8.8", "2001:db8::1",  # public
        "169.253.255.255", "169.255.0.0", "fd00:ec2::253", "fec0::1", "0.0.0.1",  # neighbours
    ],
)
def test_everything_else_is_allowed_by_default(address: str) -> None:
    assert policy().check_address(address) is None


# ---------------------------------------------------------------------------------------------
# CIDR entries
# ---------------------------------------------------------------------------------------------


def test_allow_overrides_a_built_in_refusal_for_its_range_only() -> None:
    rules = policy(allow="169.254.10.0/24")

    assert rules.check_address("169.254.10.7") is None
    assert rules.check_address("::ffff:169.254.10.7") is None
    assert rules.check_address("169.254.169.254") == (
        f"endpoint refused: 169.254.169.254 is {METADATA}"
    )


def test_a_cidr_in_the_mapped_form_covers_the_ipv4_range() -> None:
    rules = policy(allow="::ffff:169.254.10.0/120")

    assert rules.check_address("169.254.10.7") is None
    assert rules.check_address("169.254.11.7") is not None


def test_deny_adds_to_the_built_ins() -> None:
    rules = policy(deny="127.0.0.0/8, ::1")

    assert rules.check_address("127.0.0.1") == (
        "endpoint refused: 127.0.0.1 is in 127.0.0.0/8, listed in FLASHBACK_ENDPOINT_DENY"
    )
    assert rules.check_address("::ffff:127.0.0.1") is not None
    assert rules.check_address("::1") == (
        "endpoint refused: ::1 is in ::1, listed in FLASHBACK_ENDPOINT_DENY"
    )
    assert rules.check_address("169.254.169.254") is not None
    assert rules.check_address("10.0.0.1") is None


def test_the_longest_prefix_decides_and_deny_wins_a_tie() -> None:
    rules = policy(allow="10.1.0.0/16, 192.168.0.0/16", deny="10.0.0.0/8, 192.168.0.0/16")

    assert rules.check_address("10.1.2.3") is None
    assert rules.check_address("10.2.0.1") is not None
    assert rules.check_address("192.168.1.1") is not None


def test_an_allow_list_denies_everything_and_allows_a_few() -> None:
    rules = policy(allow="api.provider.test, 10.1.0.0/16", deny="0.0.0.0/0, ::/0")

    assert rules.check_address("10.1.0.5") is None
    assert rules.check_address("8.8.8.8") is not None
    assert rules.check_address("2001:db8::1") is not None
    assert rules.check_address("203.0.113.9", host="api.provider.test") is None
    assert rules.check_address("203.0.113.9", host="other.provider.test") is not None


def test_allowing_everything_lifts_the_built_ins_too() -> None:
    assert policy(allow="0.0.0.0/0").check_address("169.254.169.254") is None


# ---------------------------------------------------------------------------------------------
# Host-name entries
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["*.evil.test", ".evil.test"])
def test_a_wildcard_matches_names_below_it_at_any_depth_but_not_itself(entry: str) -> None:
    rules = policy(deny=entry)

    assert rules.check_host("api.evil.test") == (
        f"endpoint refused: api.evil.test matches {entry} in FLASHBACK_ENDPOINT_DENY"
    )
    assert rules.check_host("a.b.evil.test") is not None
    assert rules.check_host("evil.test") is None
    assert rules.check_host("notevil.test") is None


def test_an_exact_name_matches_only_itself_without_case_or_trailing_dot() -> None:
    rules = policy(deny="evil.test")

    assert rules.check_host("EVIL.Test.") == (
        "endpoint refused: evil.test is listed in FLASHBACK_ENDPOINT_DENY"
    )
    assert rules.check_host("api.evil.test") is None


def test_international_names_compare_in_their_ascii_form() -> None:
    rules = policy(deny="bücher.test")

    assert rules.check_host("xn--bcher-kva.test") is not None
    assert rules.check_host("BÜCHER.test") is not None


def test_the_most_specific_name_decides() -> None:
    rules = policy(allow="*.llm.corp.test, ok.corp.test", deny="*.corp.test")

    assert rules.check_host("x.llm.corp.test") is None
    assert rules.check_host("ok.corp.test") is None
    assert rules.check_host("db.corp.test") is not None


def test_an_allowed_name_is_trusted_wherever_it_resolves() -> None:
    rules = policy(allow="metadata.corp.test", deny="10.0.0.0/8")

    assert rules.check_address("169.254.169.254", host="metadata.corp.test") is None
    assert rules.check_address("10.0.0.1", host="metadata.corp.test") is None
    assert rules.check_address("169.254.169.254", host="other.corp.test") == (
        f"endpoint refused: other.corp.test resolves to 169.254.169.254, {METADATA}"
    )


def test_a_denied_name_beats_an_allowed_address() -> None:
    rules = policy(allow="127.0.0.0/8", deny="localhost")

    assert rules.check_address("127.0.0.1", host="localhost") == (
        "endpoint refused: localhost is listed in FLASHBACK_ENDPOINT_DENY"
    )
    assert rules.check_address("127.0.0.1") is None


def test_names_never_match_addresses_and_cidrs_never_match_names() -> None:
    rules = policy(deny="localhost, 127.0.0.0/8")

    assert rules.check_host("127.0.0.2") == (
        "endpoint refused: 127.0.0.2 is in 127.0.0.0/8, listed in FLASHBACK_ENDPOINT_DENY"
    )
    assert policy(deny="127.0.0.0/8").check_host("localhost") is None  # judged once resolved
    assert policy(deny="127.0.0.0/8").check_address("127.0.0.1", host="localhost") == (
        "endpoint refused: localhost resolves to 127.0.0.1, which matches 127.0.0.0/8 in "
        "FLASHBACK_ENDPOINT_DENY"
    )


# ---------------------------------------------------------------------------------------------
# Parsing the environment
# ---------------------------------------------------------------------------------------------


def test_entries_are_comma_separated_with_spaces_and_blanks_ignored() -> None:
    rules = policy(allow=" 169.254.1.0/24 ,, [fe80::1] , 169.254.2.3/16,")

    assert rules.check_address("169.254.1.1") is None
    assert rules.check_address("fe80::1") is None
    assert rules.check_address("fe80::2") is not None
    assert rules.check_address("169.254.200.1") is None  # host bits ignored: 169.254.0.0/16


@pytest.mark.parametrize(
    "entry", ["http://evil.test", "*", "*.", "10.1.2", "evil.test:8080", "a b", "10.0.0.0/33",
              "-bad.test", "a..test"],
)
def test_an_entry_that_is_neither_a_cidr_nor_a_name_is_an_error(entry: str) -> None:
    with pytest.raises(PolicyError, match=r"^FLASHBACK_ENDPOINT_DENY: .* is neither a CIDR"):
        policy(deny=f"10.0.0.0/8,{entry}")


def test_the_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHBACK_ENDPOINT_DENY", "127.0.0.0/8")
    monkeypatch.delenv("FLASHBACK_ENDPOINT_ALLOW", raising=False)

    assert EndpointPolicy.from_env().check_address("127.0.0.1") is not None


# ---------------------------------------------------------------------------------------------
# The create/update check
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data", f"169.254.169.254 is {METADATA}"),
        ("http://[::ffff:169.254.169.254]:80/v1",
         f"::ffff:169.254.169.254 (IPv4 169.254.169.254) is {METADATA}"),
        ("http://0.0.0.0:8080/v1", f"0.0.0.0 is the unspecified address {HINT}"),
        ("https://[fd00:ec2::254]/v1", f"fd00:ec2::254 is a cloud metadata address {HINT}"),
    ],
)
async def test_an_address_in_the_url_is_refused_without_resolving(url: str, reason: str) -> None:
    rules = policy()

    assert await refused_endpoint_reason(url, rules) == f"endpoint refused: {reason}"
    assert rules.resolver.calls == []  # type: ignore[attr-defined]


async def test_a_name_resolving_to_a_refused_address_is_refused() -> None:
    rules = policy(**{"evil.test": ["203.0.113.5", "169.254.169.254"]})

    assert await refused_endpoint_reason("https://evil.test/v1", rules) == (
        f"endpoint refused: evil.test resolves to 169.254.169.254, {METADATA}"
    )


async def test_a_denied_name_is_refused_without_resolving() -> None:
    rules = policy(deny="*.evil.test", **{"api.evil.test": ["203.0.113.5"]})

    assert await rules.check_endpoint("https://api.evil.test/v1") is not None
    assert rules.resolver.calls == []  # type: ignore[attr-defined]


async def test_on_prem_and_loopback_endpoints_are_allowed() -> None:
    rules = policy(**{"llm.corp.test": ["10.20.30.40"], "localhost": ["127.0.0.1", "::1"]})

    for url in ("http://127.0.0.1:11434/v1", "http://[::1]:8000/v1", "http://localhost:1/v1",
                "https://llm.corp.test/v1", "http://192.168.1.5/v1", "http://172.20.0.2/v1"):
        assert await refused_endpoint_reason(url, rules) is None, url


async def test_a_denied_loopback_endpoint_is_refused_at_create_time() -> None:
    rules = policy(deny="127.0.0.0/8", localhost=["127.0.0.1"])

    assert await refused_endpoint_reason("http://localhost:1234/v1", rules) == (
        "endpoint refused: localhost resolves to 127.0.0.1, which matches 127.0.0.0/8 in "
        "FLASHBACK_ENDPOINT_DENY"
    )


async def test_a_name_that_does_not_resolve_is_not_refused() -> None:
    assert await refused_endpoint_reason("https://llm.inside.test/v1", policy()) is None


async def test_a_resolver_that_hangs_is_not_waited_for_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(egress, "RESOLVE_TIMEOUT", 0.05)
    rules = EndpointPolicy(resolver=FakeResolver(hang=True))

    assert await refused_endpoint_reason("https://slow.test/v1", rules) is None


@pytest.mark.parametrize("url", ["http://[::1/v1", "file:///etc/passwd", "not a url", ""])
async def test_a_url_without_a_usable_host_is_left_to_other_checks(url: str) -> None:
    assert await refused_endpoint_reason(url, policy()) is None


def _numeric(host: str) -> bool:
    """True when the system parses ``host`` as an address by itself (no DNS query)."""
    try:
        socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        return False
    return True


@pytest.mark.parametrize(
    ("host", "address"), [("2852039166", "169.254.169.254"), ("0", "0.0.0.0")]
)
async def test_numeric_host_forms_are_judged_by_the_address_they_resolve_to(
    host: str, address: str
) -> None:
    if not _numeric(host):
        pytest.skip(f"this system would look {host!r} up in DNS")
    reason = await refused_endpoint_reason(f"http://{host}:80/v1", EndpointPolicy())

    assert reason is not None
    assert reason.startswith(f"endpoint refused: {host} resolves to {address}, ")


async def test_the_connect_time_check_raises_the_rule() -> None:
    rules = policy(**{"evil.test": ["169.254.169.254"]})

    with pytest.raises(EndpointRefused) as refused:
        await rules.allowed_addresses("evil.test", 80)
    assert refused.value.reason == (
        f"endpoint refused: evil.test resolves to 169.254.169.254, {METADATA}"
    )
    with pytest.raises(socket.gaierror):
        await rules.allowed_addresses("unknown.test", 80)
    assert await rules.allowed_addresses("127.0.0.1", 80) == ["127.0.0.1"]
