//go:build tools

// Package tools records the upstream main package that scripts/build-tools builds:
// the pulumi CLI's command lives in package main of pkg/v3/cmd/pulumi (NewPulumiCmd is
// not exported), so it is built directly from this module instead of being wrapped.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
