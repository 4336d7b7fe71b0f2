// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider.
//
// Upstream's main embeds schema files that `go generate` writes and the module does not
// ship; scripts/build-tools copies the module's cmd/pulumi-resource-kubernetes/schema.json
// and terraform-mapping.json next to this file before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var pulumiSchema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
