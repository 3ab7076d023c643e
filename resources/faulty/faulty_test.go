package faulty_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/faulty"
	"github.com/arca-data/arca/resources/posix"
	"github.com/arca-data/arca/resources/resourcetest"
)

// wrap returns a faulty resource over a fresh posix vault, and the vault.
func wrap(t *testing.T, f faulty.Faults) (*faulty.Resource, *posix.Resource) {
	t.Helper()
	vault, err := posix.Open(filepath.Join(t.TempDir(), "vault"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vault.Close() })
	return faulty.Wrap(vault, f), vault
}

// checkEmpty checks that the vault directory holds nothing at all: no file,
// no partial file, no directory.
func checkEmpty(t *testing.T, vault *posix.Resource) {
	t.Helper()
	entries, err := os.ReadDir(vault.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("vault holds %v, want nothing", entries)
	}
}

// TestTransparent runs the conformance suite through a disarmed wrapper.
func TestTransparent(t *testing.T) {
	resourcetest.Run(t, func(t *testing.T) resources.Resource {
		r, _ := wrap(t, faulty.Faults{})
		return r
	})
}

func TestFailWrite(t *testing.T) {
	r, vault := wrap(t, faulty.Faults{FailWriteAt: 3})
	w, err := r.Create(t.Context(), "a/b/k")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		_, err := w.Write([]byte("chunk"))
		if i < 3 && err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if i >= 3 && !errors.Is(err, faulty.ErrInjected) {
			t.Errorf("write %d: %v, want ErrInjected", i, err)
		}
	}
	if _, err := w.Commit(); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("Commit after a failed write: %v, want ErrInjected", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort: %v", err)
	}
	if _, err := r.Stat(t.Context(), "a/b/k"); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("Stat after a failed write: %v, want ErrNotFound", err)
	}
	checkEmpty(t, vault)
	if c := r.Counts(); c.Writes != 3 || c.Injected != 1 || c.Commits != 0 {
		t.Errorf("Counts = %+v, want 3 writes (the 4th never got past the failed writer), 1 injected", c)
	}
}

func TestFailCommit(t *testing.T) {
	r, vault := wrap(t, faulty.Faults{FailCommitAt: 2, Err: syscall.EIO})
	put := func(key string) error {
		w, err := r.Create(t.Context(), key)
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte(key)); err != nil {
			return err
		}
		_, err = w.Commit()
		return err
	}
	if err := put("one"); err != nil {
		t.Fatal(err)
	}
	err := put("dir/two")
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("second commit: %v, want EIO", err)
	}
	t.Logf("injected: %v", err)
	if err := put("three"); err != nil {
		t.Fatalf("third commit (faults are one-shot): %v", err)
	}
	if keys := resourcetest.Keys(t, vault); !slices.Equal(keys, []string{"one", "three"}) {
		t.Errorf("vault lists %q, want one and three", keys)
	}
	if _, err := os.Lstat(filepath.Join(vault.Dir(), "dir")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed commit left its directory: %v", err)
	}
}

func TestFailCreate(t *testing.T) {
	r, vault := wrap(t, faulty.Faults{FailCreateAt: 1})
	if _, err := r.Create(t.Context(), "x/y"); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("Create: %v, want ErrInjected", err)
	}
	checkEmpty(t, vault)
	resourcetest.Put(t, r, "x/y", []byte("second try"))
}

func TestSticky(t *testing.T) {
	r, vault := wrap(t, faulty.Faults{FailWriteAt: 2, Sticky: true, Err: syscall.ENOSPC})
	resourcetest.Put(t, r, "first", []byte("fits"))
	for _, key := range []string{"second", "third"} {
		w, err := r.Create(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("full")); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("Write(%q): %v, want ENOSPC", key, err)
		}
		w.Abort()
	}
	if keys := resourcetest.Keys(t, vault); !slices.Equal(keys, []string{"first"}) {
		t.Errorf("vault lists %q", keys)
	}
	r.Disarm()
	resourcetest.Put(t, r, "after", []byte("space again"))
}

