package icommands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFsckSummaryOnce checks that arca fsck prints its summary once: on
// stdout after a clean run, as the error on stderr when findings are left
// (issue 23 item 3: it was on both).
func TestFsckSummaryOnce(t *testing.T) {
	s := newSession(t)
	r := s.run(t, "fsck")
	if r.code != 0 || strings.Count(r.out, "fsck: 0 finding(s)") != 1 || r.err != "" {
		t.Errorf("clean run: exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "zone", "vault", "stray.bin"), []byte("stray"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.run(t, "fsck")
	if r.code != 1 || !strings.Contains(r.out, "orphan") || strings.Contains(r.out, "finding(s)") ||
		strings.Count(r.err, "1 finding(s), 1 left unrepaired") != 1 {
		t.Errorf("a finding left: exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err)
	}
}
