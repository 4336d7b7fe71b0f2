// Wrapper module for the Kubernetes resource provider. scripts/build-tools adds the
// require line (provider/v4 at the version in scripts/tools.versions), copies the
// schema files this main embeds from the module, runs go mod tidy and builds.
module lattice.dev/tools/pulumi-resource-kubernetes

go 1.26.0
