"""LatticeService: the Score workload superset, and its cross-field rules.

The spec accepts both the flat layout (``spec.containers``) and the nested one
(``spec.workload.containers``); either way the model holds them under ``workload``. Paths in
``check()`` are written in the nested form; the loader maps them back onto the layout the
author used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import Field, PrivateAttr, model_validator

from lattice_pulumi.errors import FieldPath, SpecError
from lattice_pulumi.spec import placeholders, service_aliases
from lattice_pulumi.spec.aliases import Normalized
from lattice_pulumi.spec.base import DnsLabel, SpecModel
from lattice_pulumi.spec.meta import Resource, Status
from lattice_pulumi.spec.service_containers import Container, Sidecar
from lattice_pulumi.spec.service_options import (
    Autoscaling,
    BackupSpec,
    DeploySpec,
    IngressSpec,
    ServicePorts,
)
from lattice_pulumi.spec.service_resources import (
    KNOWN_RESOURCE_TYPES,
    ResourceDecl,
    SecretResource,
    VolumeResource,
)

__all__ = ["LatticeService", "LatticeServiceSpec", "LatticeServiceStatus", "Workload"]

_WORKLOAD_KEYS = ("containers", "service", "resources")
_METADATA_REFS = ("name", "namespace", "annotations", "labels")
_CLUSTER_REFS = ("name", "environment", "region", "provider", "domain")


class Workload(SpecModel):
    """The Score part: containers, the service's ports, and declared resources."""

    containers: dict[DnsLabel, Container] = Field(min_length=1)
    service: ServicePorts | None = None
    resources: dict[DnsLabel, ResourceDecl] = Field(default_factory=dict)


class LatticeServiceSpec(SpecModel):
    workload: Workload
    sidecars: dict[DnsLabel, Sidecar] = Field(default_factory=dict)
    replicas: int = Field(default=1, ge=0)
    autoscaling: Autoscaling | None = None
    ingress: IngressSpec | None = None
    deploy: DeploySpec = Field(default_factory=DeploySpec)
    sysctls: dict[str, str] = Field(default_factory=dict)
    host_network: bool = False
    share_process_namespace: bool = False
    image_pull_secrets: list[str] = Field(default_factory=list)
    backup: BackupSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _nest_flat_layout(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        flat = [k for k in _WORKLOAD_KEYS if k in data]
        if not flat:
            return data
        if "workload" in data:
            raise ValueError(
                f"{', '.join(flat)} given both at spec level and under spec.workload: "
                "use one layout"
            )
        nested = {k: v for k, v in data.items() if k not in _WORKLOAD_KEYS}
        nested["workload"] = {k: data[k] for k in flat}
        return nested

    @model_validator(mode="after")
    def _replicas_within_autoscaling(self) -> LatticeServiceSpec:
        scale = self.autoscaling
        if scale is not None and self.replicas > scale.max:
            raise ValueError(
                f"replicas ({self.replicas}) is greater than autoscaling.max ({scale.max})"
            )
        return self

    def iter_containers(self) -> Iterator[tuple[FieldPath, str, Container]]:
        """Main containers then sidecars, each with its path from ``spec``."""
        for name, container in self.workload.containers.items():
            yield ("workload", "containers", name), name, container
        for name, sidecar in self.sidecars.items():
            yield ("sidecars", name), name, sidecar


class LatticeServiceStatus(Status):
    phase: Literal["Pending", "Compiling", "Ready", "Failed"] | None = None
    resolved_dependencies: list[str] = Field(default_factory=list)


class LatticeService(Resource):
    """A service: workload, dependencies, and everything the cluster needs to run it."""

    plural: ClassVar[str] = "latticeservices"
    short_names: ClassVar[tuple[str, ...]] = ("lsvc",)
    printer_columns: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Replicas", "integer", ".spec.replicas"),
        ("Phase", "string", ".status.phase"),
        ("Age", "date", ".metadata.creationTimestamp"),
    )

    kind: Literal["LatticeService"]
    spec: LatticeServiceSpec
    status: LatticeServiceStatus | None = None
    # metadata keys of a Score file beyond name/namespace/annotations/labels, kept as written
    _score_metadata: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def score_metadata(self) -> dict[str, Any]:
        """Extra ``metadata`` keys of the Score file this service was loaded from."""
        return self._score_metadata

    def with_score_metadata(self, extras: dict[str, Any]) -> LatticeService:
        """A copy of this service that keeps ``extras`` as its Score metadata."""
        copy = self.model_copy()
        copy._score_metadata = dict(extras)
        return copy

    @classmethod
    def normalize(cls, data: Any) -> Normalized:
        """The original Lattice's ``replicas: {min, max}`` rewritten (``spec.service_aliases``)."""
        return service_aliases.normalize_service(data)

    def check(self) -> list[SpecError]:
        extras = frozenset(self._score_metadata)
        return [e.with_prefix("spec") for e in _check_spec(self.spec, extras)]

    def unprovisioned(self, provisioned: frozenset[str]) -> list[SpecError]:
        """Warnings for resource types neither Lattice nor a provisioner of ``provisioned``
        serves (the loader adds them; ``--strict`` makes them errors)."""
        found = []
        for name, decl in self.spec.workload.resources.items():
            if decl.type in KNOWN_RESOURCE_TYPES or decl.type in provisioned:
                continue
            known = ", ".join([*KNOWN_RESOURCE_TYPES, *sorted(provisioned)])
            found.append(
                SpecError(
                    f"resource type '{decl.type}' has no provisioner; it is kept but nothing "
                    f"is generated for it (known: {known}; add one with --provisioners)",
                    ("spec", "workload", "resources", name, "type"),
                    warning=True,
                )
            )
        return found


