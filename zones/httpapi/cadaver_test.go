package httpapi_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/internal/testzone"
)

// TestCadaverWebDAV drives cadaver, the interactive WebDAV client, as a
// person would: make a collection, put, list, get, move, lock and unlock,
// delete; a file a rule refuses is refused. cadaver trusts only the
// system's certificate store, so it runs in a mount namespace of its own
// (unshare -rm) in which that store is the zone's CA; it logs in from
// ~/.netrc.
func TestCadaverWebDAV(t *testing.T) {
	bin, err := exec.LookPath("cadaver")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("cadaver is not installed: source .ci/services/06-clients.sh")
		}
		t.Skip("cadaver is not installed: source .ci/services/06-clients.sh (or apt-get install cadaver)")
	}
	const store = "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(store); err != nil {
		t.Skipf("no system certificate store at %s to stand in for", store)
	}
	if err := exec.Command("unshare", "-rm", "true").Run(); err != nil {
		t.Skipf("no user and mount namespaces here (unshare -rm: %v)", err)
	}
	e := startEnv(t)
	home := t.TempDir()
	host := strings.TrimPrefix(e.base, "https://")
	host = host[:strings.LastIndex(host, ":")]
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte("machine "+host+"\nlogin rods\npassword "+testzone.AdminPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "hello.txt"), []byte("hello from cadaver\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "draft.tmp"), []byte("scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := strings.Join([]string{
		"mkcol docs", "cd docs", "put hello.txt", "ls", "get hello.txt back.txt",
		"move hello.txt renamed.txt", "lock renamed.txt", "unlock renamed.txt",
		"put draft.tmp", "ls", "delete renamed.txt", "ls", "quit",
	}, "\n") + "\n"
	cmd := exec.Command("unshare", "-rm", "sh", "-c", `mount --bind "$ARCA_CA" `+store+` && exec "$CADAVER" "$ARCA_DAV"`)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "HOME="+home, "ARCA_CA="+e.z.CAFile, "CADAVER="+bin, "ARCA_DAV="+e.base+"/dav/tempZone/home/rods/")
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("cadaver: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("cadaver hangs:\n%s", out.String())
	}
	log := out.String()
	for _, want := range []string{
		"Creating `docs': succeeded.",
		"Uploading hello.txt to `/dav/tempZone/home/rods/docs/hello.txt':",
		"hello.txt                             19",
		"Downloading `/dav/tempZone/home/rods/docs/hello.txt' to back.txt:",
		"Moving `/dav/tempZone/home/rods/docs/hello.txt' to `/dav/tempZone/home/rods/docs/renamed.txt':  succeeded.",
		"Locking `renamed.txt': succeeded.",
		"Unlocking `renamed.txt': succeeded.",
		"Deleting `renamed.txt': succeeded.",
		"collection is empty.",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("cadaver did not say %q:\n%s", want, log)
		}
	}
	// The rule no-tmp-files refuses it, and no listing shows it.
	if !strings.Contains(log, "draft.tmp': [.. failed:\n403 Forbidden") || strings.Contains(log, "        draft.tmp") {
		t.Errorf("a file the rule refuses went up:\n%s", log)
	}
	if b, err := os.ReadFile(filepath.Join(work, "back.txt")); err != nil || string(b) != "hello from cadaver\n" {
		t.Errorf("what cadaver got back: %q, %v", b, err)
	}
}
