"""``pulumi preview`` of N LatticeServices through the real engine, against a hand-written
pulumi-kubernetes program that creates the same objects; prints both times and the ratio.

Usage: python benchmarks/pulumi_preview.py [N] [--runs R]   (default: 100 services, 2 runs;
goal: ratio at most 1.2)

Needs the tools of ``scripts/build-tools`` (pulumi, pulumi-language-python,
pulumi-resource-kubernetes) in ``$LATTICE_TOOLS_DIR`` (default ``~/.cache/lattice/tools``).
Two ``runtime: python`` projects are written to a temporary folder and run with the CLI, as
from a shell, on a private file:// backend; both providers render YAML to a folder (a
preview writes nothing and needs no cluster), so the figure is program + engine time:
  lattice:  N ``LatticeService`` components (each: a port, three outbound and three inbound
            peers with both halves declared, two variables, two replicas);
  baseline: the objects those components compile to (taken from the same components run
            once under mocks, so they are identical), each registered directly as a typed
            pulumi-kubernetes resource (``CustomResource`` for third-party kinds).
Runs alternate between the two; the best of each is compared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(os.environ.get("LATTICE_TOOLS_DIR") or Path.home() / ".cache/lattice/tools")

SPECS = """
def spec(index: int, total: int) -> dict:
    out = [f"svc-{(index + step) % total}" for step in (1, 2, 3)]
    into = [f"svc-{(index - step) % total}" for step in (1, 2, 3)]
    resources = {p: {"type": "service", "direction": "outbound"} for p in out}
    resources |= {p: {"type": "service", "direction": "inbound"} for p in into}
    variables = {"PEER": f"http://{out[0]}.bench.svc.cluster.local:8080", "INDEX": str(index)}
    return {
        "containers": {
            "main": {"image": f"ghcr.io/example/app:1.0.{index}", "variables": variables}
        },
        "service": {"ports": {"http": {"port": 8080}}},
        "resources": resources,
        "replicas": 2,
    }
"""

LATTICE_PROGRAM = (
    """
import pulumi
import pulumi_kubernetes as k8s

from lattice_pulumi.components import LatticeService
"""
    + SPECS
    + """
TOTAL = int(pulumi.Config().require("services"))
provider = k8s.Provider("bench", render_yaml_to_directory=pulumi.Config().require("renderTo"))
opts = pulumi.ResourceOptions(provider=provider)
for index in range(TOTAL):
    LatticeService(f"svc-{index}", spec(index, TOTAL), opts, namespace="bench")
"""
)

BASELINE_PROGRAM = """
import importlib
import json
import re

import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
provider = k8s.Provider("bench", render_yaml_to_directory=config.require("renderTo"))
opts = pulumi.ResourceOptions(provider=provider)
CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def typed(api_version: str, kind: str):
    group, _, version = api_version.rpartition("/")
    package = {"": "core", "apps": "apps", "policy": "policy", "autoscaling": "autoscaling",
               "rbac.authorization.k8s.io": "rbac", "networking.k8s.io": "networking"}.get(group)
    if package is None:
        return None
    return getattr(importlib.import_module(f"pulumi_kubernetes.{package}.{version}"), kind)


for name, obj in json.loads(open(config.require("objects")).read()):
    fields = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    factory = typed(obj["apiVersion"], obj["kind"])
    if factory is None:
        k8s.apiextensions.CustomResource(
            name, api_version=obj["apiVersion"], kind=obj["kind"], metadata=obj["metadata"],
            opts=opts, **fields)
    else:
        args = {CAMEL.sub("_", key).lower(): value for key, value in fields.items()}
        factory(name, metadata=obj["metadata"], opts=opts, **args)
