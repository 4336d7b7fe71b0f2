"""Pulumi program of the root project: deploy the bundled web application.

Loads examples/webapp and examples/policies, then runs the same inline program as
``lattice up``: one Kubernetes provider for the configured target, one LatticeService per
service, outputs ``urls``, ``objects`` and ``meshFindings``.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from lattice_pulumi.automation.program import Target, build_program, load_deployment

ROOT = Path(__file__).resolve().parent.parent

config = pulumi.Config()  # every key is documented in ../Pulumi.yaml
render_to = config.get("renderTo")
target = Target(
    kubeconfig=config.get("kubeconfig") or None,
    kube_context=config.get("context") or None,
    render_to=Path(render_to) if render_to else None,
    skip_await=config.get_bool("skipAwait") or False,
)
deployment = load_deployment([ROOT / "examples" / "webapp", ROOT / "examples" / "policies"])
build_program(deployment, target)()
