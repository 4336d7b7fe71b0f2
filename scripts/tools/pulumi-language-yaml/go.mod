// Wrapper module for the Pulumi YAML language host. scripts/build-tools adds
// `require github.com/pulumi/pulumi-yaml` at PULUMI_YAML_VERSION (its go.mod has no replace
// lines to copy), runs go mod tidy and builds github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml.
module lattice.dev/tools/pulumi-language-yaml

go 1.26.0
