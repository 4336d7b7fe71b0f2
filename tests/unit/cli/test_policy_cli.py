"""``lattice policy validate`` and ``lattice policy check`` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from lattice_pulumi.cli.policy import register

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "policies"


def invoke(*args: str) -> tuple[int, str, str]:
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_examples_validate() -> None:
    code, out, _ = invoke("policy", "validate", "-f", str(EXAMPLES))
    assert (code, out) == (0, "13 policies in 8 sources valid\n")


def test_validate_reports_every_problem_with_file_and_position(tmp_path: Path) -> None:
    (tmp_path / "ok.cedar").write_text(
        'permit(principal, action == Lattice::Action::"AccessSecret", resource);\n'
    )
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: lattice.dev/v1alpha1\n"
        "kind: CedarPolicy\n"
        "metadata: {name: bad, namespace: media}\n"
        "spec:\n"
        "  policies: |\n"
        '    permit(principal, action == Lattice::Action::"AccessSecret", resource);\n'
        "    permit(principal, action, resource) when { resource.colour == 1 };\n"
        "---\n"
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
    )
    code, out, err = invoke("policy", "validate", "-f", str(tmp_path))
    bad = tmp_path / "bad.yaml"
    assert code == 1
    assert out == "1 policy in 1 sources valid\n"
    assert err.splitlines()[0].startswith(f"error {bad} kind:10:1: unknown kind 'ConfigMap'")
    assert f"error {bad} media/bad:2:1: attribute `colour`" in err
    assert err.splitlines()[-1].endswith("problems")


CHECKS = [
    pytest.param(
        [
            'Lattice::Service::"media/jellyfin"',
            "AccessSecret",
            'Lattice::SecretPath::"vault:media/db"',
        ],
        [],
        0,
        "allow: permitted by media/media-secrets[0]\n",
        id="secret allowed by like pattern",
    ),
    pytest.param(
        [
            'Lattice::Service::"media/jellyfin"',
            'Lattice::Action::"OverrideSecurity"',
            'Lattice::SecurityOverride::"runAsRoot"',
        ],
        [],
        1,
        'deny: no permit\nto allow, add: permit(principal == Lattice::Service::"media/jellyfin", '
        'action == Lattice::Action::"OverrideSecurity", '
        'resource == Lattice::SecurityOverride::"runAsRoot");\n',
        id="override denied names the permit",
    ),
    pytest.param(
        ['Lattice::User::"bob"', "exec", 'Lattice::Namespace::"prod-eu/media"'],
        ["--group", "developers", "--label", "environment=production"],
        1,
        "deny: forbidden by lattice-system/guardrails[1] (no exec into production workloads)\n",
        id="forbid overrides",
    ),
    pytest.param(
        ['Lattice::User::"bob"', "list", 'Lattice::Cluster::"prod-eu"'],
        ["--group", "developers", "--label", "environment=production"],
        0,
        "allow: permitted by lattice-system/developers-read-production[0]\n",
        id="group reads production",
    ),
    pytest.param(
        ['Lattice::User::"carol"', "delete", 'Lattice::Cluster::"dev"'],
        ["--group", "platform", "--context", '{"sourceIp": "10.2.3.4"}'],
        0,
        "allow: permitted by lattice-system/developers-read-production[1]\n",
        id="context from json",
    ),
]


@pytest.mark.parametrize(("uids", "extra", "code", "output"), CHECKS)
def test_check(uids: list[str], extra: list[str], code: int, output: str) -> None:
    principal, action, resource = uids
    args = ["policy", "check", "-f", str(EXAMPLES), "--principal", principal]
    result = invoke(*args, "--action", action, "--resource", resource, *extra)
    assert result[:2] == (code, output)


def test_check_with_volume_entities(tmp_path: Path) -> None:
    entities = tmp_path / "entities.json"
    entities.write_text(
        '[{"uid": {"type": "Lattice::Volume", "id": "media/library"}, "parents": [],'
        ' "attrs": {"namespace": "media", "owner": {"__entity": {"type": "Lattice::Service",'
        ' "id": "media/store"}}, "allowedConsumers": []}}]'
    )
    code, out, _ = invoke(
        "policy",
        "check",
        "-f",
        str(EXAMPLES),
        "--principal",
        'Lattice::Service::"media/app"',
        "--action",
        "AccessVolume",
        "--resource",
        'Lattice::Volume::"media/library"',
        "--entities",
        str(entities),
    )
    assert code == 1
    assert out == (
        "deny: forbidden by lattice:builtin[1] (the volume owner has not listed this service in "
        "allowedConsumers)\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--principal", "media/app"], "expected an entity uid", id="bad uid"),
        pytest.param(["--context", "[1]"], "--context: expected a JSON object", id="bad context"),
    ],
)
def test_check_refuses_unusable_input(args: list[str], message: str) -> None:
    base = {
        "--principal": 'Lattice::Service::"a/b"',
        "--action": "AccessSecret",
        "--resource": 'Lattice::SecretPath::"v:x"',
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [item for pair in base.items() for item in pair]
    code, out, err = invoke("policy", "check", "-f", str(EXAMPLES), *flat)
    assert (code, out) == (2, "")
    assert message in err
