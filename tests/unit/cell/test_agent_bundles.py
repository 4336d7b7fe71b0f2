"""What a cell puts in children's bootstrap bundles, and checking a token without burning it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from lattice_pulumi import pki
from lattice_pulumi.cell import AgentBundles, CellConfig, CellError, TokenFile
from lattice_pulumi.cell.bundles import BUNDLE_PATH, dump_bundle, token_cluster
from lattice_pulumi.compile.agent import AGENT_IMAGE, AgentParent, compile_agent_bundle
from lattice_pulumi.compile.cluster import bootstrap

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_listening_addresses_are_advertised_by_default() -> None:
    parent = CellConfig(name="root", agent_heartbeat_interval=5).agent_parent(
        grpc_endpoint="10.0.0.5:50051",
        enrol_url="https://10.0.0.5:8443/v1/enrol",
        ca_bundle_pem=CA,
    )
    assert parent == AgentParent(
        endpoint="10.0.0.5:50051",
        enrol_url="https://10.0.0.5:8443/v1/enrol",
        ca_pem=CA,
        image=AGENT_IMAGE,
        heartbeat_interval=5,
    )


def test_advertised_addresses_win() -> None:
    config = CellConfig(
        name="root",
        host="0.0.0.0",
        advertise_endpoint="cell.example.com:443",
        advertise_enrol_url="https://enrol.example.com/v1/enrol",
        agent_image="registry.local/lattice-agent:dev",
        agent_tls_server_name="cell.internal",
    )
    parent = config.agent_parent(
        grpc_endpoint="0.0.0.0:50051", enrol_url="https://0.0.0.0:8443/v1/enrol", ca_bundle_pem=CA
    )
    assert parent.endpoint == "cell.example.com:443"
    assert parent.enrol_url == "https://enrol.example.com/v1/enrol"
    assert parent.image == "registry.local/lattice-agent:dev"
    assert parent.tls_server_name == "cell.internal"


@pytest.mark.parametrize(
    ("grpc", "enrol", "setting"),
    [
        ("0.0.0.0:50051", "https://cell:8443/v1/enrol", "advertise_endpoint"),
        ("[::]:50051", "https://cell:8443/v1/enrol", "advertise_endpoint"),
        ("cell:50051", "https://0.0.0.0:8443/v1/enrol", "advertise_enrol_url"),
    ],
)
def test_wildcard_addresses_cannot_be_advertised(grpc: str, enrol: str, setting: str) -> None:
    with pytest.raises(CellError, match=setting):
        CellConfig(name="root").agent_parent(grpc_endpoint=grpc, enrol_url=enrol, ca_bundle_pem=CA)


def test_heartbeat_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="agent_heartbeat_interval"):
        CellConfig(name="root", agent_heartbeat_interval=0)


def test_bundles_use_the_live_endpoint_and_ca_bundle() -> None:
    ca = pki.CertificateAuthority.create("root", curve="P-256")
    endpoint = ["127.0.0.1:4000"]
    bundles = AgentBundles(CellConfig(name="root"), pki.CellAuthority(ca), lambda: endpoint[0])
    url = "https://127.0.0.1:8443/v1/enrol"
    assert bundles.parent(url).endpoint == "127.0.0.1:4000"
    endpoint[0] = "127.0.0.1:5000"
    assert bundles.parent(url).endpoint == "127.0.0.1:5000"
    assert bundles.parent(url).ca_pem == ca.certificate_pem().decode()


def test_rendered_bundle_is_the_compiled_objects() -> None:
    ca = pki.CertificateAuthority.create("root", curve="P-256")
    bundles = AgentBundles(CellConfig(name="root"), pki.CellAuthority(ca), lambda: "cell:50051")
    url = "https://cell:8443/v1/enrol"
    text = bundles.render("alpha", url)
    expected = compile_agent_bundle("alpha", bundles.parent(url))
    assert list(YAML(typ="safe", pure=True).load_all(text)) == expected
    config = next(o for o in expected if o["kind"] == "ConfigMap")
    assert config["data"]["ca.crt"] == ca.certificate_pem().decode()
    assert "ca.crt: |" in text  # the PEM as a readable block
    assert text == dump_bundle(expected)


def test_bundle_path_is_the_one_the_node_fetches() -> None:
    assert BUNDLE_PATH == bootstrap.BUNDLE_PATH + "/"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("store", ["memory", "file"])
def test_checking_a_token_does_not_burn_it(store: str, tmp_path: Path) -> None:
    clock = Clock()
    tokens: pki.BootstrapTokens | TokenFile = (
        pki.BootstrapTokens(clock=clock)
        if store == "memory"
        else TokenFile(tmp_path / "tokens.json", clock=clock)
    )
    issued = tokens.issue("alpha", timedelta(minutes=5))
    assert token_cluster(tokens, issued.token) == "alpha"
    assert token_cluster(tokens, issued.token) == "alpha"
    with tokens.redeeming(issued.token) as cluster:  # enrolment still works, then burns it
        assert cluster == "alpha"
    with pytest.raises(pki.TokenReplayedError):
        token_cluster(tokens, issued.token)
    with pytest.raises(pki.TokenInvalidError, match="is not known"):
        token_cluster(tokens, issued.token[:-2] + "xx")
    late = tokens.issue("beta", timedelta(minutes=5))
    clock.now += timedelta(minutes=6)
    with pytest.raises(pki.TokenInvalidError, match="expired"):
        token_cluster(tokens, late.token)
