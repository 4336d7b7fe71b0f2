// Wrapper module for the Python language host. scripts/build-tools adds
// `require github.com/pulumi/pulumi/sdk/v3` at PULUMI_LANGUAGE_PYTHON_VERSION and copies the
// module-version replace lines of that sdk/v3 go.mod, then runs go mod tidy and builds
// github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python. The host's shim script
// pulumi-language-python-exec is copied from the same module folder beside the binary.
module lattice.dev/tools/pulumi-language-python

go 1.26.0
