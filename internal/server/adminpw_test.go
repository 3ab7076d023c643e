package server_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/passwordhash"
	"github.com/arca-data/arca/internal/server"
)

// lockedBuffer is an io.Writer the server may write to while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startWithPassword runs the zone in dir until it serves, with
// ARCA_ADMIN_PASSWORD set to pw ("" for unset), and returns what it told
// the operator.
func startWithPassword(t *testing.T, dir, pw string) string {
	t.Helper()
	t.Setenv("ARCA_ADMIN_PASSWORD", pw)
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	cfg := server.ServerConfig{DataDir: dir, Addr: "127.0.0.1:0", Out: &out, Logger: discardLogger(),
		Ready: func(a net.Addr) { ready <- a }}
	go func() { done <- server.Run(ctx, cfg) }()
	select {
	case <-ready:
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	case err := <-done:
		t.Fatalf("the zone did not start: %v\n%s", err, out.String())
	case <-time.After(time.Minute):
		t.Fatal("the zone neither served nor failed in a minute")
	}
	return out.String()
}

// rodsHas reports whether rods's password is pw, read from the stopped
// zone's catalog.
func rodsHas(t *testing.T, dir, pw string) bool {
	t.Helper()
	cat, err := server.OpenCatalog(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	u, err := cat.User(context.Background(), catalog.UserID{Name: "rods", Zone: "tempZone"})
	if err != nil {
		t.Fatal(err)
	}
	return passwordhash.Check(u.PasswordHash, pw)
}

// TestAdminPasswordOnExistingZone is issue 23's item 8: the README's
// walk-through starts a zone without ARCA_ADMIN_PASSWORD, then with it.
// The variable replaces a password that is still the generated one, and
// is otherwise ignored with a word that says so and how to change it.
func TestAdminPasswordOnExistingZone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "arca-data")
	generatedFile := filepath.Join(dir, "admin-password")

	out := startWithPassword(t, dir, "")
	if !strings.Contains(out, "generated the password of rods") {
		t.Fatalf("first start:\n%s", out)
	}
	b, err := os.ReadFile(generatedFile)
	if err != nil {
		t.Fatal(err)
	}
	generated := strings.TrimSpace(string(b))

	// The walk-through's second start: the variable is heeded.
	out = startWithPassword(t, dir, "changeme")
	if !strings.Contains(out, "rods's password is now ARCA_ADMIN_PASSWORD's") {
		t.Errorf("second start does not say the password changed:\n%s", out)
	}
	if _, err := os.Stat(generatedFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the generated password's file is still there: %v", err)
	}
	if !rodsHas(t, dir, "changeme") || rodsHas(t, dir, generated) {
		t.Errorf("rods's password is not ARCA_ADMIN_PASSWORD's")
	}

	// The same password again: a restart, nothing to say.
	if out := startWithPassword(t, dir, "changeme"); strings.Contains(out, "ARCA_ADMIN_PASSWORD") {
		t.Errorf("a restart with the same password says:\n%s", out)
	}

	// Another one, once the password was chosen: ignored, and said so.
	out = startWithPassword(t, dir, "another")
	for _, want := range []string{"ARCA_ADMIN_PASSWORD is ignored: zone tempZone exists", "ipasswd", "iadmin moduser rods password"} {
		if !strings.Contains(out, want) {
			t.Errorf("start with another password does not say %q:\n%s", want, out)
		}
	}
	if !rodsHas(t, dir, "changeme") {
		t.Errorf("the ignored variable changed rods's password")
	}
}
