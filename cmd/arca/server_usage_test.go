package main

import (
	"context"
	"strings"
	"testing"
)

// TestServerUsageErrors checks that a server command line that does not
// parse exits 2, as an icommand's does (DESIGN.md §3).
func TestServerUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"server"},
		{"server", "--data"},
		{"server", "--data", t.TempDir(), "--bogus"},
		{"server", "--data", t.TempDir(), "--lease", "soon"},
	} {
		if code := run(context.Background(), append([]string{"arca"}, args...)); code != 2 {
			t.Errorf("arca %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
}
