package main

import (
	"io"
	"os/exec"

	"github.com/creack/pty"
	"k8s.io/client-go/tools/remotecommand"
)

// runInTerminal runs process on a new pseudo-terminal, as a container runtime does for
// `kubectl exec -t`: the terminal's output is the session's one output stream, the session's
// input is typed into it, and every size kubectl sends (its terminal's, then each change)
// is applied to it, so the process sees SIGWINCH and the new size.
func runInTerminal(process *exec.Cmd, in io.Reader, out io.Writer, resize <-chan remotecommand.TerminalSize) error {
	terminal, err := pty.Start(process)
	if err != nil {
		return err
	}
	defer terminal.Close()
	go func() {
		for size := range resize {
			_ = pty.Setsize(terminal, &pty.Winsize{Rows: size.Height, Cols: size.Width})
		}
	}()
	if in != nil {
		go func() { _, _ = io.Copy(terminal, in) }() // not waited for, like a pipe's input
	}
	copied := make(chan struct{})
	go func() { // ends with EIO once the process and everything it started let go of the terminal
		_, _ = io.Copy(out, terminal)
		close(copied)
	}()
	err = process.Wait()
	<-copied
	return exitResult(err)
}
