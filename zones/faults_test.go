package zones

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/resources/faulty"
	"github.com/arca-data/arca/resources/posix"
	"github.com/arca-data/arca/resources/resourcetest"
)

// faultEnv is a zone whose posix resources are wrapped in faulty, so tests
// can make the Nth write, commit or read of a resource fail.
type faultEnv struct {
	t      *testing.T
	ctx    context.Context
	zone   *Zone
	cat    catalog.Catalog
	rods   catalog.User
	dir    string
	mu     sync.Mutex
	faults map[string]*faulty.Resource // by resource name
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	e := &faultEnv{t: t, ctx: ctx, cat: cat, dir: dir, faults: map[string]*faulty.Resource{}}
	e.zone = New(cat, Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Drivers: faultyDrivers{Registry: drivers.Default(), open: func(rec catalog.Resource) (resources.Resource, error) {
			if rec.Type != "posix" {
				return drivers.Default().Open(rec)
			}
			p, err := posix.Open(rec.Location)
			if err != nil {
				return nil, err
			}
			f := faulty.Wrap(p, faulty.Faults{})
			e.mu.Lock()
			e.faults[rec.Name] = f
			e.mu.Unlock()
			return f, nil
		}},
	})
	if err := e.zone.Bootstrap(ctx, BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	if e.rods, err = cat.User(ctx, catalog.UserID{Name: DefaultAdmin, Zone: DefaultZone}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *faultEnv) mkresc(name, typ string) {
	e.t.Helper()
	loc := ""
	if typ == "posix" {
		loc = filepath.Join(e.dir, name)
	}
	if _, err := e.zone.MakeResource(e.ctx, As(e.rods), catalog.Resource{Name: name, Type: typ, Location: loc}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *faultEnv) child(parent, child string) {
	e.t.Helper()
	if _, err := e.zone.AddChild(e.ctx, As(e.rods), parent, child, ""); err != nil {
		e.t.Fatal(err)
	}
}

// fault returns the faulty wrapper of resource name, opening it if needed.
func (e *faultEnv) fault(name string) *faulty.Resource {
	e.t.Helper()
	if _, _, err := e.zone.resource(e.ctx, name); err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.faults[name]
}

func (e *faultEnv) path(name string) catalog.Path {
	return catalog.MustPath(e.zone.Home(DefaultAdmin).String() + "/" + name)
}

func (e *faultEnv) put(name, resc string, data []byte, overwrite bool) error {
	_, err := e.zone.Put(e.ctx, As(e.rods), PutRequest{Path: e.path(name), Size: int64(len(data)), Resource: resc, Overwrite: overwrite},
		bytes.NewReader(data))
	return err
}

// checkGoodIsGood checks the invariant that matters: every replica marked
// good holds exactly the bytes its checksum names, read straight from the
// vault below the fault injection.
func (e *faultEnv) checkGoodIsGood() {
	e.t.Helper()
	rescs, err := e.cat.ListResources(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range rescs {
		if r.Type != "posix" {
			continue
		}
		vault, err := posix.Open(r.Location)
		if err != nil {
			e.t.Fatal(err)
		}
		err = e.cat.ReplicasOn(e.ctx, r.Name, func(rep catalog.Replica) error {
			if rep.Status != catalog.ReplicaGood {
				return nil
			}
			sum, err := vault.Checksum(e.ctx, rep.PhysicalPath)
			if err != nil {
				e.t.Errorf("good replica %d of object %d on %s: %v", rep.Number, rep.ObjectID, r.Name, err)
			} else if sum != rep.Checksum {
				e.t.Errorf("good replica %d of object %d on %s holds %s, the catalog says %s", rep.Number, rep.ObjectID, r.Name, sum, rep.Checksum)
			}
			return nil
		})
		vault.Close()
		if err != nil {
			e.t.Fatal(err)
		}
	}
}

// checkConverged checks that every object has one good replica on each of
// the leaves, all with the same checksum, and nothing else.
func (e *faultEnv) checkConverged(names []string, leaves ...string) {
	e.t.Helper()
	for _, n := range names {
		obj, err := e.cat.DataObject(e.ctx, e.path(n))
		if err != nil {
			e.t.Fatal(err)
		}
		on := map[string]string{}
		for _, r := range obj.Replicas {
			if r.Status != catalog.ReplicaGood {
				e.t.Errorf("%s: replica %d on %s is %s", n, r.Number, r.Resource, r.Status)
				continue
			}
			on[r.Resource] = r.Checksum
		}
		for _, l := range leaves {
			if on[l] == "" {
				e.t.Errorf("%s: no good replica on %s (replicas %+v)", n, l, obj.Replicas)
			}
			if on[l] != on[leaves[0]] {
				e.t.Errorf("%s: replicas on %s and %s differ", n, l, leaves[0])
			}
		}
	}
}

// Faults during writes to a replication resource leave no good replica
// that is not, and irepl -a makes the replicas converge.
func TestFaultsReplicationConverges(t *testing.T) {
	e := newFaultEnv(t)
	e.mkresc("a", "posix")
	e.mkresc("b", "posix")
	e.mkresc("rep", "replication")
	e.child("rep", "a")
	e.child("rep", "b")
	fa, fb := e.fault("a"), e.fault("b")

	var names []string
	for i, tc := range []struct {
		name string
		arm  func()
	}{
		{"commit on b fails", func() { fb.Arm(faulty.Faults{FailCommitAt: 1, Err: syscall.EIO}) }},
		{"write on b fails", func() { fb.Arm(faulty.Faults{FailWriteAt: 1, Err: syscall.ENOSPC}) }},
		{"create on b fails", func() { fb.Arm(faulty.Faults{FailCreateAt: 1}) }},
		{"read of the source fails", func() { fa.Arm(faulty.Faults{FailReadAt: 1, Err: syscall.EIO}) }},
		{"b full from now on", func() { fb.Arm(faulty.Faults{FailWriteAt: 1, Sticky: true, Err: syscall.ENOSPC}) }},
		{"commit on a fails", func() { fa.Arm(faulty.Faults{FailCommitAt: 1, Err: syscall.EIO}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("obj%d", i)
			tc.arm()
			err := e.put(name, "rep", resourcetest.Data(uint64(i), 256<<10+i), false)
			fa.Disarm()
			fb.Disarm()
			if err != nil {
				// Only a failure of the primary write fails the put, and
				// then nothing of the object is left.
				if _, serr := e.cat.DataObject(e.ctx, e.path(name)); !errors.Is(serr, catalog.ErrNotFound) {
					t.Errorf("put failed (%v) but the object is there: %v", err, serr)
				}
				return
			}
			names = append(names, name)
		})
		e.checkGoodIsGood()
	}
	// An overwrite that fails on its copy leaves the other replica stale,
	// never good with old bytes.
	fb.Arm(faulty.Faults{FailCommitAt: 1})
	if err := e.put(names[0], "rep", []byte("new bytes"), true); err != nil {
		t.Fatal(err)
	}
	fb.Disarm()
	e.checkGoodIsGood()

	// The faults did leave replicas missing or stale, and a put failed.
	incomplete := 0
	for _, n := range names {
		obj, err := e.cat.DataObject(e.ctx, e.path(n))
		if err != nil {
			t.Fatal(err)
		}
		if len(obj.Good()) < 2 {
			incomplete++
		}
	}
	if incomplete < 4 || len(names) != 5 {
		t.Fatalf("%d of %d objects lack a good replica before the repair; want 4 of 5 (the faults did not act)", incomplete, len(names))
	}
	for _, n := range names {
		err := e.zone.Replicate(e.ctx, As(e.rods), ReplicateRequest{Path: e.path(n), UpdateStale: true}, func(ch ReplicaChange) error {
			if ch.Err != nil {
				t.Errorf("irepl -a %s: %v", n, ch.Err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.checkGoodIsGood()
	e.checkConverged(names, "a", "b")
	if got := e.orphans(); len(got) != 0 {
		t.Errorf("files without a replica: %+v", got)
	}
}

func (e *faultEnv) orphans() []Orphan {
	e.t.Helper()
	o, err := e.zone.FindOrphans(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// fsck finds bytes changed or lost behind the catalog's back, marks those
// replicas stale, and repairs them from a good replica.
func TestFsckRepairs(t *testing.T) {
	e := newFaultEnv(t)
	e.mkresc("a", "posix")
	e.mkresc("b", "posix")
	e.mkresc("rep", "replication")
	e.child("rep", "a")
	e.child("rep", "b")
	names := []string{"x", "y", "z"}
	for i, n := range names {
		if err := e.put(n, "rep", resourcetest.Data(uint64(i), 10000), false); err != nil {
			t.Fatal(err)
		}
	}
	replicaOn := func(n, resc string) catalog.Replica {
		obj, err := e.cat.DataObject(e.ctx, e.path(n))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range obj.Replicas {
			if r.Resource == resc {
				return r
			}
		}
		t.Fatalf("%s has no replica on %s", n, resc)
		return catalog.Replica{}
	}
	// x: same size, other bytes on a; y: gone from b; z: truncated on a.
	file := func(n, resc string) string {
		return filepath.Join(e.dir, resc, filepath.FromSlash(replicaOn(n, resc).PhysicalPath))
	}
	if err := os.WriteFile(file("x", "a"), resourcetest.Data(99, 10000), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file("y", "b")); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file("z", "a"), 10); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(e.dir, "b", "stray"), []byte("?"), 0o600)

	var found []Finding
	collect := func(f Finding) error { found = append(found, f); return nil }
	if err := e.zone.Fsck(e.ctx, As(e.rods), FsckRequest{VerifyChecksums: true}, collect); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, f := range found {
		kinds[f.Kind]++
	}
	want := map[string]int{FindChecksumMismatch: 1, FindMissing: 1, FindSizeMismatch: 1, FindOrphan: 1}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("fsck found %v, want %v: %+v", kinds, want, found)
	}
	found = nil
	if err := e.zone.Fsck(e.ctx, As(e.rods), FsckRequest{VerifyChecksums: true, Repair: true}, collect); err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		if f.Kind == FindRepair && !f.Repaired {
			t.Errorf("not repaired: %+v", f)
		}
	}
	e.checkGoodIsGood()
	e.checkConverged(names, "a", "b")
	found = nil
	if err := e.zone.Fsck(e.ctx, As(e.rods), FsckRequest{VerifyChecksums: true}, collect); err != nil {
		t.Fatal(err)
	}
	if len(found) != 0 {
		t.Errorf("after the repair fsck finds %+v", found)
	}
}

// A copy whose source bytes are not what the catalog says is refused, and
// the source is marked stale: a bad replica is never copied as good.
func TestCopyOfBadSourceRefused(t *testing.T) {
	e := newFaultEnv(t)
	e.mkresc("a", "posix")
	if err := e.put("x", DefaultResource, []byte("the real bytes"), false); err != nil {
		t.Fatal(err)
	}
	obj, _ := e.cat.DataObject(e.ctx, e.path("x"))
	src := obj.Replicas[0]
	if err := os.WriteFile(filepath.Join(e.dir, "vault", filepath.FromSlash(src.PhysicalPath)), []byte("the fake bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	var chErr error
	err := e.zone.Replicate(e.ctx, As(e.rods), ReplicateRequest{Path: e.path("x"), Dest: "a"}, func(ch ReplicaChange) error {
		chErr = ch.Err
		return nil
	})
	if err != nil || !errors.Is(chErr, ErrChecksumMismatch) {
		t.Fatalf("irepl of a corrupt source: %v / %v, want a checksum mismatch", err, chErr)
	}
	obj, _ = e.cat.DataObject(e.ctx, e.path("x"))
	if len(obj.Replicas) != 1 || obj.Replicas[0].Status != catalog.ReplicaStale {
		t.Errorf("after the refused copy: %+v, want only the source, stale", obj.Replicas)
	}
	e.checkGoodIsGood()
	if got := e.orphans(); len(got) != 0 {
		t.Errorf("files without a replica: %+v", got)
	}
	// A read now says why nothing can be read.
	_, _, _, err = e.zone.Open(e.ctx, As(e.rods), e.path("x"), 0)
	if !errors.Is(err, resources.ErrUnavailable) {
		t.Errorf("read of an object with only a stale replica: %v", err)
	}
}

// TestGetPassesOverWrongSize checks that a read, with another good replica
// to fall back on, does not send a replica whose file has not the size the
// catalog says (the client would fail at the end) but reads the other.
func TestGetPassesOverWrongSize(t *testing.T) {
	e := newFaultEnv(t)
	e.mkresc("a", "posix")
	e.mkresc("b", "posix")
	e.mkresc("rep", "replication")
	e.child("rep", "a")
	e.child("rep", "b")
	data := resourcetest.Data(9, 64<<10)
	if err := e.put("x.dat", "rep", data, false); err != nil {
		t.Fatal(err)
	}
	_, first, rc, err := e.zone.Open(e.ctx, As(e.rods), e.path("x.dat"), 0)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	// Cut the file of the replica a read picks.
	if err := os.Truncate(filepath.Join(e.dir, first.Resource, first.PhysicalPath), 100); err != nil {
		t.Fatal(err)
	}
	_, got, rc, err := e.zone.Open(e.ctx, As(e.rods), e.path("x.dat"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Resource == first.Resource || !bytes.Equal(b, data) {
		t.Errorf("read replica %d on %s, %d bytes; want the other replica than %s, whole", got.Number, got.Resource, len(b), first.Resource)
	}
}

// faultyDrivers opens posix resources wrapped for fault injection.
type faultyDrivers struct {
	*drivers.Registry
	open func(catalog.Resource) (resources.Resource, error)
}

func (d faultyDrivers) Open(rec catalog.Resource) (resources.Resource, error) { return d.open(rec) }
