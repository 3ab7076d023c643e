package zones_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testzone"
)

// TestServerRulesDirs: --rules directories load beside DIR/rules; rules
// that do not load, or a directory that is not there, stop the start with
// an error naming the place.
func TestServerRulesDirs(t *testing.T) {
	extra := t.TempDir()
	good := "rules:\n  - name: r\n    on: [put]\n    condition: object.name == 'x'\n    deny: \"'no'\"\n"
	if err := os.WriteFile(filepath.Join(extra, "r.yaml"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	z := testzone.StartZone(t, filepath.Join(t.TempDir(), "zone"), server.ServerConfig{RulesDirs: []string{extra}})
	z.Stop()
	if !strings.Contains(z.Log(), `msg="rules loaded"`) || !strings.Contains(z.Log(), "rules=1") {
		t.Errorf("log:\n%s", z.Log())
	}

	tests := []struct {
		name, dir, file, want string
	}{
		{"broken file", t.TempDir(), "rules:\n  - name: bad\n    on: [put]\n    condition: object.size\n    deny: \"'no'\"\n", `b.yaml:4:16: rule "bad": condition must evaluate to bool`},
		{"missing directory", filepath.Join(t.TempDir(), "nope"), "", "not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.file != "" {
				os.WriteFile(filepath.Join(tc.dir, "b.yaml"), []byte(tc.file), 0o644)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := server.Run(ctx, server.ServerConfig{DataDir: filepath.Join(t.TempDir(), "zone"), Addr: "127.0.0.1:0",
				Logger: discardLogger(), Out: discardWriter{}, RulesDirs: []string{tc.dir}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("start: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// TestServerRuleSetImport: a zone from before rule sets were kept in the
// catalog (rules in DIR/rules, none in the catalog) gets them as version 1
// at its first start, through the checks of irule load; at a later start
// the catalog's version is used, and a directory that differs from it is
// reported, not loaded.
func TestServerRuleSetImport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "zone")
	rulesDir := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rulesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	rule := "rules:\n  - name: r\n    on: [put]\n    condition: object.name == 'x'\n    deny: \"'no'\"\n"
	tests := "tests:\n  - {name: x refused, op: put, path: /tempZone/home/rods/x, expect: deny, rule: r}\n"
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(rulesDir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("r.yaml", rule)
	write("r.test.yaml", tests)
	z := testzone.StartZone(t, dir, server.ServerConfig{})
	z.Stop()
	if !strings.Contains(z.Log(), `msg="rules loaded" version=1`) || !strings.Contains(z.Log(), "rules=1") {
		t.Errorf("first start's log:\n%s", z.Log())
	}
	rs := currentRuleSet(t, dir)
	if rs.Version != 1 || string(rs.Files["r.yaml"]) != rule || string(rs.Files["r.test.yaml"]) != tests ||
		!strings.Contains(rs.Comment, "imported at the first start") || rs.Author.Name != "rods" {
		t.Errorf("imported %+v", rs)
	}

	// Changed while the server was down: reported; the catalog's stays.
	write("r.yaml", strings.ReplaceAll(rule, "'no'", "'nope'"))
	z = testzone.StartZone(t, dir, server.ServerConfig{})
	z.Stop()
	if !strings.Contains(z.Log(), "are not the zone's rule set") || !strings.Contains(z.Log(), `msg="rules loaded" version=1`) {
		t.Errorf("second start's log:\n%s", z.Log())
	}
	if rs := currentRuleSet(t, dir); rs.Version != 1 {
		t.Errorf("version %d after a restart", rs.Version)
	}

	// A zone whose rules fail their own test cases does not start.
	other := filepath.Join(t.TempDir(), "zone2")
	if err := os.MkdirAll(filepath.Join(other, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(other, "rules", "r.yaml"), []byte(strings.ReplaceAll(rule, "== 'x'", "== 'y'")), 0o644)
	os.WriteFile(filepath.Join(other, "rules", "r.test.yaml"), []byte(tests), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := server.Run(ctx, server.ServerConfig{DataDir: other, Addr: "127.0.0.1:0", Logger: discardLogger(), Out: discardWriter{}})
	if err == nil || !strings.Contains(err.Error(), "1 of 1 test cases of the rule set fail") {
		t.Errorf("start with failing test cases: %v", err)
	}
}

func currentRuleSet(t *testing.T, dir string) catalog.RuleSet {
	t.Helper()
	cat, err := sqlite.Open(t.Context(), filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	rs, err := cat.CurrentRuleSet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
