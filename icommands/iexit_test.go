package icommands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIexit checks that iexit reports success only when the session is
// over: it said success when the zone refused the logout, or could not be
// reached, and forgot the token of a session that stayed valid.
func TestIexit(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(t *testing.T, s *session)
		code    int
		stderr  string // a part of it
		kept    bool   // the session token is still there
	}{
		{"ends the session", func(*testing.T, *session) {}, 0, "", false},
		{"zone unreachable", func(t *testing.T, s *session) { s.stop() }, 1, "did not end the session", true},
		{"denied by a rule", func(t *testing.T, s *session) {
			rule := "rules:\n  - name: stay\n    on: [logout]\n    when: pre\n    condition: 'true'\n    deny: '\"stay logged in\"'\n"
			if err := os.WriteFile(filepath.Join(s.dir, "zone", "rules", "stay.yaml"), []byte(rule), 0o600); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(20 * time.Second); !strings.Contains(s.must(t, "irule"), "stay"); {
				if time.Now().After(deadline) {
					t.Fatal("the rule was not loaded")
				}
				time.Sleep(100 * time.Millisecond)
			}
		}, 5, "stay logged in", true},
		{"session already over", func(t *testing.T, s *session) {
			if err := os.WriteFile(filepath.Join(s.env["ARCA_CONFIG_DIR"], sessionFile), []byte("not-a-token\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 0, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t)
			tc.prepare(t, s)
			r := s.run(t, "iexit")
			if r.code != tc.code || !strings.Contains(r.err, tc.stderr) {
				t.Errorf("iexit: exit %d, stderr %q; want %d and %q", r.code, r.err, tc.code, tc.stderr)
			}
			_, err := os.Stat(filepath.Join(s.env["ARCA_CONFIG_DIR"], sessionFile))
			if kept := err == nil; kept != tc.kept {
				t.Errorf("session token kept: %v, want %v", kept, tc.kept)
			}
		})
	}
}
