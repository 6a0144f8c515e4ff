"""``hub.public_http_client``: URLs from hub.yaml reach only public addresses (after DNS),
the connection goes to the address that was checked, and redirects are not followed."""

from __future__ import annotations

import httpx
import pytest

import hub
from hub.testing import FakeProviderServer, ScriptedResponse


@pytest.fixture
def fake():
    with FakeProviderServer() as server:
        yield server


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.1.1",  # multicast
        "240.0.0.1",  # reserved
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
    ],
)
def test_private_and_special_addresses_are_not_public(address):
    assert not hub.is_public_address(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_public(address):
    assert hub.is_public_address(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.7/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://127.0.0.1:{port}/hook",
        "http://localhost:{port}/hook",  # a name that resolves to loopback
    ],
)
async def test_a_private_target_is_refused_before_any_request(fake, url):
    async with hub.public_http_client() as client:
        with pytest.raises(hub.PrivateAddressError) as caught:
            await client.post(url.format(port=fake.port), json={})
    assert "not a public address" in str(caught.value)
    assert fake.requests == []


async def test_a_name_with_any_private_answer_is_refused(fake):
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "127.0.0.1"]  # the connect might pick either

    async with hub.public_http_client(resolver=resolve) as client:
        with pytest.raises(hub.PrivateAddressError, match=r"127\.0\.0\.1"):
            await client.post(f"http://hooks.example.com:{fake.port}/x", json={})
    assert fake.requests == []


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(fake):
    asked = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    # `rebind.invalid` has no DNS: the request can only arrive if the transport connected to
    # the address it resolved (once), rather than handing the name to the socket again.
    async with hub.public_http_client(allow_private=True, resolver=resolve) as client:
        response = await client.post(f"http://rebind.invalid:{fake.port}/x?a=1", json={"k": 1})
    assert response.status_code == 200
    assert asked == ["rebind.invalid"]
    (request,) = fake.requests
    assert request.headers["host"] == f"rebind.invalid:{fake.port}"
    assert (request.path, request.query, request.json) == ("/x", {"a": "1"}, {"k": 1})


async def test_redirects_are_not_followed(fake):
    fake.script(ScriptedResponse(status=302, headers={"Location": "http://169.254.169.254/"}))
    async with hub.public_http_client(allow_private=True) as client:
        response = await client.post(f"{fake.url}/x", json={})
    assert response.status_code == 302
    assert len(fake.requests) == 1


async def test_an_unknown_name_is_a_connect_error_not_a_refusal():
    async def resolve(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    async with hub.public_http_client(resolver=resolve) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get("https://nowhere.invalid/")
    assert not isinstance(caught.value, hub.PrivateAddressError)


@pytest.mark.parametrize(
    ("url", "allow_private", "problem"),
    [
        ("https://hooks.example.com/x", False, None),
        ("http://10.0.0.1/x", True, None),
        ("ftp://hooks.example.com/x", False, "http:// or https://"),
        ("hooks.example.com/x", False, "http:// or https://"),
        ("http://10.0.0.1/x", False, "not a public address"),
        ("http://localhost:8000/x", False, "not a public address"),
        ("http://[::1]/x", False, "not a public address"),
    ],
)
def test_url_problem(url, allow_private, problem):
    found = hub.url_problem(url, allow_private=allow_private)
    assert (found is None) if problem is None else (problem in (found or "")), found
