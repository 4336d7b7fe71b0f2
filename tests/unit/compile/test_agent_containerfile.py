"""agent/Containerfile agrees with the Deployment compile_agent_bundle generates.

No container engine runs where the tests run, so the image itself is never built here
(agent/README.md); these checks read the final stage of the Containerfile instead.
"""

from __future__ import annotations

import json

from lattice_pulumi.compile import agent
from lattice_pulumi.compile.agent import AgentParent, compile_agent_bundle
from tests.conftest import ROOT

CONTAINERFILE = ROOT / "agent" / "Containerfile"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _final_stage() -> dict[str, str]:
    """The last value of each instruction after the final FROM (continuations joined)."""
    text = CONTAINERFILE.read_text().replace("\\\n", " ")
    stage: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction.upper() == "FROM":
            stage = {}
        stage[instruction.upper()] = rest.strip()
    return stage


def _pod() -> dict:  # type: ignore[type-arg]
    objects = compile_agent_bundle("alpha", AgentParent("cell:50051", "https://cell/v1/enrol", CA))
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    return dict(deployment["spec"]["template"]["spec"])


def test_entrypoint_is_the_deployments_command() -> None:
    stage = _final_stage()
    container = _pod()["containers"][0]
    assert json.loads(stage["ENTRYPOINT"]) == container["command"] == list(agent.AGENT_COMMAND)
    assert json.loads(stage["CMD"]) == container["args"]


def test_user_is_the_deployments_uid_and_gid() -> None:
    uid, _, gid = _final_stage()["USER"].partition(":")
    security = _pod()["securityContext"]
    assert (int(uid), int(gid)) == (security["runAsUser"], security["runAsGroup"])
    assert (int(uid), int(gid)) == (agent.AGENT_UID, agent.AGENT_GID)


def test_base_image_and_package() -> None:
    text = CONTAINERFILE.read_text()
    froms = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert froms == ["python:3.11-slim", "python:3.11-slim"]
    assert "pip install --no-cache-dir --no-deps /wheels/*.whl" in text
    assert "pip install --no-cache-dir -r /wheels/requirements.txt" in text
    assert "startswith('pulumi')" in text  # the pulumi* requirements stay out of the image
    assert agent.AGENT_IMAGE.startswith(agent.AGENT_IMAGE_REPOSITORY + ":")


def test_the_in_cluster_commands_run_without_pulumi() -> None:
    """The image leaves pulumi out; the agent and cell commands must not need it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for name in ('pulumi', 'pulumi_kubernetes', 'pulumi_aws', 'pulumi_openstack'):\n"
        "    sys.modules[name] = None  # importing them now raises ImportError\n"
        "from typer.testing import CliRunner\n"
        "from lattice_pulumi.cli.main import app\n"
        "for group in ('agent', 'cell', 'get'):\n"
        "    result = CliRunner().invoke(app, [group, '--help'])\n"
        "    assert result.exit_code == 0, (group, result.output)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr
