//go:build unix

package posix_test

import (
	"errors"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/resourcetest"
)

// TestFIFO checks that a FIFO in the vault is not a file and that opening it
// does not block.
func TestFIFO(t *testing.T) {
	ctx := t.Context()
	r := open(t)
	if err := syscall.Mkfifo(filepath.Join(r.Dir(), "fifo"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := r.Open(ctx, "fifo", 0); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("Open(fifo) = %v, want ErrNotFound", err)
	}
	if _, err := r.Checksum(ctx, "fifo"); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("Checksum(fifo) = %v, want ErrNotFound", err)
	}
	if _, err := r.Stat(ctx, "fifo"); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("Stat(fifo) = %v, want ErrNotFound", err)
	}
	resourcetest.Put(t, r, "ok", []byte("ok"))
	if keys := resourcetest.Keys(t, r); !slices.Equal(keys, []string{"ok"}) {
		t.Errorf("Walk = %q, want only ok", keys)
	}
}
