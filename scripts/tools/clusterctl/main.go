// Command clusterctl runs the upstream Cluster API command-line client.
package main

import (
	_ "k8s.io/client-go/plugin/pkg/client/auth" // exec and OIDC credential plugins

	"sigs.k8s.io/cluster-api/cmd/clusterctl/cmd"
)

func main() {
	cmd.Execute()
}
