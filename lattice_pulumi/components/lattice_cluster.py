"""LatticeCluster as a Pulumi ComponentResource: Cluster API objects in, a working cluster out.

``compile_cluster`` decides every Cluster API object; each becomes its own child resource on
the management (or bootstrap) cluster, through ``parent_provider`` only. That provider is
required: like ``LatticeService`` the component never falls back on the ambient kubeconfig
(``components.providers``), and here a silent fallback would build clusters from whatever
cluster the shell points at. Order on that cluster: Namespaces first, then the credentials
Secret (``credentials_from_env``) and every other object, and the ``Cluster`` last, carrying
``pulumi.com/waitFor`` so the update blocks until the cluster is provisioned and its first
control plane node is up. On ``pulumi destroy`` the order reverses: the ``Cluster`` goes
first (Cluster API tears the machines down through its owner references), then the rest.

Then the component reads ``<cluster>-kubeconfig`` (key ``value``) from ``capi-<cluster>``,
exposes it as a secret ``kubeconfig``, its server as ``endpoint``, and builds ``provider``: a
Kubernetes provider for the new cluster with a stable ``cluster_identifier`` (a rotated
kubeconfig updates the provider instead of replacing every object it manages). Through that
provider it installs the Lattice CRDs and the Lattice-owned manifests of the cluster
(``build_cluster_manifests``). The component satisfies ``ClusterTarget``, so
``LatticeService(..., cluster=the_cluster)`` deploys into the new cluster with its facts.
MachineDeployments of autoscaled pools ignore ``spec.replicas`` on update, so re-applying
never fights the cluster-autoscaler.

Pivot: with ``pivot_from`` (the parent's kubeconfig, kept secret) the component registers a
``Pivot`` dynamic resource (``components.pivot``, ``lattice_pulumi.pivot`` does the work)
after the ``Cluster`` and the in-cluster manifests: it moves the Cluster API objects into
the new cluster, which then manages itself (it needs the Cluster API providers installed).
``pulumi destroy`` deletes the ``Pivot`` first, which moves the objects back to the parent,
so the objects registered here are where their state expects them when they are deleted.
Do not ``pulumi refresh`` those objects while pivoted: the parent no longer holds them.

This module deliberately does not use ``from __future__ import annotations``: the
component provider host infers the schema from the class annotations at run time.
"""

import base64
import copy
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lattice_pulumi.compile.cluster import (
    ClusterCompileContext,
    build_cluster_manifests,
    build_credentials_secret,
    compile_cluster,
)
from lattice_pulumi.compile.cluster.addons import LATTICE_NAMESPACE
from lattice_pulumi.compile.cluster.autoscaler import autoscaled_pools
from lattice_pulumi.compile.cluster.objects import capi_namespace, pool_name
from lattice_pulumi.compile.context import ClusterInfo
from lattice_pulumi.components import providers, resources
from lattice_pulumi.components.pivot import Pivot
from lattice_pulumi.components.specs import DocumentInput, resolve_model
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.cluster import LatticeCluster as ClusterSpec
from lattice_pulumi.spec.crds import build_crds
from lattice_pulumi.spec.providers import CloudProvider

__all__ = ["PROVISIONED", "PROVISION_TIMEOUT", "TYPE_TOKEN", "WAIT_FOR", "LatticeCluster"]

TYPE_TOKEN = "lattice:index:LatticeCluster"
WAIT_FOR = "pulumi.com/waitFor"
PROVISIONED = (
    "jsonpath={.status.phase}=Provisioned",
    "jsonpath={.status.initialization.controlPlaneInitialized}=true",
)
"""What the ``Cluster`` waits for (all of them): infrastructure and endpoint ready, and the
first control plane node initialised, so its kubeconfig Secret exists and the API answers.
The v1beta2 ``status.initialization`` field, not the ``ControlPlaneInitialized`` condition:
the real core controller leaves that condition's ``observedGeneration`` at the generation it
became true, and the Cluster's generation moves on (the controller copies the control plane
endpoint into its spec), so a condition wait, which wants a current observedGeneration,
would never end."""
PROVISION_TIMEOUT = "60m"
_AUTOSCALED_IGNORES = ["spec.replicas"]


