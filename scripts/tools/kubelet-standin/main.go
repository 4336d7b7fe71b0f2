// Command kubelet-standin serves the kubelet's streaming endpoints for the integration tests,
// where no container runtime can run: the API server proxies pods/exec, pods/attach,
// pods/portforward and pods/log to a node's kubelet, and this program answers them.
//
//	/exec/{namespace}/{pod}/{container}?command=...   ServeExec: the command runs as a local process
//	                                                  (on a pseudo-terminal with tty=1, resized as kubectl's)
//	/attach/{namespace}/{pod}/{container}             ServeAttach: the container's console process
//	/portForward/{namespace}/{pod}                    ServePortForward: dials 127.0.0.1:<port>
//	/containerLogs/{namespace}/{pod}/{container}      the file <log-dir>/<ns>_<pod>_<container>.log
//
// The session protocols (SPDY and WebSocket framing, stream negotiation, exit codes) are the
// upstream kubelet's own (k8s.io/kubelet/pkg/cri/streaming); only what runs behind them is
// local. TLS with client certificates verified against --client-ca, like a kubelet's
// x509 authentication of the API server. It prints "listening on <port>" once serving.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/kubelet/pkg/cri/streaming/portforward"
	remotecommandserver "k8s.io/kubelet/pkg/cri/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

const (
	streamCreationTimeout = 30 * time.Second
	logPollInterval       = 50 * time.Millisecond
)

type options struct {
	listen, cert, key, clientCA, logDir, console string
	idleTimeout                                  time.Duration
}

func main() {
	var opts options
	flag.StringVar(&opts.listen, "listen", "127.0.0.1:0", "address to serve on")
	flag.StringVar(&opts.cert, "tls-cert-file", "", "serving certificate (PEM)")
	flag.StringVar(&opts.key, "tls-private-key-file", "", "serving key (PEM)")
	flag.StringVar(&opts.clientCA, "client-ca-file", "", "CA of accepted client certificates")
	flag.StringVar(&opts.logDir, "log-dir", "", "directory of <ns>_<pod>_<container>.log files")
	flag.StringVar(&opts.console, "console-command", "cat", "shell command each container's console (attach) runs")
	flag.DurationVar(&opts.idleTimeout, "stream-idle-timeout", 4*time.Hour, "idle timeout of streaming sessions")
	flag.Parse()
	if err := run(opts); err != nil {
		log.Fatalf("kubelet-standin: %v", err)
	}
}

func run(opts options) error {
	if opts.cert == "" || opts.key == "" || opts.clientCA == "" || opts.logDir == "" {
		return errors.New("--tls-cert-file, --tls-private-key-file, --client-ca-file and --log-dir are required")
	}
	pair, err := tls.LoadX509KeyPair(opts.cert, opts.key)
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	caPEM, err := os.ReadFile(opts.clientCA)
	if err != nil {
		return fmt.Errorf("client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("client CA %s holds no PEM certificate", opts.clientCA)
	}
	listener, err := net.Listen("tcp", opts.listen)
	if err != nil {
		return err
	}
	node := &node{opts: opts, consoles: map[string]*console{}}
	server := &http.Server{
		Handler: node.routes(),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{pair},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    pool,
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"}, // upgrades (SPDY, WebSocket) need HTTP/1.1
		},
	}
	fmt.Printf("listening on %d\n", listener.Addr().(*net.TCPAddr).Port)
	return server.ServeTLS(listener, "", "")
}

type node struct {
	opts     options
	mu       sync.Mutex
	consoles map[string]*console
}

func (n *node) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/exec/{namespace}/{pod}/{container}", n.serveExec)
	mux.HandleFunc("/attach/{namespace}/{pod}/{container}", n.serveAttach)
	mux.HandleFunc("/portForward/{namespace}/{pod}", n.servePortForward)
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", n.serveLogs)
	return mux
}

func podName(req *http.Request) string {
	return req.PathValue("namespace") + "/" + req.PathValue("pod")
}

