// Wrapper module for kubectl. scripts/build-tools pins it exactly as the kubernetes wrapper
// (`require k8s.io/kubernetes` plus one `replace` per k8s.io/* staging module), so kubectl
// matches the API server the tests run; a separate wrapper keeps the server builds' stamps.
module lattice.dev/tools/kubectl

go 1.26.0