class LatticeCluster(pulumi.ComponentResource):
    """A Lattice cluster: its Cluster API objects, a provider for it, and the Lattice CRDs."""

    cluster_name: pulumi.Output[str]
    """The name of the cluster (its Cluster API ``Cluster``)."""
    capi_namespace: pulumi.Output[str]
    """The namespace of its Cluster API objects on the parent: ``capi-<cluster>``."""
    endpoint: pulumi.Output[str]
    """The API server URL of the new cluster (from its kubeconfig)."""
    kubeconfig: pulumi.Output[str]
    """The admin kubeconfig of the new cluster (secret)."""
    object_names: pulumi.Output[list[str]]
    """Every Cluster API object as ``Kind/namespace/name``, in compile order."""

    def __init__(
        self,
        name: str,
        spec: DocumentInput,
        opts: pulumi.ResourceOptions | None = None,
        *,
        cloud_provider: DocumentInput | None = None,
        parent_provider: pulumi.ProviderResource | None = None,
        context: ClusterCompileContext | None = None,
        credentials_from_env: bool = False,
        pivot_from: pulumi.Input[str] | None = None,
    ) -> None:
        """``cloud_provider`` may be left out when ``spec`` is a YAML source holding it too."""
        model = resolve_model(name, spec, ClusterSpec)
        cloud = _cloud_provider(model, spec, cloud_provider)
        capi = compile_cluster(model, cloud, context or ClusterCompileContext())
        in_cluster = [*build_crds(), *build_cluster_manifests(model)]
        credentials = build_credentials_secret(cloud, os.environ) if credentials_from_env else None
        management = _require_provider(name, parent_provider)
        super().__init__(TYPE_TOKEN, name, None, opts)

        self.model = model
        self.cloud_provider = cloud
        self.manifests = [_with_wait(obj) if obj["kind"] == "Cluster" else obj for obj in capi]
        self.in_cluster_manifests = in_cluster
        self._info = ClusterInfo.from_cluster(model)
        namespace = capi_namespace(model)

        on_parent = pulumi.ResourceOptions(parent=self, provider=management)
        self.credentials_secret = (
            _register_credentials(name, credentials, namespace, on_parent)
            if credentials is not None
            else None
        )
        self.resources = self._register_capi(name, namespace, on_parent)
        self.cluster_resource = next(
            r for r, o in zip(self.resources, self.manifests, strict=True) if o["kind"] == "Cluster"
        )

        self.kubeconfig = _read_kubeconfig(
            name, model.name, namespace, self.cluster_resource, on_parent
        )
        self.endpoint = pulumi.Output.unsecret(self.kubeconfig.apply(_server_of))
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=self.kubeconfig,
            cluster_identifier=f"lattice-cluster-{model.name}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.cluster_resources = _register_all(name, in_cluster, LATTICE_NAMESPACE, on_cluster)
        self.pivot = (
            None
            if pivot_from is None
            else Pivot(
                f"{name}-pivot",
                source_kubeconfig=pivot_from,
                target_kubeconfig=self.kubeconfig,
                cluster=model.name,
                namespace=namespace,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[self.cluster_resource, *self.cluster_resources]
                ),
            )
        )

        self.cluster_name = self._after(model.name)
        self.capi_namespace = self._after(namespace)
        self.object_names = self._after([_identity(o) for o in self.manifests])
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "capiNamespace": self.capi_namespace,
                "endpoint": self.endpoint,
                "kubeconfig": self.kubeconfig,
                "objectNames": self.object_names,
            }
        )

    @property
    def cluster_info(self) -> ClusterInfo:
        """The compile facts of the new cluster (``ClusterTarget``)."""
        return self._info

    @property
    def kubernetes_provider(self) -> pulumi.ProviderResource:
        """The provider reaching the new cluster (``ClusterTarget``)."""
        return self.provider

    def _after(self, value: Any) -> pulumi.Output[Any]:
        """``value`` as an Output that depends on this component (so on every child)."""
        return self.urn.apply(lambda _: value)

    def _register_capi(
        self, name: str, namespace: str, on_parent: pulumi.ResourceOptions
    ) -> list[pulumi.CustomResource]:
        """Every Cluster API object, the ``Cluster`` last (after all the others)."""
        autoscaled = {pool_name(self.model, pool) for pool, _ in autoscaled_pools(self.model)}
        first = [] if self.credentials_secret is None else [self.credentials_secret]
        others = [o for o in self.manifests if o["kind"] != "Cluster"]
        registered = dict(
            zip(
                map(id, others),
                _register_all(name, others, namespace, on_parent, first, autoscaled),
                strict=True,
            )
        )
        for obj in self.manifests:
            if obj["kind"] == "Cluster":
                opts = pulumi.ResourceOptions.merge(
                    on_parent,
                    pulumi.ResourceOptions(
                        depends_on=[*first, *registered.values()],
                        custom_timeouts=pulumi.CustomTimeouts(
                            create=PROVISION_TIMEOUT,
                            update=PROVISION_TIMEOUT,
                            delete=PROVISION_TIMEOUT,
                        ),
                    ),
                )
                child = resources.logical_name(name, obj, namespace)
                registered[id(obj)] = resources.register_object(child, obj, opts)
        return [registered[id(obj)] for obj in self.manifests]


