"""Resolve a service's ``${...}`` placeholders against the service and its context.

Text resolves to ``Rendered``: literal pieces and references to secret keys kept apart, so
a secret value is never written anywhere; the caller decides how to deliver it (a
``secretKeyRef`` for a lone reference, an ExternalSecret template for mixed text).

Outputs per resource type (matching score-k8s's default provisioners where they overlap):
``service``: host, hostname, port, url, name; ``external-service``: host, hostname, port,
url, scheme; ``secret``: any key (``${resources.s.KEY}`` or ``${secret.s.KEY}``); a
provisioned type: the outputs of its provisioner (secret outputs become Secret references).
"""

from __future__ import annotations

from dataclasses import dataclass

from lattice_pulumi.compile import provision
from lattice_pulumi.compile.context import CompileContext, service_key
from lattice_pulumi.errors import CompileError, FieldPath
from lattice_pulumi.spec import placeholders
from lattice_pulumi.spec.external import parse_endpoint
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_resources import (
    KNOWN_RESOURCE_TYPES,
    ExternalServiceResource,
    SecretResource,
    ServiceResource,
)

__all__ = ["Rendered", "Resolver", "SecretKey"]


@dataclass(frozen=True)
class SecretKey:
    """A reference to one key of one declared secret resource, or of a provisioned resource's
    generated Secret (``secret``: its name; ``store``: the SecretStore that may read it)."""

    resource: str
    key: str
    secret: str | None = None
    store: str | None = None

    @property
    def template_name(self) -> str:
        """Name of this key inside an ExternalSecret template (a valid Secret key)."""
        return f"{self.resource}.{self.key}"


@dataclass(frozen=True)
class Rendered:
    """Text after substitution: literal strings and secret keys, in order."""

    parts: tuple[str | SecretKey, ...]

    @property
    def secrets(self) -> tuple[SecretKey, ...]:
        return tuple(p for p in self.parts if isinstance(p, SecretKey))

    @property
    def is_plain(self) -> bool:
        return not self.secrets

    @property
    def lone_secret(self) -> SecretKey | None:
        """The key when the text is exactly one secret reference and nothing else."""
        return (
            self.parts[0] if len(self.parts) == 1 and isinstance(self.parts[0], SecretKey) else None
        )

    def text(self) -> str:
        """The plain text (only valid when ``is_plain``)."""
        assert self.is_plain
        return "".join(p for p in self.parts if isinstance(p, str))

    def eso_template(self) -> str:
        """ExternalSecret (Go template) text: literals escaped, keys as ``index`` lookups."""
        out = []
        for part in self.parts:
            if isinstance(part, SecretKey):
                out.append(f'{{{{ index . "{part.template_name}" }}}}')
            else:
                out.append(part.replace("{{", '{{ "{{" }}'))
        return "".join(out)


