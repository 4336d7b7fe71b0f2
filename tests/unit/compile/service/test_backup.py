"""backup_annotations: Velero hook and volume annotations of the pod template."""

from __future__ import annotations

from typing import Any

import pytest

from lattice_pulumi.compile.service import backup
from lattice_pulumi.errors import CompileError
from lattice_pulumi.spec.loader import load_text
from lattice_pulumi.spec.service import LatticeService
from tests.builders import service, to_yaml
from tests.manifests import assert_valid

VOLUMES = {
    "data": {"type": "volume", "params": {"size": "1Gi"}},
    "cache": {"type": "volume", "params": {"size": "1Gi"}},
    "scratch": {"type": "volume", "params": {"size": "1Gi"}},
}
FLUSH = {"container": "main", "command": ["/bin/sh", "-c", "sync && echo 'done'"]}


def load(doc: dict[str, Any]) -> LatticeService:
    result = load_text(to_yaml(doc))
    assert result.errors == []
    (svc,) = result.resources
    assert isinstance(svc, LatticeService)
    return svc


@pytest.mark.parametrize(("spec", "annotations"), [
    pytest.param({}, {}, id="no backup"),
    pytest.param({"backup": {}}, {}, id="empty backup"),
    pytest.param(
        {"backup": {"pre": [FLUSH]}},
        {
            "pre.hook.backup.velero.io/container": "main",
            "pre.hook.backup.velero.io/command": '["/bin/sh", "-c", "sync && echo \'done\'"]',
            "pre.hook.backup.velero.io/on-error": "Fail",
            "pre.hook.backup.velero.io/timeout": "30s",
        },
        id="pre hook with defaults",
    ),
    pytest.param(
        {"backup": {"post": [{"container": "main", "command": ["resume"], "timeout": "2m",
                              "onError": "Continue"}]}},
        {
            "post.hook.backup.velero.io/container": "main",
            "post.hook.backup.velero.io/command": '["resume"]',
            "post.hook.backup.velero.io/on-error": "Continue",
            "post.hook.backup.velero.io/timeout": "2m",
        },
        id="post hook",
    ),
    pytest.param(
        {"resources": VOLUMES,
         "backup": {"includeVolumes": ["data", "cache"], "excludeVolumes": ["scratch"]}},
        {
            "backup.velero.io/backup-volumes": "data,cache",
            "backup.velero.io/backup-volumes-excludes": "scratch",
        },
        id="volumes in and out",
    ),
])
def test_annotations(spec: dict[str, Any], annotations: dict[str, str]) -> None:
    assert backup.backup_annotations(load(service(**spec))) == annotations


def test_annotations_are_valid_pod_annotations() -> None:
    svc = load(service(resources=VOLUMES, backup={"pre": [FLUSH], "post": [FLUSH],
                                                  "includeVolumes": ["data"]}))
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "api", "namespace": "shop",
                     "annotations": backup.backup_annotations(svc)},
        "spec": {"containers": [{"name": "main", "image": "ghcr.io/example/api:1.0"}]},
    }
    assert_valid([pod])


@pytest.mark.parametrize("phase", ["pre", "post"])
def test_a_second_hook_in_a_phase_is_refused(phase: str) -> None:
    svc = load(service(backup={phase: [FLUSH, FLUSH]}))
    with pytest.raises(CompileError) as caught:
        backup.backup_annotations(svc)
    assert str(caught.value) == (
        f"service shop/api spec.backup.{phase}[1]: Velero pod annotations carry one {phase} "
        'hook; combine the commands into one (for example ["/bin/sh", "-c", "first && second"])'
    )
