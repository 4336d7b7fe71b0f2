"""Provisioned Score resources: the objects a provisioner's templates describe, and its outputs.

A resource whose type Lattice does not know natively is provisioned by the first
``Provisioner`` of the context that matches its type, class and id (``spec.provisioners``).
An ``Instance`` is one provisioned resource: its base name (``<service>-<resource>``, or the
Score ``id`` when given, which makes it shared by every service declaring the same type,
class and id in the namespace), merged params and consumers. Pure: templates are expanded
with ``spec.placeholders``; nothing is random, so compiling twice gives the same objects.

Generated secrets never pass through: an ExternalSecret with ESO ``Password`` generators
creates the Secret ``<name>`` once inside the cluster (``refreshPolicy: CreatedOnce``); its
template also renders the secret outputs (``uri`` ...) there. Consumers read a secret output
alone through ``secretKeyRef``; text mixing it with literals goes through the consumer's own
ExternalSecret template, which reads Secret ``<name>`` via a namespaced SecretStore
(Kubernetes provider) allowed to get that one Secret.

The provisioned workload joins the bilateral mesh as a service whose callers are exactly its
consumers (``mesh_service``), and each consumer calls it (``consumer_view``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lattice_pulumi.compile import labels
from lattice_pulumi.compile.apiversions import API_VERSIONS, header
from lattice_pulumi.compile.context import CompileContext, service_key
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec import placeholders
from lattice_pulumi.spec.provisioners import Provisioner
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_resources import KNOWN_RESOURCE_TYPES, CustomResource

__all__ = [
    "GENERATOR_API_VERSION",
    "Instance",
    "SecretOutput",
    "build_objects",
    "consumer_view",
    "instances_of",
    "mesh_service",
    "mesh_specs",
    "outputs_of",
]

GENERATOR_API_VERSION = API_VERSIONS["Password"]
PROVISIONER_LABEL = "lattice.dev/provisioner"
_MAX_NAME = 52  # a StatefulSet's name leaves room for the controller-revision-hash label


@dataclass(frozen=True)
class SecretOutput:
    """A secret output: key ``key`` of Secret ``secret``, readable through SecretStore ``store``."""

    secret: str
    store: str
    key: str


@dataclass(frozen=True)
class Instance:
    """One provisioned resource as seen from the consuming service ``workload``."""

    resource: str
    provisioner: Provisioner
    name: str
    namespace: str
    params: Mapping[str, Any]
    consumers: tuple[str, ...]  # keys ns/name, sorted
    workload: str
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return service_key(self.namespace, self.name)

    @property
    def secret_name(self) -> str:
        return self.name

    @property
    def store_name(self) -> str:
        return f"{self.name}-reader"


def instances_of(service: LatticeService, context: CompileContext) -> list[Instance]:
    """Every provisioned resource of ``service``, in resource order."""
    found = []
    for resource, decl in service.spec.workload.resources.items():
        entry = _provisioner_for(decl, context)
        if entry is None or not isinstance(decl, CustomResource):
            continue
        found.append(_instance(service, resource, decl, entry, context))
    return found


def _provisioner_for(decl: Any, context: CompileContext) -> Provisioner | None:
    if decl.type in KNOWN_RESOURCE_TYPES:
        return None
    for entry in context.provisioners:
        if entry.matches(decl.type, decl.class_, decl.id):
            return entry
    return None


def _instance(
    service: LatticeService,
    resource: str,
    decl: CustomResource,
    entry: Provisioner,
    context: CompileContext,
) -> Instance:
    unknown = sorted(set(decl.params) - set(entry.params))
    if unknown:
        raise CompileError(
            f"provisioner of type {entry.type} ({entry.source}) takes no param "
            f"{', '.join(repr(u) for u in unknown)} (params: {', '.join(sorted(entry.params))})",
            path=("spec", "workload", "resources", resource, "params", unknown[0]),
        )
    path = ("spec", "workload", "resources", resource)
    own = service_key(service.namespace, service.name)
    consumers = {own}
    if decl.id is not None:
        sharers = _sharers(service.namespace, decl, context)
        differing = sorted(k for k, params in sharers.items() if params != decl.params)
        if differing:
            raise CompileError(
                f"resource id '{decl.id}' is shared with {', '.join(differing)}, which give "
                "other params: a shared resource needs the same params everywhere",
                path=(*path, "params"),
            )
        consumers |= set(sharers)
    ordered = tuple(sorted(consumers))
    name = decl.id.replace(".", "-") if decl.id else f"{service.name}-{resource}"
    if len(name) > _MAX_NAME:
        raise CompileError(
            f"provisioned name '{name}' is {len(name)} characters, at most {_MAX_NAME} fit "
            "(StatefulSet pods and labels): shorten the resource name or give it an id",
            path=path,
        )
    workload = ordered[0].partition("/")[2]
    instance = Instance(
        resource, entry, name, service.namespace, {**entry.params, **decl.params}, ordered, workload
    )
    return replace(instance, values=_template_values(instance, context))


def _sharers(
    namespace: str, decl: CustomResource, context: CompileContext
) -> dict[str, dict[str, Any]]:
    """Services of the namespace declaring the same type, class and id (Score sharing), with
    the params each gives."""
    found = {}
    for key, other in context.services.items():
        if other.namespace != namespace:
            continue
        for theirs in other.spec.workload.resources.values():
            same = (theirs.type, theirs.class_, theirs.id) == (decl.type, decl.class_, decl.id)
            if same and isinstance(theirs, CustomResource):
                found[key] = dict(theirs.params)
    return found


def _template_values(instance: Instance, context: CompileContext) -> dict[str, Any]:
    cluster = context.cluster
    return {
        "name": instance.name,
        "namespace": instance.namespace,
        "secretName": instance.secret_name,
        "workload": instance.workload,
        "params": dict(instance.params),
        "cluster": {
            "name": cluster.name,
            "domain": cluster.domain,
            "environment": cluster.environment,
            "region": cluster.region,
            "provider": cluster.provider,
        },
    }


def _expand(node: Any, values: Mapping[str, Any], secret: Any = None) -> Any:
    """``node`` with every ``${...}`` replaced; a lone reference keeps its value's type."""
    if isinstance(node, dict):
        return {k: _expand(v, values, secret) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand(v, values, secret) for v in node]
    if not isinstance(node, str):
        return node
    refs = list(placeholders.iter_references(node))
    if len(refs) == 1 and node.startswith("${") and node.find("}") == len(node) - 1:
        return _lookup(refs[0], values, secret)
    return placeholders.substitute(node, lambda ref: str(_lookup(ref, values, secret)))