def _register_all(
    name: str,
    objects: Sequence[dict[str, Any]],
    namespace: str,
    opts: pulumi.ResourceOptions,
    depends_on: Sequence[pulumi.Resource] = (),
    autoscaled: frozenset[str] | set[str] = frozenset(),
) -> list[pulumi.CustomResource]:
    """Register ``objects`` (in their order); Namespaces first, the rest depending on them."""
    made: dict[int, pulumi.CustomResource] = {}
    for obj in objects:
        if obj["kind"] == "Namespace":
            made[id(obj)] = resources.register_object(
                resources.logical_name(name, obj, namespace), obj, opts
            )
    after = [*made.values(), *depends_on]
    for obj in objects:
        if obj["kind"] == "Namespace":
            continue
        extra = pulumi.ResourceOptions(depends_on=after)
        if obj["kind"] == "MachineDeployment" and obj["metadata"]["name"] in autoscaled:
            extra.ignore_changes = list(_AUTOSCALED_IGNORES)
        child = resources.logical_name(name, obj, namespace)
        made[id(obj)] = resources.register_object(
            child, obj, pulumi.ResourceOptions.merge(opts, extra)
        )
    return [made[id(obj)] for obj in objects]


def _register_credentials(
    name: str, secret: dict[str, Any], namespace: str, opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    """The CloudProvider's credentials Secret; its values only ever as Pulumi secrets."""
    obj = {**secret, "stringData": pulumi.Output.secret(secret["stringData"])}
    secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"])
    return resources.register_object(
        resources.logical_name(name, secret, namespace),
        obj,
        pulumi.ResourceOptions.merge(opts, secret_opts),
    )


def _with_wait(cluster: dict[str, Any]) -> dict[str, Any]:
    """The ``Cluster`` with the annotation that makes Pulumi wait until it is provisioned."""
    obj = copy.deepcopy(cluster)
    obj["metadata"].setdefault("annotations", {})[WAIT_FOR] = json.dumps(list(PROVISIONED))
    return obj


def _read_kubeconfig(
    name: str,
    cluster: str,
    namespace: str,
    cluster_resource: pulumi.CustomResource,
    on_parent: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """The kubeconfig Cluster API writes, read once the ``Cluster`` is provisioned.

    The id is an Output of the ``Cluster``'s id: on a first preview it is unknown, so the
    read waits for ``pulumi up`` instead of failing on a Secret that does not exist yet.
    """
    where = f"{namespace}/{cluster}-kubeconfig"
    secret = k8s.core.v1.Secret.get(
        f"{name}-kubeconfig",
        cluster_resource.id.apply(lambda _: where),
        opts=pulumi.ResourceOptions.merge(
            on_parent, pulumi.ResourceOptions(depends_on=[cluster_resource])
        ),
    )
    return pulumi.Output.secret(secret.data.apply(lambda data: _decode(data, where)))


def _decode(data: Mapping[str, str] | None, where: str) -> str:
    """``data.value`` of the kubeconfig Secret, decoded; never empty (that means ambient)."""
    value = (data or {}).get("value", "")
    text = base64.b64decode(value).decode() if value else ""
    if not text.strip():
        raise CompileError(f"Secret {where} holds no kubeconfig in data.value")
    return text


def _server_of(kubeconfig: str) -> str:
    """The API server URL of the kubeconfig's current context (or its only cluster)."""
    try:
        config = YAML(typ="safe", pure=True).load(kubeconfig)
    except YAMLError as exc:
        raise CompileError(f"the cluster's kubeconfig is not YAML: {exc}") from exc
    if not isinstance(config, dict):
        return ""
    clusters = {c.get("name"): c.get("cluster", {}) for c in config.get("clusters") or []}
    contexts = {c.get("name"): c.get("context", {}) for c in config.get("contexts") or []}
    current = contexts.get(config.get("current-context"), {}).get("cluster")
    chosen: dict[str, Any] = clusters.get(current) or next(iter(clusters.values()), {})
    return str(chosen.get("server", ""))


def _require_provider(
    name: str, provider: pulumi.ProviderResource | None
) -> pulumi.ProviderResource:
    if isinstance(provider, pulumi.ProviderResource) and provider.package == providers.KUBERNETES:
        return provider
    raise providers.ProviderRequired(
        f"LatticeCluster '{name}': parent_provider must be a Kubernetes provider reaching the "
        "management (or bootstrap) cluster, such as kubernetes.Provider(..., kubeconfig=...); "
        "the ambient kubeconfig is never used to create clusters"
    )


def _cloud_provider(
    cluster: ClusterSpec, spec: DocumentInput, cloud: DocumentInput | None
) -> CloudProvider:
    """The CloudProvider given, or the one ``spec.providerRef`` names in the spec's YAML."""
    ref = cluster.spec.provider_ref
    if cloud is not None:
        return resolve_model(ref, cloud, CloudProvider, namespace=LATTICE_NAMESPACE)
    if isinstance(spec, (str, os.PathLike)):
        result = loader.load_documents(spec)
        result.raise_for_errors()
        found = [r for r in result.resources if isinstance(r, CloudProvider) and r.name == ref]
        if len(found) == 1:
            return found[0]
    raise CompileError(
        f"no CloudProvider '{ref}': pass cloud_provider=, or put it next to the cluster in its "
        "YAML",
        subject=f"cluster {cluster.name}",
    )


def _identity(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{obj['kind']}/{meta.get('namespace', '')}/{meta['name']}"
