"""Measure the Cedar authorizer: decisions per second (single and batched) and p99 latency.

Runs on one core with a realistic set of 200 policies spread over the four lattice paths
(secret paths per namespace with ``like`` patterns, security overrides, read-only cluster
access per team, shared volumes, and forbids that override). Prints the figures.

    python benchmarks/cedar.py [--requests N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from lattice_pulumi.policy import requests
from lattice_pulumi.policy.authorizer import CedarAuthorizer
from lattice_pulumi.policy.requests import Request
from lattice_pulumi.policy.sources import PolicySource

NAMESPACES = 60


def build_sources() -> list[PolicySource]:
    """200 policies in 60 CedarPolicy objects."""
    sources: list[PolicySource] = []
    for i in range(NAMESPACES):
        ns = f"team{i}"
        text = f"""
permit(principal, action == Lattice::Action::"AccessSecret", resource)
when {{ principal.namespace == "{ns}" && resource.provider == "vault"
        && resource.path like "{ns}/*" }};
permit(principal in Lattice::Group::"{ns}",
       action in [Lattice::Action::"get", Lattice::Action::"list", Lattice::Action::"watch"],
       resource)
when {{ resource.environment == "production" && context.namespace like "{ns}*" }};
"""
        if i % 2 == 0:
            text += f"""
permit(principal == Lattice::Service::"{ns}/api", action == Lattice::Action::"OverrideSecurity",
       resource)
when {{ resource.category == "capability" && ["NET_ADMIN", "SYS_TIME"].contains(resource.value) }};
permit(principal, action == Lattice::Action::"AccessVolume", resource)
when {{ principal.namespace == "{ns}" && resource.namespace == "{ns}" }};
"""
        if i % 3 == 0:
            text += f"""
forbid(principal, action == Lattice::Action::"AccessSecret", resource)
when {{ principal.namespace == "{ns}" && resource.path like "*/root/*" }};
permit(principal in Lattice::Group::"{ns}-admins", action in Lattice::Action::"AccessCluster",
       resource in Lattice::Cluster::"staging-{i}");
"""
        sources.append(PolicySource(f"team-{i}", ns, text, priority=i % 5))
    sources.append(
        PolicySource(
            "platform",
            "lattice-system",
            """
forbid(principal, action == Lattice::Action::"exec", resource)
when { resource.environment == "production" };
forbid(principal, action == Lattice::Action::"OverrideSecurity", resource)
when { resource.category == "privileged" };
""",
        )
    )
    return sources


def build_requests(count: int, rng: random.Random) -> list[Request]:
    out: list[Request] = []
    for n in range(count):
        ns = f"team{rng.randrange(NAMESPACES)}"
        path = rng.choice(("secret", "override", "volume", "cluster"))
        if path == "secret":
            sub = rng.choice(("db", "root/key", "api"))
            out.append(requests.secret_access(ns, "api", "vault", f"{ns}/{sub}"))
        elif path == "override":
            override = rng.choice(("capability:NET_ADMIN", "privileged", "runAsRoot"))
            out.append(requests.security_override(ns, "api", override))
        elif path == "volume":
            out.append(requests.volume_access(ns, "api", ns, "media", f"{ns}/store", [f"{ns}/api"]))
        else:
            out.append(
                requests.cluster_access(
                    f"user{n % 50}",
                    [ns],
                    "prod-eu",
                    {"environment": "production"},
                    rng.choice(("get", "list", "exec")),
                    namespace=f"{ns}-web",
                    kind="Pod",
                )
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    rng = random.Random(7)
    sources = build_sources()
    start = time.perf_counter()
    uncached = CedarAuthorizer(sources, cache_size=0)
    load_ms = (time.perf_counter() - start) * 1000
    cached = CedarAuthorizer(sources)
    policies = len(cached.policies) - 2
    batch = build_requests(args.requests, rng)

    print(f"policies: {policies} in {len(sources)} sources, load+validate {load_ms:.0f} ms")
    print(f"requests: {len(batch)} (random mix of the four paths)")
    cached.authorize_batch(batch)  # warm: the cached run measures repeated requests
    for label, authorizer in (("uncached", uncached), ("cached  ", cached)):
        uncached.authorize_batch(batch[:50])  # first-call costs (schema, imports)
        single, p50, p99 = measure_single(authorizer, batch)
        batched = measure_batched(authorizer, batch)
        print(f"{label} single:  {single:>9,.0f} decisions/s  (p50 {p50:.0f} us, p99 {p99:.0f} us)")
        print(f"{label} batched: {batched:>9,.0f} decisions/s  (batches of 500)")
    allowed = sum(d.allowed for d in uncached.authorize_batch(batch))
    print(f"allowed: {allowed} of {len(batch)}")


def measure_single(authorizer: CedarAuthorizer, batch: list[Request]) -> tuple[float, float, float]:
    latencies: list[float] = []
    start = time.perf_counter()
    for request in batch:
        t0 = time.perf_counter()
        authorizer.authorize(request)
        latencies.append(time.perf_counter() - t0)
    rate = len(batch) / (time.perf_counter() - start)
    p99 = statistics.quantiles(latencies, n=100)[98] * 1e6
    return rate, statistics.median(latencies) * 1e6, p99


def measure_batched(authorizer: CedarAuthorizer, batch: list[Request]) -> float:
    start = time.perf_counter()
    for offset in range(0, len(batch), 500):
        authorizer.authorize_batch(batch[offset : offset + 500])
    return len(batch) / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