def _lookup(ref: placeholders.Reference, values: Mapping[str, Any], secret: Any) -> Any:
    if ref[0] == "secrets":
        return secret(ref[1])
    value: Any = values
    for part in ref:
        value = value[part]  # the loader checked every reference
    return value


def outputs_of(instance: Instance) -> dict[str, str | SecretOutput]:
    """The outputs a consumer may reference: text, or a secret output by Secret reference."""
    secret_outputs = instance.provisioner.secret_outputs
    found: dict[str, str | SecretOutput] = {}
    for key, template in instance.provisioner.outputs.items():
        if key in secret_outputs:
            found[key] = SecretOutput(instance.secret_name, instance.store_name, key)
        else:
            found[key] = str(_expand(template, instance.values))
    return found


def build_objects(instance: Instance, context: CompileContext) -> list[dict[str, Any]]:
    """The provisioned objects (only the first consumer by key emits them when shared)."""
    entry = instance.provisioner
    found = [_owned(_expand(obj, instance.values), instance) for obj in entry.objects]
    if entry.secrets:
        found += [_owned(obj, instance) for obj in _secret_objects(instance)]
    return found


def _owned(obj: dict[str, Any], instance: Instance) -> dict[str, Any]:
    """Namespace and ownership labels on the object and on a pod template it holds."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta["namespace"] = instance.namespace
    own = {**labels.service_labels(instance.name), PROVISIONER_LABEL: instance.provisioner.type}
    meta["labels"] = {**own, **(meta.get("labels") or {})}
    out["metadata"] = meta
    spec = out.get("spec")
    if isinstance(spec, dict) and isinstance(spec.get("template"), dict):
        template = dict(spec["template"])
        pod_meta = dict(template.get("metadata") or {})
        pod_meta["labels"] = {**own, **(pod_meta.get("labels") or {})}
        rest = {k: v for k, v in template.items() if k != "metadata"}
        out["spec"] = {**spec, "template": {"metadata": pod_meta, **rest}}
    return out


def _secret_objects(instance: Instance) -> list[dict[str, Any]]:
    entry = instance.provisioner
    found: list[dict[str, Any]] = []
    data_from = []
    for key, spec in entry.secrets.items():
        name = f"{instance.name}-{key}"
        generator: dict[str, Any] = {
            "apiVersion": GENERATOR_API_VERSION,
            "kind": "Password",
            "metadata": {"name": name, "namespace": instance.namespace},
        }
        body: dict[str, Any] = {
            "length": spec.length,
            "symbols": spec.symbols,
            "noUpper": spec.no_upper,
            "allowRepeat": True,
        }
        if spec.digits is not None:
            body["digits"] = spec.digits
        generator["spec"] = body
        found.append(generator)
        ref = {"apiVersion": GENERATOR_API_VERSION, "kind": "Password", "name": name}
        data_from.append(
            {
                "sourceRef": {"generatorRef": ref},
                "rewrite": [{"regexp": {"source": "^password$", "target": key}}],
            }
        )
    templates = {key: f'{{{{ index . "{key}" }}}}' for key in entry.secrets}
    for key in sorted(entry.secret_outputs):
        templates[key] = _expand(
            entry.outputs[key], instance.values, lambda k: f'{{{{ index . "{k}" }}}}'
        )
    secret = header("ExternalSecret", instance.secret_name, instance.namespace)
    secret["spec"] = {
        "refreshPolicy": "CreatedOnce",
        "target": {
            "name": instance.secret_name,
            "creationPolicy": "Owner",
            "deletionPolicy": "Retain",
            "template": {"engineVersion": "v2", "data": dict(sorted(templates.items()))},
        },
        "dataFrom": data_from,
    }
    found.append(secret)
    found += _reader_objects(instance)
    return found


def _reader_objects(instance: Instance) -> list[dict[str, Any]]:
    """SecretStore (Kubernetes provider) that may read Secret ``<name>`` and nothing else."""
    reader = instance.store_name
    account = header("ServiceAccount", reader, instance.namespace)
    role = header("Role", reader, instance.namespace)
    role["rules"] = [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [instance.secret_name],
         "verbs": ["get"]},
        {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectrulesreviews"],
         "verbs": ["create"]},
    ]
    binding = header("RoleBinding", reader, instance.namespace)
    binding["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": reader}
    binding["subjects"] = [
        {"kind": "ServiceAccount", "name": reader, "namespace": instance.namespace}
    ]
    store = header("SecretStore", reader, instance.namespace)
    store["spec"] = {
        "provider": {
            "kubernetes": {
                "remoteNamespace": instance.namespace,
                "server": {
                    "caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt"}
                },
                "auth": {"serviceAccount": {"name": reader}},
            }
        }
    }
    return [account, role, binding, store]


def mesh_service(instance: Instance) -> LatticeService | None:
    """The provisioned workload as a mesh participant: its ports, its consumers as callers.

    ``None`` when the provisioner runs no workload (no ports: dns, route).
    """
    ports = instance.provisioner.ports
    if not ports:
        return None
    callers = {
        f"consumer-{index}": {
            "type": "service",
            "direction": "inbound",
            "id": key.partition("/")[2],
            "namespace": key.partition("/")[0],
        }
        for index, key in enumerate(instance.consumers)
    }
    return LatticeService.model_validate(
        {
            "apiVersion": "lattice.dev/v1alpha1",
            "kind": "LatticeService",
            "metadata": {"name": instance.name, "namespace": instance.namespace},
            "spec": {
                "containers": {"main": {"image": instance.provisioner.type}},
                "service": {"ports": {n: {"port": p} for n, p in sorted(ports.items())}},
                "resources": callers,
            },
        }
    )


def consumer_view(
    service: LatticeService, instances: list[Instance], context: CompileContext
) -> tuple[LatticeService, CompileContext]:
    """The consumer as the mesh sees it: each provisioned resource an outbound service."""
    workloads = {i.resource: s for i in instances if (s := mesh_service(i)) is not None}
    if not workloads:
        return service, context
    data = service.model_dump(mode="json", by_alias=True, exclude_none=True)
    for resource, synthetic in workloads.items():
        data["spec"]["workload"]["resources"][resource] = {
            "type": "service",
            "id": synthetic.name,
        }
    viewed = LatticeService.model_validate(data)
    known = dict(context.services)
    for synthetic in workloads.values():
        known[service_key(synthetic.namespace, synthetic.name)] = synthetic
    return viewed, replace(context, services=known)


def mesh_specs(specs: list[object], context: CompileContext) -> list[object]:
    """``specs`` as the mesh sees them: consumers calling their provisioned workloads, and
    those workloads (once each) admitting their consumers; other objects unchanged. What
    ``lattice mesh`` and the service graph read."""
    out: list[object] = []
    seen: set[str] = set()
    for spec in specs:
        if not isinstance(spec, LatticeService):
            out.append(spec)
            continue
        instances = instances_of(spec, context)
        out.append(consumer_view(spec, instances, context)[0])
        for instance in instances:
            workload = mesh_service(instance)
            if workload is not None and instance.key not in seen:
                seen.add(instance.key)
                out.append(workload)
    return out