class Resolver:
    """Resolves references of one service; errors name the field path and the reference."""

    def __init__(self, service: LatticeService, context: CompileContext) -> None:
        self.service = service
        self.context = context
        self.resources = service.spec.workload.resources
        self._provisioned: dict[str, provision.Instance] | None = None

    def provisioned(self) -> dict[str, provision.Instance]:
        """The provisioned resources of the service by resource name (computed once)."""
        if self._provisioned is None:
            found = provision.instances_of(self.service, self.context)
            self._provisioned = {i.resource: i for i in found}
        return self._provisioned

    def render(self, text: str, path: FieldPath) -> Rendered:
        parts: list[str | SecretKey] = []

        def resolve(ref: placeholders.Reference) -> str:
            value = self._resolve(ref, path)
            if isinstance(value, SecretKey):
                secrets.append(value)
                return _PLACEHOLDER
            return value

        secrets: list[SecretKey] = []
        try:
            text_out = placeholders.substitute(text, resolve)
        except placeholders.PlaceholderError as exc:
            raise self._error(str(exc), path) from None
        pieces = text_out.split(_PLACEHOLDER)
        for index, piece in enumerate(pieces):
            if piece:
                parts.append(piece)
            if index < len(secrets):
                parts.append(secrets[index])
        return Rendered(tuple(parts))

    def _error(self, message: str, path: FieldPath) -> CompileError:
        return CompileError(
            message, subject=f"service {self.service.namespace}/{self.service.name}", path=path
        )

    def _resolve(self, ref: placeholders.Reference, path: FieldPath) -> str | SecretKey:
        shown = "${" + ".".join(ref) + "}"
        head = ref[0]
        if head == "metadata":
            return self._metadata(ref, shown, path)
        if head == "cluster":
            return self._cluster(ref, shown, path)
        if head in ("resources", "secret") and len(ref) >= 2:
            return self._resource(ref, shown, path)
        raise self._error(f"cannot resolve '{shown}'", path)

    def _metadata(self, ref: placeholders.Reference, shown: str, path: FieldPath) -> str:
        meta = self.service.metadata
        if ref[1:] == ("name",):
            return meta.name
        if ref[1:] == ("namespace",):
            return self.service.namespace
        if len(ref) == 3 and ref[1] in ("annotations", "labels"):
            values = meta.annotations if ref[1] == "annotations" else meta.labels
            if ref[2] in values:
                return values[ref[2]]
            raise self._error(f"metadata has no {ref[1][:-1]} '{ref[2]}' in '{shown}'", path)
        value: object = self.service.score_metadata
        for part in ref[1:]:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str | int | float | bool):
            return str(value).lower() if isinstance(value, bool) else str(value)
        raise self._error(f"cannot resolve '{shown}'", path)

    def _cluster(self, ref: placeholders.Reference, shown: str, path: FieldPath) -> str:
        cluster = self.context.cluster
        values = {
            "name": cluster.name,
            "environment": cluster.environment,
            "region": cluster.region,
            "provider": cluster.provider,
            "domain": cluster.domain,
        }
        if len(ref) == 2 and ref[1] in values:
            return values[ref[1]]
        raise self._error(f"cannot resolve '{shown}'", path)

    def _resource(
        self, ref: placeholders.Reference, shown: str, path: FieldPath
    ) -> str | SecretKey:
        name = ref[1]
        decl = self.resources.get(name)
        if decl is None:
            raise self._error(f"unknown resource '{name}' in '{shown}'", path)
        if isinstance(decl, SecretResource):
            if len(ref) != 3:
                raise self._error(
                    f"expected a key, as in ${{resources.{name}.KEY}}, in '{shown}'", path
                )
            return SecretKey(name, ref[2])
        if ref[0] == "secret":
            raise self._error(f"resource '{name}' is not a secret in '{shown}'", path)
        if isinstance(decl, ServiceResource):
            return self._service_output(name, decl, ref, shown, path)
        if isinstance(decl, ExternalServiceResource):
            return self._external_output(name, decl, ref, shown, path)
        instance = self.provisioned().get(name)
        if instance is not None:
            return self._provisioned_output(name, instance, ref, shown, path)
        if decl.type not in KNOWN_RESOURCE_TYPES:
            raise self._error(
                f"resource '{name}' of type {decl.type} has no provisioner in this compile, so "
                f"'{shown}' has no value (give the context provisioners, e.g. the built-in set)",
                path,
            )
        raise self._error(
            f"resource '{name}' of type {decl.type} has no outputs usable in text ('{shown}')", path
        )

    def _service_output(
        self,
        name: str,
        decl: ServiceResource,
        ref: placeholders.Reference,
        shown: str,
        path: FieldPath,
    ) -> str:
        target = decl.id or name
        namespace = decl.namespace or self.service.namespace
        host = f"{target}.{namespace}.svc.{self.context.cluster.domain}"
        output = ref[2] if len(ref) == 3 else None
        if output in ("host", "hostname"):
            return host
        if output == "name":
            return target
        if output in ("port", "url"):
            port = self._callee_port(service_key(namespace, target), decl, shown, path)
            return str(port) if output == "port" else f"http://{host}:{port}"
        raise self._error(
            f"service resources give host, hostname, name, port and url, not '{shown}'", path
        )

    def _callee_port(self, key: str, decl: ServiceResource, shown: str, path: FieldPath) -> int:
        callee = self.context.services.get(key)
        if callee is None:
            raise self._error(f"service {key} is unknown here, so '{shown}' has no port", path)
        ports = callee.spec.workload.service.ports if callee.spec.workload.service else {}
        wanted = decl.params.ports[0] if decl.params.ports else next(iter(ports), None)
        if wanted is None or wanted not in ports:
            raise self._error(f"service {key} has no port '{wanted}' for '{shown}'", path)
        return ports[wanted].port

    def _external_output(
        self,
        name: str,
        decl: ExternalServiceResource,
        ref: placeholders.Reference,
        shown: str,
        path: FieldPath,
    ) -> str:
        key = service_key(decl.namespace or self.service.namespace, decl.id or name)
        external = self.context.external_services.get(key)
        if external is None:
            raise self._error(f"external service {key} is unknown here ('{shown}')", path)
        endpoints = external.spec.endpoints
        wanted = decl.params.ports[0] if decl.params.ports else next(iter(endpoints))
        if wanted not in endpoints:
            raise self._error(f"external service {key} has no endpoint '{wanted}'", path)
        url = endpoints[wanted]
        endpoint = parse_endpoint(url)
        values = {
            "host": endpoint.host,
            "hostname": endpoint.host,
            "port": str(endpoint.port),
            "scheme": endpoint.scheme,
            "url": url,
        }
        if len(ref) == 3 and ref[2] in values:
            return values[ref[2]]
        raise self._error(
            f"external services give host, hostname, port, scheme and url, not '{shown}'", path
        )


    def _provisioned_output(
        self,
        name: str,
        instance: provision.Instance,
        ref: placeholders.Reference,
        shown: str,
        path: FieldPath,
    ) -> str | SecretKey:
        outputs = provision.outputs_of(instance)
        output = ref[2] if len(ref) == 3 else None
        if output is None or output not in outputs:
            known = ", ".join(sorted(outputs)) or "none"
            raise self._error(
                f"resource '{name}' of type {instance.provisioner.type} gives {known}, "
                f"not '{shown}'",
                path,
            )
        value = outputs[output]
        if isinstance(value, provision.SecretOutput):
            return SecretKey(name, value.key, secret=value.secret, store=value.store)
        return value


_PLACEHOLDER = "\x00secret\x00"
