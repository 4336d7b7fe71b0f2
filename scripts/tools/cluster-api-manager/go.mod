// Wrapper module for the Cluster API core manager (core/main.go since v1.12; the
// core controllers). scripts/build-tools adds `require sigs.k8s.io/cluster-api` and
// its `api` submodule at CLUSTER_API_VERSION (upstream replaces `api` by a directory,
// which a dependency cannot do), runs go mod tidy and builds the `tool` below.
module lattice.dev/tools/cluster-api-manager

go 1.26.0

tool sigs.k8s.io/cluster-api/core
