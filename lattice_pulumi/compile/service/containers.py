"""Containers of a service: image, ports, probes, resources, env and files.

Variables and file contents are rendered through ``templates.Resolver``. Plain values go to a
ConfigMap per container (``<service>-<container>-env`` / ``-files``); a lone secret reference
becomes a ``secretKeyRef`` to the secret resource's Secret; text mixing literals and secret
keys becomes an ExternalSecret template (``<service>-<container>-secret-env`` /
``-secret-files``), so no secret value is ever part of the output. Values the compiler
cannot see (``CompileContext.opaque_marker``: Pulumi Outputs) go to a Secret ``-input-env``.
Files are mounted one by one (``subPath``) from a projected volume ``files-<container>``,
each with its mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lattice_pulumi.compile import labels
from lattice_pulumi.compile.apiversions import header
from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service import secrets
from lattice_pulumi.compile.service.security import container_security_context
from lattice_pulumi.compile.service.templates import Rendered, Resolver
from lattice_pulumi.errors import CompileError, FieldPath
from lattice_pulumi.spec import placeholders
from lattice_pulumi.spec.base import dump
from lattice_pulumi.spec.service import LatticeService
from lattice_pulumi.spec.service_containers import Container, FileSpec, Probe

__all__ = ["ContainerParts", "build_container"]

_DEFAULT_FILE_MODE = 0o644


@dataclass
class ContainerParts:
    """One container and everything it brings along."""

    container: dict[str, Any]
    objects: list[dict[str, Any]] = field(default_factory=list)  # ConfigMaps, ExternalSecrets
    volumes: list[dict[str, Any]] = field(default_factory=list)


def _image(container: Container, name: str, context: CompileContext, path: FieldPath) -> str:
    if container.image != ".":
        return container.image
    image = context.images.get(name) or context.images.get("*")
    if image is None:
        raise CompileError(
            'image "." takes the image from the command line or the program; none was given '
            f"for container '{name}'",
            path=(*path, "image"),
        )
    return image


def _pull_policy(image: str) -> str:
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _probe(probe: Probe) -> dict[str, Any]:
    data = dump(probe)
    http = data.get("httpGet")
    if http is not None and not http.get("httpHeaders"):
        http.pop("httpHeaders", None)
    return data


def _file_key(target: str) -> str:
    key = re.sub(r"[^-._a-zA-Z0-9]", "_", target.strip("/"))
    return key or "root"


class _Builder:
    """Collects the env, files and objects of one container."""

    def __init__(
        self, service: LatticeService, name: str, resolver: Resolver, path: FieldPath
    ) -> None:
        self.service = service
        self.name = name
        self.resolver = resolver
        self.path = path
        self.prefix = f"{service.name}-{name}"
        self.parts = ContainerParts(container={})

    def env(self, variables: dict[str, str]) -> list[dict[str, Any]]:
        plain: dict[str, str] = {}
        opaque: dict[str, str] = {}
        mixed: dict[str, Rendered] = {}
        env: list[dict[str, Any]] = []
        marker = self.resolver.context.opaque_marker
        for key in sorted(variables):
            rendered = self.resolver.render(variables[key], (*self.path, "variables", key))
            lone = rendered.lone_secret
            if rendered.is_plain and marker and marker in rendered.text():
                opaque[key] = rendered.text()
                ref = {"name": f"{self.prefix}-input-env", "key": key}
                env.append({"name": key, "valueFrom": {"secretKeyRef": ref}})
            elif rendered.is_plain:
                plain[key] = rendered.text()
                ref = {"name": f"{self.prefix}-env", "key": key}
                env.append({"name": key, "valueFrom": {"configMapKeyRef": ref}})
            elif lone is not None:
                secret = lone.secret or secrets.secret_name(self.service, lone.resource)
                ref = {"name": secret, "key": lone.key}
                env.append({"name": key, "valueFrom": {"secretKeyRef": ref}})
            else:
                mixed[key] = rendered
                ref = {"name": f"{self.prefix}-secret-env", "key": key}
                env.append({"name": key, "valueFrom": {"secretKeyRef": ref}})
        if plain:
            config = self._object("ConfigMap", f"{self.prefix}-env", {"data": plain})
            self.parts.objects.append(config)
        if opaque:
            body = {"type": "Opaque", "stringData": opaque}
            self.parts.objects.append(self._object("Secret", f"{self.prefix}-input-env", body))
        if mixed:
            self.parts.objects.append(
                secrets.build_templated_secret(self.service, f"{self.prefix}-secret-env", mixed)
            )
        return env

    def files(self, files: dict[str, FileSpec]) -> list[dict[str, Any]]:
        text: dict[str, str] = {}
        binary: dict[str, str] = {}
        mixed: dict[str, Rendered] = {}
        items: list[tuple[str, str, int]] = []  # (source object, key, mode)
        mounts = []
        for target in sorted(files):
            spec = files[target]
            key = _file_key(target)
            mode = int(spec.mode, 8) if spec.mode else _DEFAULT_FILE_MODE
            kind = self._file_content(spec, target, key, text, binary, mixed)
            items.append((kind, key, mode))
            mounts.append({"name": f"files-{self.name}", "mountPath": target, "subPath": key})
        if not items:
            return []
        if text or binary:
            body: dict[str, Any] = {}
            if text:
                body["data"] = text
            if binary:
                body["binaryData"] = binary
            self.parts.objects.append(self._object("ConfigMap", f"{self.prefix}-files", body))
        if mixed:
            self.parts.objects.append(
                secrets.build_templated_secret(self.service, f"{self.prefix}-secret-files", mixed)
            )
        self.parts.volumes.append(self._projected(items))
        return mounts

    def _file_content(
        self,
        spec: FileSpec,
        target: str,
        key: str,
        text: dict[str, str],
        binary: dict[str, str],
        mixed: dict[str, Rendered],
    ) -> str:
        path = (*self.path, "files", target)
        if spec.binary_content is not None:
            binary[key] = spec.binary_content  # binaryData: the file gets the real bytes
            return "config"
        if spec.source is not None:
            raise CompileError(
                f"file source '{spec.source}' must be inlined as content before compiling "
                "(the compiler reads no files)",
                path=(*path, "source"),
            )
        content = spec.content or ""
        if spec.no_expand:
            text[key] = content
            return "config"
        if spec.reverse_expand:
            content = placeholders.reverse_escapes(content)
        rendered = self.resolver.render(content, (*path, "content"))
        if rendered.is_plain:
            text[key] = rendered.text()
            return "config"
        mixed[key] = rendered
        return "secret"

    def _projected(self, items: list[tuple[str, str, int]]) -> dict[str, Any]:
        sources = []
        for kind, name in (
            ("config", f"{self.prefix}-files"),
            ("secret", f"{self.prefix}-secret-files"),
        ):
            chosen = [{"key": k, "path": k, "mode": m} for s, k, m in items if s == kind]
            if chosen:
                field_name = "configMap" if kind == "config" else "secret"
                sources.append({field_name: {"name": name, "items": chosen}})
        return {"name": f"files-{self.name}", "projected": {"sources": sources}}

    def _object(self, kind: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        obj = header(kind, name, self.service.namespace)
        obj["metadata"]["labels"] = labels.service_labels(self.service.name)
        obj.update(body)
        return obj


def build_container(
    service: LatticeService,
    name: str,
    container: Container,
    context: CompileContext,
    path: FieldPath,
    ports: list[dict[str, Any]],
    extra_mounts: list[dict[str, Any]],
) -> ContainerParts:
    """The container dict plus the ConfigMaps, ExternalSecrets and volumes it needs."""
    builder = _Builder(service, name, Resolver(service, context), path)
    image = _image(container, name, context, path)
    spec: dict[str, Any] = {"name": name, "image": image, "imagePullPolicy": _pull_policy(image)}
    resolver = builder.resolver
    if container.command is not None:
        spec["command"] = [
            _plain(resolver, arg, (*path, "command", i)) for i, arg in enumerate(container.command)
        ]
    if container.args is not None:
        spec["args"] = [
            _plain(resolver, arg, (*path, "args", i)) for i, arg in enumerate(container.args)
        ]
    if ports:
        spec["ports"] = ports
    env = builder.env(container.variables)
    if env:
        spec["env"] = env
    if container.resources is not None:
        spec["resources"] = dump(container.resources)
    for probe_name in ("liveness_probe", "readiness_probe", "startup_probe"):
        probe = getattr(container, probe_name)
        if probe is not None:
            spec[_camel(probe_name)] = _probe(probe)
    spec["securityContext"] = container_security_context(container)
    mounts = [*builder.files(container.files), *extra_mounts]
    if mounts:
        spec["volumeMounts"] = mounts
    builder.parts.container = spec
    return builder.parts


def _plain(resolver: Resolver, text: str, path: FieldPath) -> str:
    rendered = resolver.render(text, path)
    if not rendered.is_plain:
        raise CompileError(
            "secrets cannot be used in command or args (they would show in the pod spec); "
            "pass them as variables",
            path=path,
        )
    return rendered.text()


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