func (n *node) serveExec(w http.ResponseWriter, req *http.Request) {
	streamOpts, err := remotecommandserver.NewOptions(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	command := req.URL.Query()["command"]
	log.Printf("exec %s/%s: %q", podName(req), req.PathValue("container"), command)
	remotecommandserver.ServeExec(w, req, localRuntime{n}, podName(req), "", req.PathValue("container"),
		command, streamOpts, n.opts.idleTimeout, streamCreationTimeout, remotecommandconsts.SupportedStreamingProtocols)
}

func (n *node) serveAttach(w http.ResponseWriter, req *http.Request) {
	streamOpts, err := remotecommandserver.NewOptions(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	log.Printf("attach %s/%s", podName(req), req.PathValue("container"))
	remotecommandserver.ServeAttach(w, req, localRuntime{n}, podName(req), "", req.PathValue("container"),
		streamOpts, n.opts.idleTimeout, streamCreationTimeout, remotecommandconsts.SupportedStreamingProtocols)
}

func (n *node) servePortForward(w http.ResponseWriter, req *http.Request) {
	forwardOpts, err := portforward.NewV4Options(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	log.Printf("portForward %s", podName(req))
	portforward.ServePortForward(w, req, localRuntime{n}, podName(req), "", forwardOpts,
		n.opts.idleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
	log.Printf("portForward %s: ended", podName(req))
}

// serveLogs writes the container's log file; with follow=true it keeps writing what is
// appended until the client goes away.
func (n *node) serveLogs(w http.ResponseWriter, req *http.Request) {
	name := fmt.Sprintf("%s_%s_%s.log", req.PathValue("namespace"), req.PathValue("pod"), req.PathValue("container"))
	file, err := os.Open(filepath.Join(n.opts.logDir, name))
	if err != nil {
		http.Error(w, fmt.Sprintf("no logs for %s/%s: %v", podName(req), req.PathValue("container"), err), http.StatusNotFound)
		return
	}
	defer file.Close()
	follow, _ := strconv.ParseBool(req.URL.Query().Get("follow"))
	w.Header().Set("Content-Type", "text/plain")
	flusher, _ := w.(http.Flusher)
	log.Printf("containerLogs %s/%s follow=%v", podName(req), req.PathValue("container"), follow)
	for {
		if _, err := io.Copy(w, file); err != nil {
			log.Printf("containerLogs %s/%s: write failed: %v", podName(req), req.PathValue("container"), err)
			return
		}
		if !follow {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-req.Context().Done():
			log.Printf("containerLogs %s/%s: follow ended: %v", podName(req), req.PathValue("container"), req.Context().Err())
			return
		case <-time.After(logPollInterval):
		}
	}
}

// localRuntime runs containers as local processes (the upstream interfaces' "runtime").
type localRuntime struct{ node *node }

func (r localRuntime) ExecInContainer(ctx context.Context, name string, uid types.UID, container string, cmd []string,
	in io.Reader, out, stderr io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, timeout time.Duration) error {
	if len(cmd) == 0 {
		return errors.New("no command")
	}
	process := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	if tty { // a terminal has one output
		return runInTerminal(process, in, out, resize)
	}
	process.Stdout, process.Stderr = out, stderr
	var stdin io.WriteCloser
	if in != nil {
		pipe, err := process.StdinPipe()
		if err != nil {
			return err
		}
		stdin = pipe
	}
	if err := process.Start(); err != nil {
		return err
	}
	if stdin != nil {
		go func() { // not waited for: the process may end before its input does
			_, _ = io.Copy(stdin, in)
			_ = stdin.Close()
		}()
	}
	return exitResult(process.Wait())
}

// exitResult is what a runtime tells the streaming server of a finished command: its exit
// code when it exited (kubectl then exits with it), else the error.
func exitResult(err error) error {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		return utilexec.CodeExitError{Err: err, Code: exitErr.ExitCode()}
	}
	return err
}

func (r localRuntime) AttachContainer(ctx context.Context, name string, uid types.UID, container string,
	in io.Reader, out, stderr io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	c, err := r.node.console(name + "/" + container)
	if err != nil {
		return err
	}
	return c.attach(ctx, in, out)
}

func (r localRuntime) PortForward(ctx context.Context, name string, uid types.UID, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("port %d of %s: %w", port, name, err)
	}
	defer conn.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(conn, stream); done <- struct{}{} }()
	go func() { _, _ = io.Copy(stream, conn); done <- struct{}{} }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}
