// Wrapper module for clusterctl. scripts/build-tools adds `require sigs.k8s.io/cluster-api`
// and its `api` submodule at CLUSTER_API_VERSION (upstream replaces `api` by a directory,
// which a dependency cannot do), runs go mod tidy and builds.
module lattice.dev/tools/clusterctl

go 1.26.0
