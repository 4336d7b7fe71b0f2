//go:build tools

// Package tools records the upstream main package that scripts/build-tools builds: the
// Python language host lives in package main of sdk/v3/python/cmd/pulumi-language-python
// (up to and including sdk/v3 v3.78.0), so it is built directly from this module.
package tools

import (
	_ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"
)
