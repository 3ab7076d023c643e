package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAuditLogReopensOnSIGHUP rotates DIR/audit.log as logrotate does:
// move it away, send SIGHUP. The server keeps serving, and the records after
// the signal go to a new DIR/audit.log, those before it stay in the old one.
func TestAuditLogReopensOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a server")
	}
	tmp := t.TempDir()
	bin, data, work, cli := processSetup(t, tmp)
	if err := os.MkdirAll(filepath.Join(data, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	rule := `rules:
  - name: no-tmp
    on: [put]
    when: pre
    condition: object.name.endsWith(".tmp")
    deny: '"no temporary files: " + object.path'
`
	if err := os.WriteFile(filepath.Join(data, "rules", "no-tmp.yaml"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(work, 0o755)
	for _, name := range []string{"before.tmp", "after.tmp"} {
		if err := os.WriteFile(filepath.Join(work, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServer(t, bin, data, "127.0.0.1:0")
	cli.mustRun("iinit", "--host", "127.0.0.1", "--port", srv.port, "--ca", filepath.Join(data, "tls", "ca.pem"))

	if r := cli.run("iput", "before.tmp"); r.code != 5 {
		t.Fatalf("iput before.tmp: exit %d, want 5 (denied by a rule): %s", r.code, r.stderr)
	}
	logPath := filepath.Join(data, "audit.log")
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.log(), "audit log reopened") {
		if time.Now().After(deadline) {
			t.Fatalf("no reopen logged after SIGHUP:\n%s", tail(srv.log(), 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := cli.run("iput", "after.tmp"); r.code != 5 {
		t.Fatalf("iput after.tmp after SIGHUP: exit %d, want 5: %s", r.code, r.stderr)
	}

	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	old, cur := read(logPath+".1"), read(logPath)
	if !strings.Contains(old, "before.tmp") || strings.Contains(old, "after.tmp") {
		t.Errorf("rotated audit log:\n%s", old)
	}
	if !strings.Contains(cur, "after.tmp") || strings.Contains(cur, "before.tmp") {
		t.Errorf("new audit log:\n%s", cur)
	}
	if st, err := os.Stat(logPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("new audit log: %v, %v; want mode 0600", st, err)
	}
	// irule --audit reads the new file.
	if out := cli.mustRun("irule", "--audit", "--outcome", "deny"); !strings.Contains(out, "after.tmp") {
		t.Errorf("irule --audit after rotation:\n%s", out)
	}
}
