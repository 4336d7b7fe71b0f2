"""The post-boot step of a child's control plane: fetch the Lattice bootstrap bundle once.

Three files reach every control-plane node through the bootstrap provider (kubeadm or RKE2):

* ``/etc/lattice/parent-ca.crt``: the parent's CA bundle (public; the node pins it);
* ``/etc/lattice/bootstrap-token`` (0600): the one-time token, *copied by the bootstrap
  provider from the Secret the context names* (``contentFrom.secret``), never inlined;
* ``/etc/lattice/bootstrap.sh`` (0700): the script below, run after the node joined.

The script is idempotent, so running on every control-plane node is safe: the first node to
finish does the work, later ones find ``lattice-system/lattice-bootstrap`` and only delete
their token file. It stores token and CA in that Secret for the agent (which enrols with
``POST /v1/enrol``), fetches ``GET <endpoint>/v1/bootstrap/<cluster>`` with the token as a
bearer credential over TLS 1.2+ pinned to the parent CA, applies the bundle server-side and
deletes the token from the node. The agent removes the ``token`` key from the Secret once
its credentials are kept (``ca.crt`` and the Secret stay, so the check above still holds
on later nodes). The token never appears in a command line (it goes
through a header file) nor in any generated manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lattice_pulumi.compile.cluster.context import ClusterCompileContext
from lattice_pulumi.spec.cluster import LatticeCluster

__all__ = [
    "BUNDLE_PATH",
    "CA_PATH",
    "SCRIPT_PATH",
    "TOKEN_PATH",
    "BootSteps",
    "build_boot_steps",
    "bundle_url",
]

BUNDLE_PATH = "/v1/bootstrap"
CA_PATH = "/etc/lattice/parent-ca.crt"
TOKEN_PATH = "/etc/lattice/bootstrap-token"
SCRIPT_PATH = "/etc/lattice/bootstrap.sh"

Flavour = Literal["kubeadm", "rke2"]
_KUBECTL: dict[Flavour, tuple[str, str]] = {
    "kubeadm": ("kubectl", "/etc/kubernetes/admin.conf"),
    "rke2": ("/var/lib/rancher/rke2/bin/kubectl", "/etc/rancher/rke2/rke2.yaml"),
}

_SCRIPT = """#!/bin/sh
# Lattice: fetch this cluster's bootstrap bundle from its parent, once per cluster.
set -eu
export KUBECONFIG={kubeconfig}
kubectl={kubectl}
if $kubectl -n lattice-system get secret lattice-bootstrap >/dev/null 2>&1; then
  rm -f {token}
  exit 0
fi
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'Authorization: Bearer %s\\n' "$(cat {token})" > "$work/header"
curl --fail --silent --show-error --tlsv1.2 --cacert {ca} \\
  --retry 20 --retry-delay 15 --retry-all-errors \\
  -H @"$work/header" -o "$work/bundle.yaml" {url}
$kubectl create namespace lattice-system --dry-run=client -o yaml | $kubectl apply -f -
$kubectl -n lattice-system create secret generic lattice-bootstrap \\
  --from-file=token={token} --from-file=ca.crt={ca}
$kubectl apply --server-side --field-manager=lattice-bootstrap -f "$work/bundle.yaml"
rm -f {token}
"""


@dataclass(frozen=True)
class BootSteps:
    """Files to write and commands to run on control-plane nodes (empty without a parent)."""

    files: tuple[dict[str, Any], ...] = ()
    commands: tuple[str, ...] = ()


def bundle_url(cluster: LatticeCluster, context: ClusterCompileContext) -> str:
    """Where the node fetches the cluster's bundle: ``<endpoint>/v1/bootstrap/<cluster>``."""
    endpoint = (context.bootstrap_endpoint or "").rstrip("/")
    return f"{endpoint}{BUNDLE_PATH}/{cluster.name}"


def build_boot_steps(
    cluster: LatticeCluster, context: ClusterCompileContext, flavour: Flavour
) -> BootSteps:
    """The three files and the one command of the bootstrap step, for kubeadm or RKE2."""
    if not context.has_parent:
        return BootSteps()
    kubectl, kubeconfig = _KUBECTL[flavour]
    script = _SCRIPT.format(
        kubeconfig=kubeconfig,
        kubectl=kubectl,
        token=TOKEN_PATH,
        ca=CA_PATH,
        url=bundle_url(cluster, context),
    )
    token_ref = {"name": context.token_secret_for(cluster.name), "key": context.token_key}
    files = (
        _file(CA_PATH, "0644", content=context.parent_ca_pem or ""),
        _file(TOKEN_PATH, "0600", content_from={"secret": token_ref}),
        _file(SCRIPT_PATH, "0700", content=script),
    )
    return BootSteps(files, (SCRIPT_PATH,))


def _file(
    path: str,
    permissions: str,
    *,
    content: str | None = None,
    content_from: dict[str, Any] | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": path, "owner": "root:root", "permissions": permissions}
    if content is not None:
        entry["content"] = content
    if content_from is not None:
        entry["contentFrom"] = content_from
    return entry
