"""``GET /v1/bootstrap/<cluster>`` over real HTTPS, and the node's post-boot script against it.

The enrolment server runs for real on 127.0.0.1 (port 0) with certificates from the
project's PKI, as in test_enrolment.py. The token is checked, never burnt, by the GET: the
agent's ``POST /v1/enrol`` burns it afterwards.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import WAIT
from ruamel.yaml import YAML

from lattice_pulumi import pki
from lattice_pulumi.agent import enrol
from lattice_pulumi.cell import AgentBundles, CellConfig, EnrolmentServer
from lattice_pulumi.compile.agent import compile_agent_bundle
from lattice_pulumi.compile.cluster import ClusterCompileContext, compile_cluster
from lattice_pulumi.compile.cluster.bootstrap import CA_PATH, SCRIPT_PATH, TOKEN_PATH
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.cluster import LatticeCluster
from lattice_pulumi.spec.providers import CloudProvider

ROOT = Path(__file__).resolve().parents[3]
GRPC_ENDPOINT = "127.0.0.1:50051"  # what the bundle advertises; no gRPC server is needed here


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(clock: Clock) -> pki.BootstrapTokens:
    return pki.BootstrapTokens(clock=clock)


@pytest.fixture
def bundles(ca: pki.CertificateAuthority) -> AgentBundles:
    return AgentBundles(CellConfig(name="parent"), pki.CellAuthority(ca), lambda: GRPC_ENDPOINT)


@pytest.fixture
def server(
    ca: pki.CertificateAuthority,
    server_certificate: pki.IssuedCertificate,
    tokens: pki.BootstrapTokens,
    bundles: AgentBundles,
) -> Iterator[EnrolmentServer]:
    authority = pki.CellAuthority(ca)
    with EnrolmentServer(authority, tokens, server_certificate, bundles=bundles) as running:
        yield running


@dataclass
class Answer:
    status: int
    content_type: str
    body: str

    def error(self) -> str:
        return str(json.loads(self.body)["error"])


def bundle_url(server: EnrolmentServer, cluster: str) -> str:
    return f"https://127.0.0.1:{server.port}/v1/bootstrap/{cluster}"


def fetch(url: str, ca: pki.CertificateAuthority, token: str | None) -> Answer:
    context = ssl.create_default_context(cadata=ca.certificate_pem().decode())
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=WAIT) as response:
            return Answer(
                response.status, response.headers["Content-Type"], response.read().decode()
            )
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, exc.headers["Content-Type"], exc.read().decode())


def load_yaml(text: str) -> list[Any]:
    return list(YAML(typ="safe", pure=True).load_all(text))


def test_bundle_is_served_to_the_tokens_cluster_without_burning_it(
    server: EnrolmentServer,
    tokens: pki.BootstrapTokens,
    bundles: AgentBundles,
    ca: pki.CertificateAuthority,
) -> None:
    issued = tokens.issue("alpha")
    answer = fetch(bundle_url(server, "alpha"), ca, issued.token)
    assert (answer.status, answer.content_type) == (200, "application/yaml")
    assert load_yaml(answer.body) == compile_agent_bundle("alpha", bundles.parent(server.url))
    assert issued.token not in answer.body
    config = next(o for o in load_yaml(answer.body) if o["kind"] == "ConfigMap")
    assert config["data"]["enrol-url"] == server.url
    assert config["data"]["endpoint"] == GRPC_ENDPOINT
    assert config["data"]["ca.crt"] == ca.certificate_pem().decode()
    # fetched twice (a retrying node), then the agent enrols with the same token
    assert fetch(bundle_url(server, "alpha"), ca, issued.token).status == 200
    enrol(server.url, issued.token, "alpha", ca.certificate_pem(), timeout=WAIT)
    used = fetch(bundle_url(server, "alpha"), ca, issued.token)
    assert (used.status, used.content_type) == (410, "application/json")
    assert used.error() == f"bootstrap token {issued.token_id} was already used"


@pytest.mark.parametrize(
    ("make_token", "message"),
    [
        pytest.param(lambda t: "lt1.0123456789abcdef.nope", "is not known", id="unknown"),
        pytest.param(lambda t: t.token[:-2] + "xx", "is not known", id="wrong secret"),
        pytest.param(lambda t: "", "bootstrap token is malformed", id="empty"),
        pytest.param(lambda t: None, "bootstrap token is malformed", id="no header"),
    ],
)
def test_unknown_token_answers_401(
    server: EnrolmentServer,
    tokens: pki.BootstrapTokens,
    ca: pki.CertificateAuthority,
    make_token: Any,
    message: str,
) -> None:
    answer = fetch(bundle_url(server, "alpha"), ca, make_token(tokens.issue("alpha")))
    assert answer.status == 401
    assert message in answer.error()


def test_expired_token_answers_401(
    server: EnrolmentServer, tokens: pki.BootstrapTokens, clock: Clock, ca: pki.CertificateAuthority
) -> None:
    issued = tokens.issue("alpha", ttl=timedelta(minutes=10))
    clock.now += timedelta(minutes=11)
    answer = fetch(bundle_url(server, "alpha"), ca, issued.token)
    assert answer.status == 401
    assert answer.error() == f"bootstrap token {issued.token_id} has expired"


def test_token_of_another_cluster_answers_403_and_stays_usable(
    server: EnrolmentServer, tokens: pki.BootstrapTokens, ca: pki.CertificateAuthority
) -> None:
    issued = tokens.issue("alpha")
    for cluster in ("beta", "alpha-2", "alpha?x=1"):
        answer = fetch(bundle_url(server, cluster), ca, issued.token)
        assert answer.status == 403
        assert answer.error() == (
            f"bootstrap token {issued.token_id} was issued for another cluster"
        )
    assert fetch(bundle_url(server, "alpha"), ca, issued.token).status == 200


def test_other_paths_and_cells_without_bundles_answer_404(
    server: EnrolmentServer,
    tokens: pki.BootstrapTokens,
    ca: pki.CertificateAuthority,
    server_certificate: pki.IssuedCertificate,
) -> None:
    issued = tokens.issue("alpha")
    for path in ("/v1/bootstrap/", "/v1/bootstrap/alpha/extra", "/v1/enrol", "/"):
        url = f"https://127.0.0.1:{server.port}{path}"
        assert fetch(url, ca, issued.token).status == 404, path
    plain = EnrolmentServer(pki.CellAuthority(ca), tokens, server_certificate)
    with plain:
        answer = fetch(bundle_url(plain, "alpha"), ca, issued.token)
    assert answer.status == 404
    assert answer.error() == "this cell serves no bootstrap bundles"


def test_a_cell_that_cannot_advertise_itself_answers_500(
    ca: pki.CertificateAuthority,
    server_certificate: pki.IssuedCertificate,
    tokens: pki.BootstrapTokens,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wildcard = AgentBundles(CellConfig(name="parent"), pki.CellAuthority(ca), lambda: "0.0.0.0:1")
    issued = tokens.issue("alpha")
    authority = pki.CellAuthority(ca)
    with EnrolmentServer(authority, tokens, server_certificate, bundles=wildcard) as running:
        answer = fetch(bundle_url(running, "alpha"), ca, issued.token)
    assert answer.status == 500
    assert answer.error() == "the cell cannot build this bundle; see its log"
    assert "set advertise_endpoint" in caplog.text


def test_token_secret_never_reaches_logs_or_answers(
    server: EnrolmentServer,
    tokens: pki.BootstrapTokens,
    ca: pki.CertificateAuthority,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = tokens.issue("alpha")
    answers = [
        fetch(bundle_url(server, "alpha"), ca, issued.token),
        fetch(bundle_url(server, "beta"), ca, issued.token),
    ]
    enrol(server.url, issued.token, "alpha", ca.certificate_pem(), timeout=WAIT)
    answers.append(fetch(bundle_url(server, "alpha"), ca, issued.token))
    assert [a.status for a in answers] == [200, 403, 410]
    secret = issued.token.split(".")[2]
    assert issued.token_id in caplog.text
    assert secret not in caplog.text
    assert all(secret not in a.body for a in answers)


# --- the post-boot script of compile.cluster.bootstrap, run for real -------------------------

FAKE_KUBECTL = """#!{python}
# Fake kubectl: records each call as a JSON line, with what it would read (-f, --from-file).
import json, os, sys
state = os.environ["FAKE_STATE"]
args = sys.argv[1:]
record = {{"args": args, "kubeconfig": os.environ.get("KUBECONFIG")}}
if "-f" in args:
    source = args[args.index("-f") + 1]
    record["input"] = sys.stdin.read() if source == "-" else open(source).read()
