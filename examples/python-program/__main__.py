"""Lattice services composed in Python: a shop with an api, a frontend and N workers.

Shows what YAML alone cannot: a function builds specs, a loop creates workers, the image tag
comes from stack config, and the frontend gets the api's ``url`` Output as an environment
variable (Pulumi orders the deployment accordingly). The api's token is a secret from stack
config: it lands in a Kubernetes Secret and stays encrypted in the Pulumi state. Both sides of
every mesh edge are declared; ``mesh_report()`` would list any one-sided declaration. The
stack config keys are documented in Pulumi.yaml.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from lattice_pulumi.components import LatticeService, mesh_report

NAMESPACE = "shop"

config = pulumi.Config()
tag = config.get("imageTag") or "latest"
workers = config.get_int("workers") or 2
api_replicas = config.get_int("apiReplicas") or 2
api_token = config.get_secret("apiToken")
skip_await = config.get_bool("skipAwait") or False
render_to = config.get("renderTo")
kubeconfig = config.get("kubeconfig")
if render_to:
    provider = k8s.Provider("shop", render_yaml_to_directory=render_to)
elif kubeconfig:
    provider = k8s.Provider("shop", kubeconfig=kubeconfig, enable_server_side_apply=True)
else:
    raise pulumi.RunError("set lattice-python-program:renderTo or :kubeconfig")
opts = pulumi.ResourceOptions(provider=provider)


def service_spec(
    image: str,
    *,
    port: int | None = None,
    calls: tuple[str, ...] = (),
    called_by: tuple[str, ...] = (),
    variables: dict[str, Any] | None = None,
    replicas: int = 1,
) -> dict[str, Any]:
    """The ``spec`` of a service: one container, its port, both halves of its mesh edges."""
    resources = {name: {"type": "service", "direction": "outbound"} for name in calls}
    resources |= {name: {"type": "service", "direction": "inbound"} for name in called_by}
    spec: dict[str, Any] = {
        "containers": {"main": {"image": image, "variables": variables or {}}},
        "resources": resources,
        "replicas": replicas,
    }
    if port is not None:
        spec["service"] = {"ports": {"http": {"port": port}}}
    return spec


worker_names = [f"worker-{i}" for i in range(workers)]
api = LatticeService(
    "api",
    service_spec(
        f"ghcr.io/example/shop-api:{tag}",
        port=8080,
        called_by=("frontend", *worker_names),
        variables={"API_TOKEN": api_token} if api_token is not None else None,
        replicas=api_replicas,
    ),
    opts,
    namespace=NAMESPACE,
    skip_await=skip_await,
)
frontend = LatticeService(
    "frontend",
    service_spec(
        f"ghcr.io/example/shop-frontend:{tag}",
        port=80,
        calls=("api",),
        variables={"API_URL": api.url},
    ),
    opts,
    namespace=NAMESPACE,
    skip_await=skip_await,
)
for name in worker_names:
    LatticeService(
        name,
        service_spec(
            f"ghcr.io/example/shop-worker:{tag}",
            calls=("api",),
            variables={"API_URL": api.url, "QUEUE": name},
        ),
        opts,
        namespace=NAMESPACE,
        skip_await=skip_await,
    )

pulumi.export("apiUrl", api.url)
pulumi.export("frontendUrl", frontend.url)
pulumi.export("meshFindings", [str(f) for f in mesh_report().findings])
