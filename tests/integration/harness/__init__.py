"""Test harness for integration tests: real servers built by ``scripts/build-tools``.

Independent of ``lattice_pulumi``: it starts etcd + kube-apiserver (+ controller-manager)
on loopback ports, talks to them with a tiny standard-library Kubernetes client, turns the
third-party JSON schemas in ``../shared/crd-schemas`` into CRDs, and prepares an isolated
Pulumi engine environment (file:// backend, private PULUMI_HOME).
"""
