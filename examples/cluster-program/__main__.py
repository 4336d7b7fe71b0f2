"""A Lattice cluster from Python: Cluster API objects on the management cluster, then the
Lattice CRDs and baseline in the new cluster through the provider the component builds.

The management cluster is given explicitly (stack config ``kubeconfig``); nothing falls back
on the ambient kubeconfig. The stack config keys are documented in Pulumi.yaml.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from lattice_pulumi.components import LatticeCluster

HERE = Path(__file__).resolve().parent

config = pulumi.Config()
cluster_file = Path(config.get("clusterFile") or HERE.parent / "clusters" / "docker-dev.yaml")
context = config.get("context")
management = k8s.Provider(
    "management",
    kubeconfig=config.require("kubeconfig"),
    enable_server_side_apply=True,
    **({"context": context} if context else {}),
)
cluster = LatticeCluster(cluster_file.stem, cluster_file, parent_provider=management)

pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("capiNamespace", cluster.capi_namespace)
pulumi.export("endpoint", cluster.endpoint)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("objectNames", cluster.object_names)
