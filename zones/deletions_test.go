package zones

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources/faulty"
)

// syncBuffer is a log destination tests read while the zone writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logTo makes the zone log into a buffer the test reads.
func (e *faultEnv) logTo() *syncBuffer {
	var buf syncBuffer
	e.zone.log = slog.New(slog.NewTextHandler(&buf, nil))
	return &buf
}

// putTree puts n files below the collection name.
func (e *faultEnv) putTree(name string, n int) {
	e.t.Helper()
	if _, err := e.zone.MakeCollection(e.ctx, As(e.rods), e.path(name), false); err != nil {
		e.t.Fatal(err)
	}
	for i := range n {
		if err := e.put(fmt.Sprintf("%s/f%03d", name, i), "", []byte(fmt.Sprintf("file %d", i)), false); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *faultEnv) pendingDeletions() []catalog.Deletion {
	e.t.Helper()
	ds, err := e.cat.PendingDeletions(e.ctx, catalog.Deletion{}, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// TestRemovalCrashLeavesNoFiles is issue 23's item 10: a server killed
// between the catalog's removal of a tree (irm -r -f) and the deletion of
// its files left them in the vault until fsck --repair. The removal now
// records the files in its transaction, and the next start deletes them.
func TestRemovalCrashLeavesNoFiles(t *testing.T) {
	e := newFaultEnv(t)
	e.putTree("tree", 30)
	// The catalog commits the removal; the server dies before a file goes.
	reps, err := e.cat.RemoveCollection(e.ctx, e.path("tree"), true)
	if err != nil || len(reps) != 30 {
		t.Fatalf("remove: %d replicas, %v", len(reps), err)
	}
	if n := len(e.orphans()); n != 30 {
		t.Fatalf("%d files left by the crash, want 30", n)
	}
	// The next start.
	log := e.logTo()
	if err := e.zone.Recover(e.ctx); err != nil {
		t.Fatal(err)
	}
	if o := e.orphans(); len(o) != 0 {
		t.Errorf("after recovery %d files of removed replicas remain: %+v", len(o), o[0])
	}
	if d := e.pendingDeletions(); len(d) != 0 {
		t.Errorf("after recovery the catalog still records %d deletions", len(d))
	}
	if !strings.Contains(log.String(), "deleted_files=30") {
		t.Errorf("recovery does not say what it deleted:\n%s", log)
	}
	// A removal that runs to its end leaves no record behind.
	e.putTree("again", 3)
	if _, err := e.zone.Remove(e.ctx, As(e.rods), e.path("again"), true, true); err != nil {
		t.Fatal(err)
	}
	if d := e.pendingDeletions(); len(d) != 0 || len(e.orphans()) != 0 {
		t.Errorf("irm -r -f left %d records and %d files", len(d), len(e.orphans()))
	}
}

// brokenBody fails after some bytes, as a client that goes away does.
type brokenBody struct{ n int }

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errors.New("client went away")
	}
	n := min(len(p), b.n)
	b.n -= n
	return n, nil
}

// TestFailedCleanupsLoggedAndRetried: on a vault that refuses to delete (it
// turned read-only), a removal's file deletions and a failed write's
// partial file fail. Every failure is logged; the files stay recorded and
// go once the vault deletes again.
func TestFailedCleanupsLoggedAndRetried(t *testing.T) {
	e := newFaultEnv(t)
	e.putTree("tree", 5)
	f := e.fault(DefaultResource)
	log := e.logTo()
	f.Arm(faulty.Faults{FailRemoveAt: 1, Sticky: true})

	if _, err := e.zone.Remove(e.ctx, As(e.rods), e.path("tree"), true, true); err != nil {
		t.Fatal(err)
	}
	_, err := e.zone.Put(e.ctx, As(e.rods), PutRequest{Path: e.path("partial"), Size: -1}, &brokenBody{n: 100 << 10})
	if err == nil {
		t.Fatal("a put whose client went away succeeded")
	}
	if _, err := e.zone.Put(e.ctx, As(e.rods), PutRequest{Path: e.path("mismatch"), Size: -1, Checksum: "sha2:AAAA"},
		io.LimitReader(zeros{}, 1000)); !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("put with a wrong checksum: %v", err)
	}
	text := log.String()
	for what, want := range map[string]string{
		"removal":          `msg="replica removed from the catalog but its file remains; it is deleted again at the next start"`,
		"partial write":    `msg="partial file of a failed write not removed; it is deleted again later"`,
		"checksum refusal": `msg="file of a failed write not removed; it is deleted again later"`,
	} {
		if n := strings.Count(text, want); n == 0 || what == "removal" && n != 5 {
			t.Errorf("%s: %d log lines %s\n%s", what, n, want, text)
		}
	}
	left := len(e.orphans())
	if left != 7 {
		t.Errorf("%d files left on the refusing vault, want 7 (5 removed, a partial one, a refused one)", left)
	}
	if d := e.pendingDeletions(); len(d) != 7 {
		t.Errorf("%d deletions recorded, want 7: %+v", len(d), d)
	}
	// Still refusing: tried, logged, kept.
	if n, failed, err := e.zone.DeletePending(e.ctx); err != nil || n != 0 || failed != 7 {
		t.Errorf("DeletePending on a refusing vault: %d deleted, %d failed, %v", n, failed, err)
	}
	// The vault deletes again: the next pass (or start) cleans up.
	f.Disarm()
	if n, failed, err := e.zone.DeletePending(e.ctx); err != nil || n != 7 || failed != 0 {
		t.Errorf("DeletePending: %d deleted, %d failed, %v; want 7, 0", n, failed, err)
	}
	if o := e.orphans(); len(o) != 0 {
		t.Errorf("files left: %+v", o)
	}
	if d := e.pendingDeletions(); len(d) != 0 {
		t.Errorf("records left: %+v", d)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
