"""Score files as the Score specification writes them: metadata extras, the deprecated list
forms of files and volumes, platform volumes, and file sources relative to the Score file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lattice_pulumi.compile.context import CompileContext
from lattice_pulumi.compile.service import compile_service
from lattice_pulumi.spec import loader
from lattice_pulumi.spec.service import LatticeService

SCORE = """apiVersion: score.dev/v1b1
metadata:
  name: web
  annotations: {example.com/owner: shop}
  team: blue
  extra: {tier: 1}
containers:
  main:
    image: nginx:1.27
"""

LISTS = SCORE + """    files:
      - target: /etc/app.conf
        content: "name=${metadata.name}"
        mode: "0644"
    volumes:
      - source: ${resources.data}
        target: /data
        readOnly: true
resources:
  data:
    type: volume
"""


def _only(text: str, file: str = "score.yaml") -> tuple[LatticeService, loader.LoadResult]:
    result = loader.load_text(text, file)
    assert result.errors == []
    (service,) = result.resources
    assert isinstance(service, LatticeService)
    return service, result


def test_metadata_extras_are_kept_and_annotations_pass_through() -> None:
    service, result = _only(SCORE)
    assert result.warnings == []
    assert service.metadata.annotations == {"example.com/owner": "shop"}
    assert service.score_metadata == {"team": "blue", "extra": {"tier": 1}}
    objects = compile_service(service, CompileContext())
    assert objects[0]["kind"] == "ServiceAccount"


def test_a_lattice_service_still_rejects_unknown_metadata() -> None:
    text = ("apiVersion: lattice.dev/v1alpha1\nkind: LatticeService\n"
            "metadata: {name: web, team: blue}\nspec:\n  containers: {main: {image: nginx}}\n")
    result = loader.load_text(text, "svc.yaml")
    assert [str(e) for e in result.errors] == [
        "svc.yaml:3:23 metadata.team: unknown field (fields are camelCase; check the spelling)"
    ]


def test_deprecated_list_forms_load_with_a_warning() -> None:
    service, result = _only(LISTS)
    assert [str(w) for w in result.warnings] == [
        "score.yaml:10:5 containers.main.files: files as a list is deprecated in Score: "
        "write a map of target to file",
        "score.yaml:14:5 containers.main.volumes: volumes as a list is deprecated in Score: "
        "write a map of target to volume",
    ]
    container = service.spec.workload.containers["main"]
    assert container.files["/etc/app.conf"].content == "name=${metadata.name}"
    assert container.files["/etc/app.conf"].mode == "0644"
    assert container.volumes["/data"].source == "${resources.data}"
    assert container.volumes["/data"].read_only is True


def test_a_volume_without_params_is_an_empty_dir_of_the_pod() -> None:
    service, _ = _only(LISTS)
    objects = compile_service(service, CompileContext())
    assert "PersistentVolumeClaim" not in {o["kind"] for o in objects}
    pod = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert {"name": "data", "emptyDir": {}} in pod["volumes"]
    mounts = pod["containers"][0]["volumeMounts"]
    assert {"name": "data", "mountPath": "/data", "readOnly": True} in mounts


def test_file_source_is_read_relative_to_the_score_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "conf").mkdir()
    (folder / "conf" / "app.conf").write_text("port=8080\n")
    spec = folder / "score.yaml"
    spec.write_text(SCORE + "    files:\n      /etc/app.conf: {source: conf/app.conf}\n")
    monkeypatch.chdir(tmp_path)  # elsewhere than the Score file
    assert os.getcwd() != str(folder)
    (service,) = loader.load(spec)
    assert isinstance(service, LatticeService)
    assert service.spec.workload.containers["main"].files["/etc/app.conf"].content == "port=8080\n"


def test_score_metadata_keys_resolve_in_placeholders() -> None:
    variables = "    variables:\n      TEAM: ${metadata.team}\n"
    variables += "      TIER: t${metadata.extra.tier}\n"
    text = SCORE + variables
    service, _ = _only(text)
    objects = compile_service(service, CompileContext())
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    assert config["data"] == {"TEAM": "blue", "TIER": "t1"}
    unknown = loader.load_text(SCORE + "    variables:\n      X: ${metadata.nope}\n", "s.yaml")
    assert [e.message for e in unknown.errors] == [
        "unknown metadata field (known: name, namespace, annotations, labels) in "
        "'${metadata.nope}'"
    ]
