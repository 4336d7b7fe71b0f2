package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os/exec"
	"sync"
)

// console is a container's main process for attach: one long-lived local process per
// container, whose stdin takes what attached clients send and whose stdout goes to every
// client attached at the time.
type console struct {
	stdin io.WriteCloser
	mu    sync.Mutex
	outs  map[io.Writer]struct{}
	ended chan struct{}
}

func (n *node) console(key string) (*console, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.consoles[key]; ok {
		return c, nil
	}
	process := exec.Command("/bin/sh", "-c", n.opts.console)
	stdin, err := process.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := process.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := process.Start(); err != nil {
		return nil, fmt.Errorf("console of %s: %w", key, err)
	}
	c := &console{stdin: stdin, outs: map[io.Writer]struct{}{}, ended: make(chan struct{})}
	go c.broadcast(stdout)
	go func() {
		err := process.Wait()
		log.Printf("console of %s ended: %v", key, err)
	}()
	n.consoles[key] = c
	return c, nil
}

func (c *console) broadcast(stdout io.Reader) {
	defer close(c.ended)
	buffer := make([]byte, 32*1024)
	for {
		count, err := stdout.Read(buffer)
		if count > 0 {
			c.mu.Lock()
			for out := range c.outs {
				_, _ = out.Write(buffer[:count])
			}
			c.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// attach copies in to the console's stdin and its output to out, until in ends, the
// client goes away or the console process ends.
func (c *console) attach(ctx context.Context, in io.Reader, out io.Writer) error {
	if out != nil {
		c.mu.Lock()
		c.outs[out] = struct{}{}
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			delete(c.outs, out)
			c.mu.Unlock()
		}()
	}
	inputDone := make(chan struct{})
	if in != nil {
		go func() {
			defer close(inputDone)
			_, _ = io.Copy(c.stdin, in) // the console's stdin stays open for later clients
		}()
	}
	select {
	case <-inputDone:
	case <-ctx.Done():
	case <-c.ended:
	}
	return nil
}