def _check_spec(spec: LatticeServiceSpec, extras: frozenset[str]) -> list[SpecError]:
    found: list[SpecError] = []
    resources = spec.workload.resources
    for path, _, container in spec.iter_containers():
        problems = _check_container(container, resources, extras)
        found += [e.with_prefix(*path) for e in problems]
    names = set(spec.workload.containers)
    for name in spec.sidecars:
        if name in names:
            found.append(SpecError(f"'{name}' is already a container name", ("sidecars", name)))
    for index, secret in enumerate(spec.image_pull_secrets):
        if not isinstance(resources.get(secret), SecretResource):
            found.append(
                SpecError(
                    f"'{secret}' is not a declared resource of type secret",
                    ("imagePullSecrets", index),
                )
            )
    gpus = [name for name, decl in resources.items() if decl.type == "gpu"]
    for name in gpus[1:]:
        found.append(
            SpecError(
                f"only one gpu resource per service; '{gpus[0]}' is already one",
                ("workload", "resources", name),
            )
        )
    found += _check_ports(spec)
    found += _check_backup(spec, names | set(spec.sidecars))
    return found


def _check_container(
    container: Container, resources: dict[str, Any], extras: frozenset[str]
) -> list[SpecError]:
    found: list[SpecError] = []
    for key, value in container.variables.items():
        found += _check_text(value, resources, ("variables", key), extras)
    for target, file in container.files.items():
        if file.content is not None and not file.no_expand:
            content = (
                placeholders.reverse_escapes(file.content) if file.reverse_expand else file.content
            )
            found += _check_text(content, resources, ("files", target, "content"), extras)
        if file.source is not None:
            found += _check_text(file.source, resources, ("files", target, "source"), extras)
    for target, mount in container.volumes.items():
        if mount.source is None:
            continue
        path: FieldPath = ("volumes", target, "source")
        name = _volume_source_name(mount.source)
        if name is None:
            found.append(SpecError(f"'{mount.source}' is not ${{resources.NAME}}", path))
        elif not isinstance(resources.get(name), VolumeResource):
            found.append(
                SpecError(f"'{mount.source}' does not name a declared volume resource", path)
            )
    return found


