// Wrapper module for the etcd server. scripts/build-tools adds the require line
// (version from scripts/tools.versions) and runs go mod tidy in a build directory.
module lattice.dev/tools/etcd

go 1.26.0
