"""CA rotation: the bundle keeps the old CA until every known cluster has renewed."""

from __future__ import annotations

from lattice_pulumi import pki


def _client_cert(ca: pki.CertificateAuthority, name: str) -> object:
    identity = pki.ClusterIdentity(name)
    return ca.sign_client_csr(pki.build_csr(pki.generate_private_key(), identity), identity)


def test_bundle_keeps_old_ca_until_every_agent_renewed() -> None:
    old = pki.CertificateAuthority.create("old", curve="P-256")
    new = pki.CertificateAuthority.create("new", curve="P-256")
    authority = pki.CellAuthority(old)
    assert authority.bundle().fingerprints() == [old.fingerprint]

    authority.start_rotation(new, ["alpha", "beta"])
    assert authority.signer is new
    assert authority.bundle().fingerprints() == [new.fingerprint, old.fingerprint]

    authority.record_certificate("alpha", _client_cert(old, "alpha"))  # type: ignore[arg-type]
    authority.record_certificate("alpha", _client_cert(new, "alpha"))  # type: ignore[arg-type]
    assert authority.pending() == ["beta"]
    assert authority.rotating

    authority.record_certificate("beta", _client_cert(new, "beta"))  # type: ignore[arg-type]
    assert not authority.rotating
    assert authority.bundle().fingerprints() == [new.fingerprint]


def test_bundle_round_trips_through_pem() -> None:
    old = pki.CertificateAuthority.create("old", curve="P-256")
    new = pki.CertificateAuthority.create("new", curve="P-256")
    authority = pki.CellAuthority(old)
    authority.start_rotation(new, ["alpha"])
    bundle = pki.TrustBundle.from_pem(authority.bundle().pem())
    assert bundle.fingerprints() == [new.fingerprint, old.fingerprint]
