// Wrapper module for the pulumi CLI. scripts/build-tools adds the require lines
// (github.com/pulumi/pulumi/pkg/v3 and sdk/v3 at the version in scripts/tools.versions)
// and copies the non-directory replace lines of that pkg/v3 go.mod, then runs go mod tidy
// and builds github.com/pulumi/pulumi/pkg/v3/cmd/pulumi.
module lattice.dev/tools/pulumi

go 1.26.0
