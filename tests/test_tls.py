"""HTTPS as vendors serve it: verified against the CA bundle, directly or through a proxy tunnel."""

from __future__ import annotations

import ssl
import typing as t
from pathlib import Path

import pytest
import trustme

from imitations import CekatData, ConvoticData, ImitationServer
from imitations.tunnel import TunnelProxy
from tests.conftest import cekat_config, convotic_config
from tests.singer_run import run_messages

NO_PROXY_ENV = {"HTTP_PROXY": "", "HTTPS_PROXY": "", "NO_PROXY": "", "no_proxy": ""}


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https(
    authority: trustme.CA, serve: t.Callable[..., ImitationServer]
) -> t.Callable[..., ImitationServer]:
    """Start an imitation speaking HTTPS with a certificate for 127.0.0.1 the CA signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return lambda **kwargs: serve(tls=context, **kwargs)


@pytest.fixture
def ca_bundle(authority: trustme.CA, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return {"REQUESTS_CA_BUNDLE": str(path), "CURL_CA_BUNDLE": ""}


def test_an_https_api_is_read_whole_over_tls_verified_by_the_ca_bundle(https, ca_bundle):
    cekat, convotic = CekatData(n_messages=450, seed=71), ConvoticData(n_conversations=3, seed=71)
    server = https(cekat=cekat, convotic=convotic)
    assert server.base_url.startswith("https://")
    config = {**cekat_config(server), **convotic_config(server, convotic.conversation_ids())}
    run = run_messages(config, env={**NO_PROXY_ENV, **ca_bundle})
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r["id"] for r in run.records("cekat_messages")} == cekat.ids()
    assert {(r["conversationId"], r["id"]) for r in run.records("convotic_messages")} == (
        convotic.keys()
    )


def test_a_certificate_the_ca_bundle_does_not_trust_stops_the_run_with_the_reason(https):
    server = https(cekat=CekatData(n_messages=50, seed=72))
    untrusted = {**NO_PROXY_ENV, "REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""}
    run = run_messages({**cekat_config(server), "max_retries": 1}, env=untrusted)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert "Cekat /api/messages: gave up after 2 attempts" in last
    assert "SSLError" in last
    assert "CERTIFICATE_VERIFY_FAILED" in last
    assert "Traceback" not in run.stderr
    assert not run.records("cekat_messages")


def test_https_goes_through_the_proxy_tunnel_with_its_credentials_kept_secret(https, ca_bundle):
    cekat = CekatData(n_messages=450, seed=73)
    server = https(cekat=cekat)
    with TunnelProxy("tapuser", "proxy-s3cret") as proxy:
        env = {**NO_PROXY_ENV, **ca_bundle, "HTTPS_PROXY": proxy.url}
        run = run_messages(cekat_config(server), env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r["id"] for r in run.records("cekat_messages")} == cekat.ids()
    target = server.base_url.removeprefix("https://")
    assert proxy.seen
    assert all(seen == ("CONNECT", target, proxy.expected_auth) for seen in proxy.seen)
    assert len(server.requests) > len(proxy.seen)  # requests share a tunnel, kept alive
    assert "proxy-s3cret" not in run.stdout + run.stderr
