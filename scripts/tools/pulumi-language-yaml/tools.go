//go:build tools

// Package tools records the upstream main package that scripts/build-tools builds: the YAML
// language host lives in package main of github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml,
// so it is built directly from this module.
package tools

import (
	_ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
)