for arg in args:
    if arg.startswith("--from-file="):
        key, _, path = arg.removeprefix("--from-file=").partition("=")
        record.setdefault("files", {{}})[key] = open(path).read()
with open(os.path.join(state, "kubectl.jsonl"), "a") as log:
    log.write(json.dumps(record) + "\\n")
secret = os.path.join(state, "secret-exists")
if args[:4] == ["-n", "lattice-system", "get", "secret"]:
    sys.exit(0 if os.path.exists(secret) else 1)
if args[2:5] == ["create", "secret", "generic"]:
    open(secret, "w").close()
if "--dry-run=client" in args:
    print("apiVersion: v1\\nkind: Namespace\\nmetadata:\\n  name: lattice-system")
"""

# Records curl's arguments and runs the real curl; FAKE_NO_RETRY drops the script's retry
# options so that a failure ends at once instead of after 20 x 15 s.
CURL_WRAPPER = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.path.join(os.environ["FAKE_STATE"], "curl.jsonl"), "a") as log:
    log.write(json.dumps(args) + "\\n")
if os.environ.get("FAKE_NO_RETRY"):
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--retry", "--retry-delay"):
            skip = True
        elif arg != "--retry-all-errors":
            kept.append(arg)
    args = kept
os.execv({curl!r}, [{curl!r}, *args])
"""


