package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/arca-data/arca"

// pkg is what go list says of one package.
type pkg struct {
	ImportPath string
	Deps       []string // every package it needs, directly or not, tests excluded
}

// forbidden says which packages a group of packages must not reach, even
// through others.
type forbidden struct {
	// from matches the importing packages (a path relative to the module;
	// "x/..." is x and everything below it).
	from []string
	// to matches what they must not depend on; paths outside the module
	// are given whole.
	to  []string
	why string
}

var transports = []string{"zones/rpc/...", "zones/httpapi/...", "zones/web/...", "zones/federation/...", "google.golang.org/grpc/..."}

var rules = []forbidden{
	{
		from: []string{"zones"},
		to: append([]string{"zones/auth/...", "policies/...", "internal/server/...",
			"catalog/sqlite/...", "catalog/dgraph/...", "resources/drivers/...", "resources/posix/...", "resources/s3/...", "resources/tape/..."}, transports...),
		why: "the zone imports no transport, policy, catalog backend or storage driver",
	},
	{
		from: []string{"zones/auth/..."},
		to:   append([]string{"policies/...", "internal/server/...", "catalog/sqlite/...", "catalog/dgraph/...", "resources/drivers/..."}, transports...),
		why:  "authentication sits below the transports and knows no backend",
	},
	{
		from: []string{"policies/..."},
		to:   append([]string{"internal/server/...", "zones/auth/..."}, transports...),
		why:  "policies import no transport",
	},
	{
		from: []string{"catalog/..."},
		to:   []string{"resources/...", "rules/...", "zones/...", "policies/...", "icommands/...", "internal/server/...", "api/..."},
		why:  "the catalog imports nothing above it",
	},
	{
		from: []string{"resources/..."},
		to:   []string{"rules/...", "zones/...", "policies/...", "icommands/...", "internal/server/...", "api/..."},
		why:  "storage imports nothing above it",
	},
	{
		from: []string{"rules/..."},
		to:   []string{"zones/...", "policies/...", "icommands/...", "internal/server/...", "resources/..."},
		why:  "the rule engine knows operations only as data",
	},
	{
		from: []string{"icommands/..."},
		to:   []string{"zones/...", "policies/...", "internal/server/...", "catalog/sqlite/...", "catalog/dgraph/...", "resources/drivers/..."},
		why:  "the client speaks to a zone only through the API",
	},
	{
		from: []string{"api/..."},
		to:   []string{"catalog/...", "resources/...", "rules/...", "zones/...", "policies/...", "icommands/...", "internal/server/..."},
		why:  "the protocol stands alone",
	},
}

// match reports whether path (a full import path) matches pattern.
func match(pattern, path string) bool {
	full := pattern
	if !strings.Contains(strings.SplitN(pattern, "/", 2)[0], ".") {
		full = module + "/" + pattern
	}
	if base, ok := strings.CutSuffix(full, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == full
}

func matchAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if match(p, path) {
			return true
		}
	}
	return false
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; the test would prove nothing", len(pkgs))
	}
	return pkgs
}

func TestImportEdges(t *testing.T) {
	pkgs := listPackages(t)
	for _, r := range rules {
		matched := false
		for _, p := range pkgs {
			if !matchAny(r.from, p.ImportPath) {
				continue
			}
			matched = true
			for _, d := range p.Deps {
				if matchAny(r.to, d) && !matchAny(r.from, d) {
					t.Errorf("%s depends on %s: %s", p.ImportPath, d, r.why)
				}
			}
		}
		if !matched {
			t.Errorf("no package matches %v: the rule %q guards nothing", r.from, r.why)
		}
	}
}

// TestOnlyTheRootImportsBackends: one package, the composition root, knows
// every catalog backend and storage driver; nothing else imports them
// (tests aside).
func TestOnlyTheRootImportsBackends(t *testing.T) {
	backends := []string{"catalog/sqlite", "catalog/dgraph", "resources/drivers"}
	allowed := []string{"internal/server", "cmd/arca", "catalog/sqlite/...", "catalog/dgraph/...", "resources/drivers/..."}
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if matchAny(allowed, p.ImportPath) {
			continue
		}
		for _, imp := range p.Imports {
			if matchAny(backends, imp) {
				t.Errorf("%s imports %s: only the composition root (internal/server) may", p.ImportPath, imp)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"zones", module + "/zones", true},
		{"zones", module + "/zones/rpc", false},
		{"zones/...", module + "/zones/rpc", true},
		{"zones/...", module + "/zonesx", false},
		{"google.golang.org/grpc/...", "google.golang.org/grpc/codes", true},
		{"google.golang.org/grpc/...", "google.golang.org/grpcx", false},
	} {
		if got := match(tc.pattern, tc.path); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}
