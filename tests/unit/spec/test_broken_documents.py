"""A corpus of broken documents: each must yield exactly the expected path and message."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.errors import format_path
from lattice_pulumi.spec.loader import load_text
from tests.builders import DELETE, changed, service, to_yaml

SECRET = {"type": "secret", "id": "shop/db", "params": {"provider": "vault", "keys": ["password"]}}
VOLUME = {"type": "volume", "params": {"size": "1Gi"}}
MAIN = "spec.containers.main"


def case(doc: dict[str, Any] | str, path: str, message: str, id: str) -> Any:
    return pytest.param(doc, path, message, id=id)


BROKEN = [
    # -- envelope
    case("- a\n- b\n", "", "expected a mapping with apiVersion and kind", "document is a list"),
    case(changed(service(), "kind", "Gadget"), "kind",
         "unknown kind 'Gadget': expected one of CedarPolicy, CloudProvider, LatticeBackupPolicy, "
         "LatticeCluster, LatticeExternalService, LatticeService, SecretProvider, "
         "or a Score file (score.dev/v1b1)", "unknown kind"),
    case(changed(service(), "kind"), "",
         "missing kind: expected one of CedarPolicy, CloudProvider, LatticeBackupPolicy, "
         "LatticeCluster, LatticeExternalService, LatticeService, SecretProvider, "
         "or a Score file (score.dev/v1b1)", "missing kind"),
    case(changed(service(), "apiVersion", "lattice.dev/v1"), "apiVersion",
         "apiVersion 'lattice.dev/v1' is not served: expected lattice.dev/v1alpha1",
         "wrong api version"),
    case(changed(service(), "metadata.name", "API"), "metadata.name",
         "'API' is not a DNS subdomain: expected dot-separated DNS labels, at most 253 characters",
         "upper-case name"),
    case(changed(service(), "metadata.namespace", "shop_1"), "metadata.namespace",
         "'shop_1' is not a DNS label: expected at most 63 lowercase letters, digits and '-', "
         "starting and ending with a letter or digit", "namespace with underscore"),
    case(changed(service(), "metadata.name"), "metadata.name", "required field is missing",
         "missing name"),
    case(changed(service(), "spec.replicaz", 2), "spec.replicaz",
         "unknown field (fields are camelCase; check the spelling)", "misspelt field"),
    # -- containers
    case(changed(service(), "spec.containers", {}), "spec.containers",
         "Dictionary should have at least 1 item after validation, not 0", "no containers"),
    case(changed(service(), f"{MAIN}.image"), f"{MAIN}.image", "required field is missing",
         "missing image"),
    case(changed(service(), f"{MAIN}.image", "nginx; rm -rf /"), f"{MAIN}.image",
         "'nginx; rm -rf /' is not an image reference: expected [registry/]name[:tag][@digest] "
         "without spaces or shell characters", "image with shell characters"),
    case(changed(service(), f"{MAIN}.image", "Nginx:latest"), f"{MAIN}.image",
         "'Nginx:latest' is not an image reference: expected [registry/]name[:tag][@digest] "
         "without spaces or shell characters", "image with upper case"),
    case(changed(service(), f"{MAIN}.variables", {"1BAD": "x"}), f"{MAIN}.variables",
         "'1BAD' is not an environment variable name: expected letters, digits and '_', not "
         "starting with a digit", "bad variable name"),
    case(changed(service(), f"{MAIN}.variables", {"DB": "${resources.db.host}"}),
         f"{MAIN}.variables.DB", "unknown resource 'db' in '${resources.db.host}'",
         "unknown resource reference"),
    case(changed(service(), f"{MAIN}.variables", {"X": "${metadata.owner}"}),
         f"{MAIN}.variables.X",
         "unknown metadata field (known: name, namespace, annotations, labels) in "
         "'${metadata.owner}'", "unknown metadata field"),
    case(changed(service(), f"{MAIN}.variables", {"X": "${cluster.zone}"}),
         f"{MAIN}.variables.X",
         "unknown cluster field (known: name, environment, region, provider, domain) in "
         "'${cluster.zone}'", "unknown cluster field"),
    case(changed(service(), f"{MAIN}.variables", {"X": "${env.HOME}"}), f"{MAIN}.variables.X",
         "unknown placeholder root (expected metadata, resources, secret or cluster) in "
         "'${env.HOME}'", "unknown placeholder root"),
    case(changed(service(), f"{MAIN}.variables", {"X": "${resources.db"}), f"{MAIN}.variables.X",
         "'${resources.db' has no closing '}'", "unterminated placeholder"),
    case(changed(service(), f"{MAIN}.variables", {"X": "${a..b}"}), f"{MAIN}.variables.X",
         "'${a..b}' has an empty part: expected ${a.b.c}", "empty placeholder part"),
    case(changed(service(resources={"db": SECRET}), f"{MAIN}.variables",
                 {"X": "${resources.db.user}"}), f"{MAIN}.variables.X",
         "secret 'db' has no key 'user' (keys: password) in '${resources.db.user}'",
         "secret key not declared"),
    case(changed(service(resources={"db": VOLUME}), f"{MAIN}.variables",
                 {"X": "${secret.db.password}"}), f"{MAIN}.variables.X",
         "resource 'db' is not a secret in '${secret.db.password}'", "secret spelling on volume"),
    case(changed(service(), f"{MAIN}.files", {"etc/app.conf": {"content": "x"}}),
         f"{MAIN}.files", "'etc/app.conf' is not an absolute path without '..'",
         "relative file target"),
    case(changed(service(), f"{MAIN}.files", {"/etc/a": {"content": "x", "source": "y"}}),
         f"{MAIN}.files./etc/a", "expected exactly one of content, binaryContent, source",
         "file with two sources"),
    case(changed(service(), f"{MAIN}.files", {"/etc/a": {"content": "x", "mode": "4755"}}),
         f"{MAIN}.files./etc/a.mode",
         "mode 4755 sets setuid, setgid or sticky bits, which are not allowed", "setuid mode"),
    case(changed(service(), f"{MAIN}.files", {"/etc/a": {"content": "x", "mode": "0666"}}),
         f"{MAIN}.files./etc/a.mode", "mode 0666 is world-writable; expected at most 0775",
         "world-writable mode"),
    case(changed(service(), f"{MAIN}.files", {"/etc/a": {"binaryContent": "!!notbase64"}}),
         f"{MAIN}.files./etc/a.binaryContent", "binaryContent is not valid base64",
         "binary content not base64"),
    case(changed(service(), f"{MAIN}.volumes", {"/data": {"source": "${resources.cache}"}}),
         f"{MAIN}.volumes./data.source",
         "'${resources.cache}' does not name a declared volume resource", "unknown volume"),
    case(changed(service(), f"{MAIN}.volumes", {"/data": {"source": "x", "medium": "Memory"}}),
         f"{MAIN}.volumes./data",
         "medium and sizeLimit apply only to emptyDir mounts (without source)",
         "medium on a volume mount"),
    case(changed(service(), f"{MAIN}.resources", {"requests": {"memory": "1GB"}}),
         f"{MAIN}.resources.requests.memory",
         "'1GB' is not a Kubernetes quantity: expected a number with an optional suffix such "
         "as 500m, 1.5, 256Mi or 10Gi", "bad quantity"),
    case(changed(service(), f"{MAIN}.readinessProbe", {"periodSeconds": 5}),
         f"{MAIN}.readinessProbe", "expected exactly one of httpGet, exec, tcpSocket, grpc",
         "probe without handler"),
    case(changed(service(), f"{MAIN}.livenessProbe", {"httpGet": {"port": 70000}}),
         f"{MAIN}.livenessProbe.httpGet.port", "expected less than or equal to 65535, got 70000",
         "probe port out of range"),
    case(changed(service(), f"{MAIN}.security", {"capabilities": ["CAP_NET_ADMIN"]}),
         f"{MAIN}.security.capabilities",
         "'CAP_NET_ADMIN' is not a capability name: expected upper case without the CAP_ "
         "prefix, such as NET_ADMIN", "capability with prefix"),
    case(changed(service(), f"{MAIN}.security", {"runAsNonRoot": True, "runAsUser": 0}),
         f"{MAIN}.security", "runAsNonRoot is true but runAsUser is 0", "root with runAsNonRoot"),
    case(changed(service(), f"{MAIN}.security", {"seccompProfile": "unconfined"}),
         f"{MAIN}.security.seccompProfile",
         "'unconfined' is not a profile: expected RuntimeDefault, Unconfined or Localhost/<name>",
         "bad seccomp profile"),
    # -- service ports
    case(changed(service(), "spec.service.ports", {"a": {"port": 80}, "b": {"port": 80}}),
         "spec.service", "ports 'a' and 'b' both use TCP port 80", "duplicate ports"),
    case(changed(service(), "spec.service.ports.http.protocol", "HTTP"),
         "spec.service.ports.http.protocol", "expected 'TCP', 'UDP' or 'SCTP', got 'HTTP'",
         "bad protocol"),
    # -- resources
    case(service(resources={"db": {"type": "service", "direction": "sideways"}}),
         "spec.resources.db.direction", "expected 'outbound', 'inbound' or 'both', got 'sideways'",
         "bad direction"),
    case(service(resources={"any": {"type": "service", "id": "*"}}), "spec.resources.any",
         "id '*' (any caller) is only meaningful with direction: inbound",
         "wildcard outbound"),
    case(service(resources={"db": {"type": "secret", "id": "x", "params": {}}}),
         "spec.resources.db.params.provider", "required field is missing",
         "secret without provider"),
    case(service(resources={"db": changed(SECRET, "id")}), "spec.resources.db",
         "a secret needs id: its path in the secret store", "secret without path"),
    case(service(resources={"db": changed(SECRET, "params.keys", ["a", "a"])}),
         "spec.resources.db.params", "keys repeats a", "secret duplicate keys"),
    case(service(resources={"db": changed(SECRET, "params.refreshInterval", "soon")}),
         "spec.resources.db.params.refreshInterval",
         "'soon' is not a duration: expected forms such as 30s, 5m, 1h30m", "bad refresh"),
    case(service(resources={"v": {"type": "volume", "id": "x",
                                  "params": {"allowedConsumers": ["a"]}}}),
         "spec.resources.v", "allowedConsumers needs params.size: only the owner grants access",
         "consumers on a reference"),
    case(service(resources={"g": {"type": "gpu", "params": {"count": 0}}}),
         "spec.resources.g.params.count", "expected greater than or equal to 1, got 0",
         "zero gpus"),
    case(service(resources={"a": {"type": "gpu"}, "b": {"type": "gpu"}}), "spec.resources.b",
         "only one gpu resource per service; 'a' is already one", "two gpu resources"),
    case(service(resources={"DB": {"type": "service"}}), "spec.resources.DB",
         "'DB' is not a DNS label: expected at most 63 lowercase letters, digits and '-', "
         "starting and ending with a letter or digit", "resource name not a DNS label"),
    # -- service options
    case(service(replicas=-1), "spec.replicas", "expected greater than or equal to 0, got -1",
         "negative replicas"),
    case(service(replicas=12, autoscaling={"max": 10}), "spec",
         "replicas (12) is greater than autoscaling.max (10)", "replicas above max"),
    case(service(autoscaling={"min": 5, "max": 2}), "spec.autoscaling",
         "min (5) is greater than max (2)", "autoscaling min above max"),
    case(service(autoscaling={"max": 4, "metrics": [{"metric": "cpu", "target": 180}]}),
         "spec.autoscaling.metrics[0]",
         "cpu target is a utilisation percentage: expected 1-100", "cpu target above 100"),
    case(service(ingress={"hosts": ["a.example.com"], "tls": {"mode": "auto"}}),
         "spec.ingress.tls", "tls mode auto needs issuerRef (the cert-manager issuer)",
         "auto tls without issuer"),
    case(service(ingress={"tls": {"mode": "manual", "secretName": "x"}}), "spec.ingress",
         "ingress needs hosts or routes", "ingress without hosts"),
    case(service(ingress={"routes": {"r": {"kind": "TCPRoute", "hosts": ["a.example.com"]}}}),
         "spec.ingress.routes.r",
         "a TCPRoute has no hosts or paths: it routes by listener port", "tcp route with hosts"),
    case(service(ingress={"hosts": ["a.example.com"], "port": "grpc"}), "spec.ingress.port",
         "'grpc' is not a service port", "ingress to unknown port"),
    case(service(deploy={"strategy": "canary", "canary": {"stepWeight": 60, "maxWeight": 50}}),
         "spec.deploy.canary", "stepWeight (60) is greater than maxWeight (50)",
         "canary step above max"),
    case(service(deploy={"strategy": "rolling", "canary": {}}), "spec.deploy",
         "canary settings given but strategy is rolling", "canary block with rolling"),
    case(service(imagePullSecrets=["regcred"]), "spec.imagePullSecrets[0]",
         "'regcred' is not a declared resource of type secret", "unknown pull secret"),
    case(service(sidecars={"main": {"image": "envoy:1.0"}}), "spec.sidecars.main",
         "'main' is already a container name", "sidecar named like container"),
    case(service(backup={"pre": [{"container": "db", "command": ["true"]}]}),
         "spec.backup.pre[0].container", "'db' is not a container of this service",
         "backup hook on unknown container"),
    # -- external services
    case({"apiVersion": "lattice.dev/v1alpha1", "kind": "LatticeExternalService",
          "metadata": {"name": "stripe"}, "spec": {"endpoints": {"api": "ftp://x"}}},
         "spec.endpoints",
         "'ftp://x' is not an endpoint URL: expected scheme://host[:port] with scheme one of "
         "amqp, amqps, grpc, http, https, mysql, postgres, postgresql, redis, tcp",
         "external endpoint bad scheme"),
    case({"apiVersion": "lattice.dev/v1alpha1", "kind": "LatticeExternalService",
          "metadata": {"name": "stripe"},
          "spec": {"endpoints": {"api": "https://api.stripe.com"},
                   "allowedRequesters": ["shop/api", "Bad Name"]}},
         "spec.allowedRequesters",
         "'Bad Name' is not a requester: expected a service name, namespace/name, or '*'",
         "external requester malformed"),
    # -- YAML itself
    case("kind: LatticeService\nmetadata: {name: a\n", "",
         "invalid YAML: expected ',' or '}', but got '<stream end>'", "yaml syntax error"),
    case("a: 1\na: 2\n", "",
         'invalid YAML: found duplicate key "a" with value "2" (original value: "1")',
         "duplicate key"),
]


@pytest.mark.parametrize(("doc", "path", "message"), BROKEN)
def test_broken_document_reports_path_and_message(doc: Any, path: str, message: str) -> None:
    text = doc if isinstance(doc, str) else to_yaml(doc)
    result = load_text(text, "broken.yaml")
    assert not result.resources
    found = [(format_path(e.path), e.message) for e in result.errors]
    assert found == [(path, message)]
    assert all(e.file == "broken.yaml" and e.line is not None for e in result.errors)


def test_corpus_is_large() -> None:
    assert len(BROKEN) >= 40


def test_every_error_of_a_document_is_reported() -> None:
    doc = changed(service(replicas=-1), f"{MAIN}.image", "bad image!")
    doc = changed(doc, "spec.service.ports.http.protocol", "HTTP")
    result = load_text(to_yaml(doc), "multi.yaml")
    assert [format_path(e.path) for e in result.errors] == [
        f"{MAIN}.image",
        "spec.service.ports.http.protocol",
        "spec.replicas",
    ]


def test_semantic_errors_are_all_reported() -> None:
    doc = changed(service(imagePullSecrets=["nope"]), f"{MAIN}.variables",
                  {"A": "${resources.x.host}", "B": "${resources.y.host}"})
    result = load_text(to_yaml(doc), "multi.yaml")
    assert [format_path(e.path) for e in result.errors] == [
        f"{MAIN}.variables.A",
        f"{MAIN}.variables.B",
        "spec.imagePullSecrets[0]",
    ]


def test_error_names_line_and_column_of_the_field() -> None:
    text = to_yaml(changed(service(), "spec.replicas", "many"))
    (error,) = load_text(text, "svc.yaml").errors
    line = text.splitlines()[error.line - 1]  # type: ignore[operator]
    assert line.strip().startswith("replicas:")
    assert str(error).startswith(f"svc.yaml:{error.line}:")
    assert DELETE is not None
