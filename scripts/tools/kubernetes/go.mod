// Wrapper module for kube-apiserver and kube-controller-manager. scripts/build-tools
// adds `require k8s.io/kubernetes` and one `replace` per k8s.io/* staging module
// (read from that version's go.mod), then runs go mod tidy in a build directory.
module lattice.dev/tools/kubernetes

go 1.26.0