"""


def compiled_objects(total: int) -> list[tuple[str, dict[str, Any]]]:
    """(child name, object) of every object the N components create, under mocks."""
    import pulumi
    from pulumi.runtime import mocks

    from lattice_pulumi.components import LatticeService, resources

    class _Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: Any) -> tuple[dict[str, Any], None]:
            return {}, None

    namespace: dict[str, Any] = {}
    exec(SPECS, namespace)
    found: list[tuple[str, dict[str, Any]]] = []
    mock = _Mocks()
    pulumi.runtime.set_mocks(mock, monitor=mocks.MockMonitor(mock))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def build() -> None:
        import pulumi_kubernetes as k8s

        provider = k8s.Provider("bench", render_yaml_to_directory="/nonexistent")
        opts = pulumi.ResourceOptions(provider=provider)
        for index in range(total):
            name = f"svc-{index}"
            service = LatticeService(name, namespace["spec"](index, total), opts, namespace="bench")
            found.extend((resources.logical_name(name, o, "bench"), o) for o in service.manifests)

    build()
    return found


def _env(home: Path) -> dict[str, str]:
    dirs = [
        TOOLS / f"pulumi-{_version('PULUMI_VERSION')}" / "bin",
        TOOLS / f"pulumi-language-python-{_version('PULUMI_LANGUAGE_PYTHON_VERSION')}",
        TOOLS / f"pulumi-resource-kubernetes-v{_version('PULUMI_KUBERNETES_VERSION')}",
    ]
    missing = [d for d in dirs if not d.is_dir()]
    if missing:
        sys.exit(f"tools not built ({', '.join(map(str, missing))}): run scripts/build-tools")
    return {
        **os.environ,
        "PATH": os.pathsep.join([*map(str, dirs), os.environ.get("PATH", "")]),
        "PULUMI_HOME": str(home / "home"),
        "PULUMI_BACKEND_URL": (home / "state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "bench",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }


def _version(key: str) -> str:
    for line in (ROOT / "scripts" / "tools.versions").read_text().splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1].strip()
    raise KeyError(key)


def _pulumi(env: dict[str, str], cwd: Path, *args: str) -> None:
    done = subprocess.run(
        ["pulumi", *args, "--non-interactive"], cwd=cwd, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"pulumi {' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")


def project(
    base: Path, name: str, program: str, config: dict[str, str], env: dict[str, str]
) -> Path:
    folder = base / name
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (folder / "__main__.py").write_text(program)
    _pulumi(env, folder, "stack", "init", "bench")
    for key, value in config.items():
        _pulumi(env, folder, "config", "set", f"{name}:{key}", value)
    return folder


def preview_seconds(env: dict[str, str], folder: Path) -> float:
    started = time.perf_counter()
    _pulumi(env, folder, "preview", "--stack", "bench")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="?", type=int, default=100)
    parser.add_argument("--runs", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lattice-preview-bench-") as tmp:
        base = Path(tmp)
        (base / "state").mkdir()
        env = _env(base)
        objects = compiled_objects(options.services)
        (base / "objects.json").write_text(json.dumps(objects))
        render = str(base / "rendered")
        common = {"renderTo": render}
        lattice = project(
            base,
            "bench-lattice",
            LATTICE_PROGRAM,
            {**common, "services": str(options.services)},
            env,
        )
        baseline = project(
            base,
            "bench-baseline",
            BASELINE_PROGRAM,
            {**common, "objects": str(base / "objects.json")},
            env,
        )
        times: dict[str, list[float]] = {"lattice": [], "baseline": []}
        for _ in range(options.runs):
            times["baseline"].append(preview_seconds(env, baseline))
            times["lattice"].append(preview_seconds(env, lattice))
        best = {name: min(values) for name, values in times.items()}
        print(f"{options.services} LatticeServices, {len(objects)} Kubernetes objects")
        for name in ("baseline", "lattice"):
            runs = ", ".join(f"{t:.1f}" for t in times[name])
            print(f"  {name:9s} pulumi preview: best {best[name]:.1f} s (runs: {runs})")
        ratio = best["lattice"] / best["baseline"]
        print(f"  ratio lattice/baseline: {ratio:.2f}x (goal: at most 1.2x)")


if __name__ == "__main__":
    main()