def _docker_cluster() -> tuple[LatticeCluster, CloudProvider]:
    result = loader.load_documents(ROOT / "examples" / "clusters" / "docker-dev.yaml")
    result.raise_for_errors()
    cluster, cloud = result.resources
    assert isinstance(cluster, LatticeCluster) and isinstance(cloud, CloudProvider)
    return cluster, cloud


def _boot_files(endpoint: str, ca_pem: str) -> dict[str, dict[str, Any]]:
    """The bootstrap files compile_cluster puts on the docker example's control plane."""
    cluster, cloud = _docker_cluster()
    context = ClusterCompileContext(bootstrap_endpoint=endpoint, parent_ca_pem=ca_pem)
    objects = compile_cluster(cluster, cloud, context)
    plane = next(o for o in objects if o["kind"] == "KubeadmControlPlane")
    spec = plane["spec"]["kubeadmConfigSpec"]
    assert SCRIPT_PATH in spec["postKubeadmCommands"]
    return {f["path"]: f for f in spec["files"]}


@dataclass
class Node:
    """A scratch 'node': the script with its /etc/lattice paths moved under tmp_path."""

    script: Path
    token: Path
    ca: Path
    state: Path
    env: dict[str, str]

    def run(self, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/sh", str(self.script)],
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=3 * WAIT,
            check=False,
        )

    def calls(self, tool: str) -> list[Any]:
        path = self.state / f"{tool}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def node(tmp_path: Path, server: EnrolmentServer, ca: pki.CertificateAuthority) -> Node:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed: the post-boot script fetches its bundle with curl")
    ca_pem = ca.certificate_pem().decode()
    files = _boot_files(f"https://127.0.0.1:{server.port}", ca_pem)
    assert files[CA_PATH]["content"] == ca_pem
    assert "content" not in files[TOKEN_PATH]  # only a Secret reference in the object
    script = files[SCRIPT_PATH]["content"]
    etc, state, bin_dir = tmp_path / "etc", tmp_path / "state", tmp_path / "bin"
    for directory in (etc, state, bin_dir):
        directory.mkdir()
    token, ca_file = etc / "bootstrap-token", etc / "parent-ca.crt"
    assert script.count(TOKEN_PATH) >= 2 and script.count(CA_PATH) >= 2
    script = script.replace(TOKEN_PATH, str(token)).replace(CA_PATH, str(ca_file))
    assert "/etc/lattice" not in script
    (etc / "bootstrap.sh").write_text(script)
    ca_file.write_text(ca_pem)
    kubectl, wrapper = bin_dir / "kubectl", bin_dir / "curl"
    kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable))
    wrapper.write_text(CURL_WRAPPER.format(python=sys.executable, curl=curl))
    kubectl.chmod(0o755)
    wrapper.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "FAKE_STATE": str(state),
        "TMPDIR": str(tmp_path),
        "HOME": str(tmp_path),  # a real kubectl keeps its cache in ~/.kube
    }
    return Node(etc / "bootstrap.sh", token, ca_file, state, env)


def test_post_boot_script_fetches_pinned_and_applies_the_bundle(
    node: Node,
    server: EnrolmentServer,
    tokens: pki.BootstrapTokens,
    bundles: AgentBundles,
    ca: pki.CertificateAuthority,
) -> None:
    """The script compile_cluster emits, run by /bin/sh against the loopback cell.

    kubectl is replaced by a fake on PATH that records its arguments: a real one needs an
    API server (this machine happens to have a kubectl binary, but no cluster here). curl
    is the real one, behind a wrapper that records its arguments.
    """
    issued = tokens.issue("dev")
    node.token.write_text(issued.token + "\n")
    node.token.chmod(0o600)

    done = node.run()

    assert done.returncode == 0, done.stderr
    assert not node.token.exists()  # the node forgets the token
    [curl_args] = node.calls("curl")
    assert curl_args[curl_args.index("--cacert") + 1] == str(node.ca)  # pinned parent CA
    assert "--tlsv1.2" in curl_args
    header = curl_args[curl_args.index("-H") + 1]
    assert header.startswith("@")  # Authorization header read from a private file
    assert curl_args[-1] == bundle_url(server, "dev")
    kubectl = node.calls("kubectl")
    assert all(call["kubeconfig"] == "/etc/kubernetes/admin.conf" for call in kubectl)
    assert [call["args"][:3] for call in kubectl] == [
        ["-n", "lattice-system", "get"],
        ["create", "namespace", "lattice-system"],
        ["apply", "-f", "-"],
        ["-n", "lattice-system", "create"],
        ["apply", "--server-side", "--field-manager=lattice-bootstrap"],
    ]
    secret = kubectl[3]
    assert secret["args"][3:6] == ["secret", "generic", "lattice-bootstrap"]
    assert secret["files"] == {"token": issued.token + "\n", "ca.crt": node.ca.read_text()}
    applied = kubectl[4]
    assert load_yaml(applied["input"]) == compile_agent_bundle("dev", bundles.parent(server.url))
    for call in [*kubectl, {"args": curl_args}]:
        assert all(issued.token not in arg for arg in call["args"])
    assert issued.token not in done.stdout + done.stderr
    # not burnt by the fetch: the agent enrols with the token the Secret now holds
    credentials = enrol(server.url, issued.token, "dev", ca.certificate_pem(), timeout=WAIT)
    assert pki.identity_from_certificate(credentials.certificate).name == "dev"

    # run again (another control-plane node): the Secret exists, so it only drops its token
    node.token.write_text(issued.token + "\n")
    again = node.run()
    assert again.returncode == 0, again.stderr
    assert not node.token.exists()
    assert len(node.calls("kubectl")) == len(kubectl) + 1
    assert len(node.calls("curl")) == 1


