// Wrapper module for the kubelet stand-in: the kubelet's streaming endpoints (exec, attach,
// port-forward, container logs) served by the upstream k8s.io/kubelet streaming code, with
// local processes for containers (on a pseudo-terminal from github.com/creack/pty when the
// session asks for a TTY). scripts/build-tools requires k8s.io/kubelet, k8s.io/apimachinery
// and k8s.io/client-go at the staging version of KUBERNETES_VERSION.
module lattice.dev/tools/kubelet-standin

go 1.26.0

require github.com/creack/pty v1.1.24