func TestFailOpenAndRead(t *testing.T) {
	ctx := t.Context()
	r, _ := wrap(t, faulty.Faults{})
	data := resourcetest.Data(1, 3<<20)
	resourcetest.Put(t, r, "f", data)

	r.Arm(faulty.Faults{FailOpenAt: 1})
	if _, err := r.Open(ctx, "f", 0); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("first Open: %v, want ErrInjected", err)
	}
	if _, err := r.Checksum(ctx, "f"); err != nil {
		t.Errorf("Checksum, the second open: %v", err)
	}

	r.Arm(faulty.Faults{FailReadAt: 2})
	rc, err := r.Open(ctx, "f", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 1<<20)
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatalf("first read: %v", err)
	}
	if _, err := rc.Read(buf); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("second read: %v, want ErrInjected", err)
	}
	// A failed read loses nothing: the rest follows.
	rest, err := io.ReadAll(rc)
	if err != nil || len(rest) != len(data)-len(buf) {
		t.Errorf("rest after the failed read: %d bytes, %v; want %d", len(rest), err, len(data)-len(buf))
	}
}

// TestConcurrent counts writes over many writers at once: exactly one write
// fails, and only its file is missing.
func TestConcurrent(t *testing.T) {
	const writers, chunks = 16, 20
	r, vault := wrap(t, faulty.Faults{FailWriteAt: writers * chunks / 2})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	for i := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("w/%02d", i)
			w, err := r.Create(t.Context(), key)
			if err != nil {
				t.Error(err)
				return
			}
			for range chunks {
				if _, err := w.Write([]byte("0123456789")); err != nil {
					if !errors.Is(err, faulty.ErrInjected) {
						t.Errorf("Write(%q): %v", key, err)
					}
					mu.Lock()
					failed = append(failed, key)
					mu.Unlock()
					return
				}
			}
			if _, err := w.Commit(); err != nil {
				t.Errorf("Commit(%q): %v", key, err)
			}
		})
	}
	wg.Wait()
	if len(failed) != 1 {
		t.Fatalf("failed writers: %q, want exactly one", failed)
	}
	keys := resourcetest.Keys(t, vault)
	if len(keys) != writers-1 || slices.Contains(keys, failed[0]) {
		t.Errorf("vault lists %q, want all but %q", keys, failed[0])
	}
	if c := r.Counts(); c.Injected != 1 || c.Commits != writers-1 {
		t.Errorf("Counts = %+v", c)
	}
}

func TestArmRestartsCounts(t *testing.T) {
	r, _ := wrap(t, faulty.Faults{FailCommitAt: 2})
	resourcetest.Put(t, r, "a", []byte("a"))
	r.Arm(faulty.Faults{FailCommitAt: 2})
	resourcetest.Put(t, r, "b", []byte("b")) // the first commit of the new setting
	if c := r.Counts(); c.Commits != 1 || c.Creates != 1 || c.Writes != 1 {
		t.Errorf("Counts after Arm and one Put = %+v", c)
	}
	if r.Unwrap() == nil {
		t.Error("Unwrap() = nil")
	}
}

// TestFailRemove: a failed Remove or Abort leaves the file, as a vault
// that turned read-only would.
func TestFailRemove(t *testing.T) {
	r, vault := wrap(t, faulty.Faults{FailRemoveAt: 1, Sticky: true})
	w, err := r.Create(t.Context(), "done")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(t.Context(), "done"); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("Remove: %v, want ErrInjected", err)
	}
	partial, err := r.Create(t.Context(), "partial")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := partial.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := partial.Abort(); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("Abort: %v, want ErrInjected", err)
	}
	if _, err := r.Stat(t.Context(), "done"); err != nil {
		t.Errorf("the file a failed Remove left: %v", err)
	}
	if c := r.Counts(); c.Removes != 2 || c.Injected != 2 {
		t.Errorf("counts %+v", c)
	}
	r.Disarm()
	if err := r.Remove(t.Context(), "done"); err != nil {
		t.Errorf("Remove once disarmed: %v", err)
	}
	if err := partial.Abort(); err != nil {
		t.Errorf("Abort once disarmed: %v", err)
	}
	checkEmpty(t, vault)
}

// TestWriteDelay: writes are slowed down, and one whose context ends while
// it waits fails, leaving no file.
func TestWriteDelay(t *testing.T) {
	const delay = 30 * time.Millisecond
	r, vault := wrap(t, faulty.Faults{WriteDelay: delay})
	w, err := r.Create(t.Context(), "slow")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 3 {
		if _, err := w.Write([]byte("chunk")); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 3*delay {
		t.Errorf("3 writes took %v, want at least %v", took, 3*delay)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), delay/3)
	defer cancel()
	w, err = r.Create(ctx, "cut")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("chunk")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write past its context's deadline: %v", err)
	}
	if _, err := w.Commit(); err == nil {
		t.Error("commit after a failed write succeeded")
	}
	if _, err := vault.Stat(t.Context(), "cut"); err == nil {
		t.Error("the cut write left a file")
	}
}
