"""Validate generated manifests: core kinds with kubernetes-validate, custom kinds against
the third-party JSON schemas (``scripts/fetch-crds``' cache, ../shared/crd-schemas as the
fallback; see tests/conftest.py). Shared by every compiler's tests."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.conftest import SHARED_CRD_SCHEMAS, crd_schema_dirs, crd_schema_file

KUBERNETES_VERSION = "1.34.0"
# Kinds with no schema in ../shared/crd-schemas (the catalogue): checked against the fetched
# CAPRKE2 schemas when scripts/fetch-crds has run, by their documented fields in unit tests.
NO_SCHEMA = {
    ("controlplane.cluster.x-k8s.io", "RKE2ControlPlane"),
    ("bootstrap.cluster.x-k8s.io", "RKE2ConfigTemplate"),
    # ESO Password generator: fields checked in tests/unit/compile/test_provisioned_resources.py
    ("generators.external-secrets.io", "Password"),
}


@functools.cache
def _custom_validator(group: str, kind: str, version: str) -> jsonschema.Draft7Validator:
    path = crd_schema_file(group, kind, version)
    if path is None and not SHARED_CRD_SCHEMAS.is_dir():
        # Only the fallback has the kinds whose Go module is not served (tools.versions).
        pytest.skip(f"no schema for {group}/{version} {kind} without {SHARED_CRD_SCHEMAS}")
    if path is None:
        searched = ", ".join(map(str, crd_schema_dirs()))
        raise AssertionError(f"no schema for {group}/{version} {kind} in {searched}")
    return jsonschema.Draft7Validator(json.loads(path.read_text()))


def validation_errors(
    obj: dict[str, Any], kubernetes_version: str = KUBERNETES_VERSION
) -> list[str]:
    """Problems of one object ([] when valid)."""
    group, _, version = obj["apiVersion"].rpartition("/")
    if (group, obj["kind"]) in NO_SCHEMA and crd_schema_file(group, obj["kind"], version) is None:
        return []
    if not _is_custom_group(group):
        try:
            kubernetes_validate.validate(obj, kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            return [f"{'.'.join(map(str, exc.path))}: {exc.message}"]
        return []
    if not crd_schema_dirs():
        pytest.skip("no third-party CRD schemas: run scripts/fetch-crds")
    validator = _custom_validator(group, obj["kind"], version)
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)
    ]


def _is_custom_group(group: str) -> bool:
    """Third-party groups (gateway.networking.k8s.io and *.x-k8s.io included) are CRDs."""
    return "." in group and group not in _CORE_GROUPS


_CORE_GROUPS = {
    "rbac.authorization.k8s.io",
    "apiextensions.k8s.io",
    "storage.k8s.io",
    "networking.k8s.io",
    "admissionregistration.k8s.io",
    "coordination.k8s.io",
    "scheduling.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "certificates.k8s.io",
    "autoscaling",
    "batch",
    "apps",
    "policy",
}


def assert_valid(
    objects: Iterable[dict[str, Any]], kubernetes_version: str = KUBERNETES_VERSION
) -> None:
    """Every object valid, or one assertion listing every problem with the object's identity."""
    problems = []
    for obj in objects:
        meta = obj.get("metadata", {})
        ident = f"{obj.get('kind')} {meta.get('namespace', '')}/{meta.get('name')}"
        problems += [f"{ident}: {p}" for p in validation_errors(obj, kubernetes_version)]
    assert problems == [], "\n".join(problems)


def schema_path(group: str, kind: str, version: str) -> Path:
    """The schema file validating one kind and version (first folder that has it)."""
    found = crd_schema_file(group, kind, version)
    if found is None:
        raise AssertionError(f"no schema for {group}/{version} {kind}")
    return found
