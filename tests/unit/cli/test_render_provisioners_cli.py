"""``lattice render --provisioners``: user files match before the built-in set, by type, class
and id; a bad file fails with its path and nothing is rendered; output is deterministic."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML
from typer.testing import CliRunner

from lattice_pulumi.cli.main import app
from tests.builders import service, to_yaml
from tests.conftest import EXAMPLES

runner = CliRunner()

OWN_REDIS = """\
- type: redis
  class: external
  description: A Redis run by the platform team elsewhere
  params: {host: cache.example.com}
  outputs:
    host: ${params.host}
    port: 6380
"""


def _render(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["render", *args])
    return result.exit_code, result.stdout, result.stderr


def test_boutique_renders_the_same_twice() -> None:
    first = _render("-f", str(EXAMPLES / "boutique"))
    assert first[0] == 0, first[2]
    assert _render("-f", str(EXAMPLES / "boutique")) == first
    kinds = [o["kind"] for o in YAML(typ="safe").load_all(first[1])]
    assert kinds.count("StatefulSet") == 1 and "Password" in kinds


def test_a_user_provisioner_matches_its_class_before_the_builtin(tmp_path: Path) -> None:
    (tmp_path / "own.yaml").write_text(OWN_REDIS)
    resources = {"ext": {"type": "redis", "class": "external"}, "own": {"type": "redis"}}
    variables = {"EXT": "${resources.ext.host}:${resources.ext.port}",
                 "OWN": "${resources.own.host}"}
    doc = tmp_path / "svc.yaml"
    spec = service(resources=resources)
    spec["spec"]["containers"]["main"]["variables"] = variables
    doc.write_text(to_yaml(spec))
    code, out, err = _render("-f", str(doc), "--provisioners", str(tmp_path / "own.yaml"))
    assert code == 0, err
    objects = list(YAML(typ="safe").load_all(out))
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    assert config["data"]["EXT"] == "cache.example.com:6380"
    assert config["data"]["OWN"] == "api-own.shop.svc.cluster.local"
    statefulsets = [o["metadata"]["name"] for o in objects if o["kind"] == "StatefulSet"]
    assert statefulsets == ["api-own"]


def test_a_bad_provisioner_file_fails_with_its_path_and_renders_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- type: redis\n  outputs: {host: '${hostname}'}\n")
    code, out, err = _render("-f", str(EXAMPLES / "boutique"), "--provisioners", str(bad))
    assert code == 1
    assert out == ""
    assert f"{bad}:2:13 [0].outputs.host: '${{hostname}}' is not a template reference" in err
    assert "Traceback" not in err


def test_mesh_shows_the_provisioned_redis_reachable_by_cart_only() -> None:
    result = runner.invoke(app, ["mesh", "-f", str(EXAMPLES / "boutique"), "-o", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["services"] == ["default/cart", "default/cart-redis-cart"]
    assert [(e["caller"], e["callee"], e["allowed"]) for e in report["edges"]] == [
        ("default/cart", "default/cart-redis-cart", True)
    ]
