// Command etcd runs the upstream etcd server.
//
// go.etcd.io/etcd/server/v3 carries directory replace lines in its go.mod, so
// `go install go.etcd.io/etcd/server/v3@...` is refused; this wrapper module
// requires it as an ordinary dependency instead.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
