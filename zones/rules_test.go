package zones_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