def test_post_boot_script_refuses_a_cell_outside_the_pinned_ca(
    node: Node, tokens: pki.BootstrapTokens
) -> None:
    other = pki.CertificateAuthority.create("impostor", curve="P-256")
    node.ca.write_bytes(other.certificate_pem())
    issued = tokens.issue("dev")
    node.token.write_text(issued.token + "\n")

    done = node.run(FAKE_NO_RETRY="1")

    assert done.returncode != 0
    assert "SSL certificate problem" in done.stderr or "certificate" in done.stderr
    assert node.token.exists()  # kept for the next attempt
    assert [call["args"][:3] for call in node.calls("kubectl")] == [["-n", "lattice-system", "get"]]
    with tokens.redeeming(issued.token) as cluster:  # never reached the server: unused
        assert cluster == "dev"


REAL_KUBECTL = """#!{python}
import json, os, sys
with open(os.path.join(os.environ["FAKE_STATE"], "kubectl.jsonl"), "a") as log:
    log.write(json.dumps({{"args": sys.argv[1:]}}) + "\\n")
os.execv({kubectl!r}, [{kubectl!r}, *sys.argv[1:]])
"""


@pytest.mark.integration
def test_post_boot_script_applies_the_bundle_to_a_real_api_server(
    node: Node,
    tokens: pki.BootstrapTokens,
    request: pytest.FixtureRequest,
) -> None:
    """The same script with the real kubectl against a real kube-apiserver (with Pod
    Security admission and the controller-manager): the API server accepts every object
    of the bundle, and the agent's pod is admitted in the ``restricted`` namespace."""
    real = shutil.which("kubectl")
    if real is None:
        pytest.skip("kubectl is not installed: this variant runs the script with a real one")
    plane = request.getfixturevalue("control_plane")  # skips when the tools are not built
    kube = plane.client
    script = node.script.read_text()
    assert script.count("/etc/kubernetes/admin.conf") == 1
    node.script.write_text(script.replace("/etc/kubernetes/admin.conf", str(plane.kubeconfig_path)))
    (node.script.parent.parent / "bin" / "kubectl").write_text(
        REAL_KUBECTL.format(python=sys.executable, kubectl=real)
    )
    issued = tokens.issue("dev")
    node.token.write_text(issued.token)
    try:
        done = node.run()
        assert done.returncode == 0, done.stderr
        secret = kube.get("v1", "Secret", "lattice-bootstrap", "lattice-system")
        assert set(secret["data"]) == {"token", "ca.crt"}
        deployment = kube.get("apps/v1", "Deployment", "lattice-agent", "lattice-system")
        assert deployment["metadata"]["labels"]["lattice.dev/cluster"] == "dev"
        pods = kube.wait_for(
            lambda: kube.list(
                "v1", "Pod", "lattice-system", "app.kubernetes.io/name=lattice-agent"
            ),
            timeout=3 * WAIT,
            what="the agent pod (admitted under Pod Security 'restricted')",
        )
        assert pods[0]["spec"]["securityContext"]["runAsUser"] == 65532
    finally:
        kube.delete("v1", "Namespace", "lattice-system")
        kube.delete("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "lattice-agent")
        kube.delete("rbac.authorization.k8s.io/v1", "ClusterRole", "lattice-agent")
        # gone before the next test: one that applies lattice-system while it is still
        # terminating would see it vanish under its objects (test_distribution did)
        kube.wait_gone("v1", "Namespace", "lattice-system", timeout=120)