def _volume_source_name(source: str) -> str | None:
    try:
        refs = list(placeholders.iter_references(source))
    except placeholders.PlaceholderError:
        return None
    if len(refs) == 1 and source.startswith("${") and source.endswith("}"):
        ref = refs[0]
        if len(ref) == 2 and ref[0] == "resources":
            return ref[1]
    return None


def _check_text(
    text: str, resources: dict[str, Any], path: FieldPath, extras: frozenset[str] = frozenset()
) -> list[SpecError]:
    try:
        refs = list(placeholders.iter_references(text))
    except placeholders.PlaceholderError as exc:
        return [SpecError(str(exc), path)]
    found = []
    for ref in refs:
        problem = _reference_problem(ref, resources, extras)
        if problem:
            found.append(SpecError(f"{problem} in '${{{'.'.join(ref)}}}'", path))
    return found


def _reference_problem(
    ref: tuple[str, ...], resources: dict[str, Any], extras: frozenset[str] = frozenset()
) -> str | None:
    head = ref[0]
    if head == "metadata" and len(ref) >= 2 and ref[1] in extras:
        return None  # a Score metadata key of its own (the compiler checks the value)
    if head == "metadata":
        if len(ref) < 2 or ref[1] not in _METADATA_REFS:
            return f"unknown metadata field (known: {', '.join(_METADATA_REFS)})"
        if ref[1] in ("annotations", "labels") and len(ref) != 3:
            return f"expected metadata.{ref[1]}.KEY"
        return None
    if head == "cluster":
        if len(ref) != 2 or ref[1] not in _CLUSTER_REFS:
            return f"unknown cluster field (known: {', '.join(_CLUSTER_REFS)})"
        return None
    if head in ("resources", "secret"):
        if len(ref) < 2:
            return f"expected {head}.NAME"
        decl = resources.get(ref[1])
        if decl is None:
            return f"unknown resource '{ref[1]}'"
        if head == "secret" and not isinstance(decl, SecretResource):
            return f"resource '{ref[1]}' is not a secret"
        if head == "secret" and len(ref) != 3:
            return "expected secret.NAME.KEY"
        if isinstance(decl, SecretResource) and len(ref) == 3:
            keys = decl.params.keys
            if keys is not None and ref[2] not in keys:
                return f"secret '{ref[1]}' has no key '{ref[2]}' (keys: {', '.join(keys)})"
        return None
    return "unknown placeholder root (expected metadata, resources, secret or cluster)"


def _check_ports(spec: LatticeServiceSpec) -> list[SpecError]:
    ports = spec.workload.service.ports if spec.workload.service else {}
    known = set(ports) | {p.port for p in ports.values()}
    found: list[SpecError] = []
    ingress = spec.ingress
    if ingress is None:
        return found
    if not ports:
        found.append(SpecError("ingress needs at least one service port", ("ingress",)))
        return found
    if ingress.port is not None and ingress.port not in known:
        found.append(SpecError(f"'{ingress.port}' is not a service port", ("ingress", "port")))
    for name, route in ingress.routes.items():
        if route.port is not None and route.port not in known:
            found.append(
                SpecError(
                    f"'{route.port}' is not a service port", ("ingress", "routes", name, "port")
                )
            )
    return found


def _check_backup(spec: LatticeServiceSpec, containers: set[str]) -> list[SpecError]:
    backup = spec.backup
    if backup is None:
        return []
    found: list[SpecError] = []
    for phase, hooks in (("pre", backup.pre), ("post", backup.post)):
        for index, hook in enumerate(hooks):
            if hook.container not in containers:
                found.append(
                    SpecError(
                        f"'{hook.container}' is not a container of this service",
                        ("backup", phase, index, "container"),
                    )
                )
    volumes = {n for n, d in spec.workload.resources.items() if isinstance(d, VolumeResource)}
    for field in ("includeVolumes", "excludeVolumes"):
        names = backup.include_volumes if field == "includeVolumes" else backup.exclude_volumes
        for index, name in enumerate(names):
            if name not in volumes:
                found.append(
                    SpecError(f"'{name}' is not a volume resource", ("backup", field, index))
                )
    return found
