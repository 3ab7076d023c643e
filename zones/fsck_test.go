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
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/resources/resourcetest"
)

// fsckCatalog is a real catalog with faults and hooks on the two reads fsck
// makes: ReplicasOn and DataObjectByID.
type fsckCatalog struct {
	catalog.Catalog
	mu    sync.Mutex
	calls int // ReplicasOn calls so far
	// replicasOn, if set, runs before ReplicasOn call number call (from 1)
	// and may fail it.
	replicasOn func(call int) error
	// afterReplicasOn, if set, runs after ReplicasOn call number call.
	afterReplicasOn func(call int)
	// dataObjectByID, if set, may fail DataObjectByID.
	dataObjectByID func(id catalog.ID) error
}

func (c *fsckCatalog) ReplicasOn(ctx context.Context, resource string, fn func(catalog.Replica) error) error {
	c.mu.Lock()
	c.calls++
	call, before, after := c.calls, c.replicasOn, c.afterReplicasOn
	c.mu.Unlock()
	if before != nil {
		if err := before(call); err != nil {
			return err
		}
	}
	err := c.Catalog.ReplicasOn(ctx, resource, fn)
	if after != nil {
		after(call)
	}
	return err
}

func (c *fsckCatalog) DataObjectByID(ctx context.Context, id catalog.ID) (catalog.DataObject, error) {
	c.mu.Lock()
	hook := c.dataObjectByID
	c.mu.Unlock()
	if hook != nil {
		if err := hook(id); err != nil {
			return catalog.DataObject{}, err
		}
	}
	return c.Catalog.DataObjectByID(ctx, id)
}

func (c *fsckCatalog) set(f func(c *fsckCatalog)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = 0
	c.replicasOn, c.afterReplicasOn, c.dataObjectByID = nil, nil, nil
	f(c)
}

// fsckEnv is a zone on a SQLite catalog (wrapped in fsckCatalog) with one
// POSIX resource, "f", that the tests check.
type fsckEnv struct {
	tb    testing.TB
	ctx   context.Context
	zone  *Zone
	cat   *fsckCatalog
	rods  catalog.User
	vault string // of resource f
	data  map[string][]byte
}

const fsckResc = "f"

func newFsckEnv(tb testing.TB) *fsckEnv {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	inner, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { inner.Close() })
	cat := &fsckCatalog{Catalog: inner}
	e := &fsckEnv{tb: tb, ctx: ctx, cat: cat, vault: filepath.Join(dir, fsckResc), data: map[string][]byte{}}
	e.zone = New(cat, Options{Drivers: drivers.Default(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := e.zone.Bootstrap(ctx, BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		tb.Fatal(err)
	}
	if e.rods, err = inner.User(ctx, catalog.UserID{Name: DefaultAdmin, Zone: DefaultZone}); err != nil {
		tb.Fatal(err)
	}
	if _, err := e.zone.MakeResource(ctx, As(e.rods), catalog.Resource{Name: fsckResc, Type: "posix", Location: e.vault}); err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(e.vault, 0o700); err != nil {
		tb.Fatal(err)
	}
	return e
}

func (e *fsckEnv) path(name string) catalog.Path {
	return catalog.MustPath(e.zone.Home(DefaultAdmin).String() + "/" + name)
}

// put writes name on f through the zone, as iput does.
func (e *fsckEnv) put(name string, seed uint64, overwrite bool) {
	e.tb.Helper()
	data := resourcetest.Data(seed, 1000+int(seed%100))
	if _, err := e.zone.Put(e.ctx, As(e.rods), PutRequest{Path: e.path(name), Size: int64(len(data)), Resource: fsckResc, Overwrite: overwrite},
		bytes.NewReader(data)); err != nil {
		e.tb.Fatal(err)
	}
	e.data[name] = data
}

func (e *fsckEnv) replica(name string) catalog.Replica {
	e.tb.Helper()
	obj, err := e.cat.DataObject(e.ctx, e.path(name))
	if err != nil {
		e.tb.Fatal(err)
	}
	for _, r := range obj.Replicas {
		if r.Resource == fsckResc {
			return r
		}
	}
	e.tb.Fatalf("%s has no replica on %s", name, fsckResc)
	return catalog.Replica{}
}

// stray writes files no replica points to and returns their keys.
func (e *fsckEnv) stray(n int) []string {
	e.tb.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("stray/d%02d/s%05d", i%10, i)
		file := filepath.Join(e.vault, filepath.FromSlash(keys[i]))
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			e.tb.Fatal(err)
		}
		if err := os.WriteFile(file, []byte("stray"), 0o600); err != nil {
			e.tb.Fatal(err)
		}
	}
	return keys
}

func (e *fsckEnv) exists(key string) bool {
	_, err := os.Stat(filepath.Join(e.vault, filepath.FromSlash(key)))
	return err == nil
}

// checkCommitted checks that every object put holds its bytes on f, in the
// file of a good replica.
func (e *fsckEnv) checkCommitted() {
	e.tb.Helper()
	for name, want := range e.data {
		r := e.replica(name)
		if r.Status != catalog.ReplicaGood {
			e.tb.Errorf("%s: replica %d is %s", name, r.Number, r.Status)
		}
		got, err := os.ReadFile(filepath.Join(e.vault, filepath.FromSlash(r.PhysicalPath)))
		if err != nil {
			e.tb.Errorf("%s: %v", name, err)
		} else if !bytes.Equal(got, want) {
			e.tb.Errorf("%s: the file of replica %d does not hold the bytes put", name, r.Number)
		}
	}
}

func (e *fsckEnv) fsck(ctx context.Context, req FsckRequest) ([]Finding, error) {
	var found []Finding
	req.Resource = fsckResc
	err := e.zone.Fsck(ctx, As(e.rods), req, func(f Finding) error {
		found = append(found, f)
		return nil
	})
	return found, err
}

func fsckKinds(found []Finding) map[string]int {
	k := map[string]int{}
	for _, f := range found {
		k[f.Kind]++
	}
	return k
}

// A failed catalog read never leads to a deletion: neither the first pass
// over the replicas nor the re-check of the orphans that follows it.
func TestFsckCatalogFailureRemovesNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		failOn  int  // ReplicasOn call that fails
		wantErr bool // else an unrepaired finding
	}{
		{"first pass", 1, true},
		{"orphan re-check", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFsckEnv(t)
			for i := range 5 {
				e.put(fmt.Sprintf("o%d", i), uint64(i), false)
			}
			strays := e.stray(20)
			boom := errors.New("database is locked")
			e.cat.set(func(c *fsckCatalog) {
				c.replicasOn = func(call int) error {
					if call == tc.failOn {
						return boom
					}
					return nil
				}
			})
			found, err := e.fsck(e.ctx, FsckRequest{Repair: true})
			if tc.wantErr {
				if !errors.Is(err, boom) {
					t.Errorf("fsck returned %v, want %v", err, boom)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if k := fsckKinds(found); fmt.Sprint(k) != fmt.Sprint(map[string]int{FindUnreadable: 1}) {
					t.Errorf("findings %v, want one unreadable: %+v", k, found)
				}
			}
			for _, f := range found {
				if f.Repaired {
					t.Errorf("repaired although the check failed: %+v", f)
				}
			}
			for _, k := range strays {
				if !e.exists(k) {
					t.Errorf("%s was removed although the catalog check failed", k)
				}
			}
			e.checkCommitted()

			// Once the catalog answers, the same run finds and removes them.
			e.cat.set(func(c *fsckCatalog) { c.replicasOn = nil })
			found, err = e.fsck(e.ctx, FsckRequest{Repair: true})
			if err != nil {
				t.Fatal(err)
			}
			if k := fsckKinds(found); k[FindOrphan] != len(strays) || len(k) != 1 {
				t.Errorf("findings %v, want %d orphans", k, len(strays))
			}
			for _, k := range strays {
				if e.exists(k) {
					t.Errorf("orphan %s was not removed", k)
				}
			}
			e.checkCommitted()
		})
	}
}

// Orphans are found and removed with --repair; the files of committed
// replicas, of a write in progress (an intermediate replica) and of a file
// registered after the first catalog pass (ireg during fsck) are not.
func TestFsckOrphansRemoved(t *testing.T) {
	e := newFsckEnv(t)
	for i := range 10 {
		e.put(fmt.Sprintf("o%d", i), uint64(i), false)
	}
	e.put("o3", 33, true) // an overwrite leaves no file behind
	strays := e.stray(30)

	// A write in progress: its replica is registered, its file half written.
	_, inter, err := e.cat.BeginReplica(e.ctx, catalog.NewReplica{Path: e.path("writing"), Owner: e.rods.UserID(),
		Resource: fsckResc, PhysicalPath: "home/rods/writing.0001", Holder: "someone", LeaseExpiry: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.vault, "home", "rods", "writing.0001"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}

	// A stray file that ireg registers while fsck runs, after its first pass.
	late := strays[0]
	strays = strays[1:]
	e.cat.set(func(c *fsckCatalog) {
		c.afterReplicasOn = func(call int) {
			if call != 1 {
				return
			}
			err := e.cat.Catalog.Register(e.ctx, []catalog.RegisteredObject{{Path: e.path("registered"), Owner: e.rods.UserID(),
				Replicas: []catalog.RegisteredReplica{{Resource: fsckResc, PhysicalPath: late, Size: 5}}}}, false)
			if err != nil {
				t.Error(err)
			}
		}
	})

	found, err := e.fsck(e.ctx, FsckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if k := fsckKinds(found); k[FindOrphan] != len(strays) || len(k) != 1 {
		t.Errorf("findings %v, want %d orphans: %+v", k, len(strays), found)
	}
	for _, k := range append(strays, late) {
		if !e.exists(k) {
			t.Errorf("%s removed without --repair", k)
		}
	}

	e.cat.set(func(c *fsckCatalog) {})
	found, err = e.fsck(e.ctx, FsckRequest{Repair: true, VerifyChecksums: true})
	if err != nil {
		t.Fatal(err)
	}
	reported := map[string]bool{}
	for _, f := range found {
		if f.Kind != FindOrphan || !f.Repaired {
			t.Errorf("unexpected finding %+v", f)
		}
		reported[f.PhysicalPath] = true
	}
	for _, k := range strays {
		if !reported[k] {
			t.Errorf("orphan %s not reported", k)
		}
		if e.exists(k) {
			t.Errorf("orphan %s not removed", k)
		}
	}
	if !e.exists(late) {
		t.Errorf("the registered file %s was removed", late)
	}
	if !e.exists(inter.PhysicalPath) {
		t.Errorf("the file of the write in progress was removed")
	}
	e.checkCommitted()

	found, err = e.fsck(e.ctx, FsckRequest{Repair: true, VerifyChecksums: true})
	if err != nil || len(found) != 0 {
		t.Errorf("after the repair: %v, %+v", err, found)
	}
}

// A replica replaced while fsck runs (iput -f) is not a finding, and its
// replacement, which keeps its number, is not marked stale; a file lost
// behind the catalog's back still is a finding.
func TestFsckReplacedReplicas(t *testing.T) {
	e := newFsckEnv(t)
	for i := range 6 {
		e.put(fmt.Sprintf("o%d", i), uint64(i), false)
	}
	lost := e.replica("o5")
	if err := os.Remove(filepath.Join(e.vault, filepath.FromSlash(lost.PhysicalPath))); err != nil {
		t.Fatal(err)
	}
	for _, verify := range []bool{false, true} {
		// Overwrite o0..o4 after fsck read the replicas, before it looks at
		// their files: the files it looks for are gone.
		e.cat.set(func(c *fsckCatalog) {
			c.afterReplicasOn = func(call int) {
				if call == 1 {
					for i := range 5 {
						e.put(fmt.Sprintf("o%d", i), uint64(100+i), true)
					}
				}
			}
		})
		found, err := e.fsck(e.ctx, FsckRequest{Repair: true, VerifyChecksums: verify})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 3 || found[0].Kind != FindMissing || found[0].PhysicalPath != lost.PhysicalPath || found[1].Kind != FindRepair ||
			found[2].Kind != FindNoGoodReplica || found[2].Path != e.path("o5") {
			t.Errorf("-K=%v: findings %+v, want o5 missing, its repair attempt, and o5 left without a good replica", verify, found)
		}
		delete(e.data, "o5")
		e.checkCommitted()
		if verify {
			break
		}
		// The repair marked o5 stale; put it back for the second round.
		e.put("o5", 5, true)
		lost = e.replica("o5")
		if err := os.Remove(filepath.Join(e.vault, filepath.FromSlash(lost.PhysicalPath))); err != nil {
			t.Fatal(err)
		}
	}
}

// A finding that cannot be confirmed (the catalog fails when read again)
// is reported but repairs nothing.
func TestFsckUnconfirmedNotRepaired(t *testing.T) {
	e := newFsckEnv(t)
	e.put("o", 1, false)
	r := e.replica("o")
	if err := os.Truncate(filepath.Join(e.vault, filepath.FromSlash(r.PhysicalPath)), 10); err != nil {
		t.Fatal(err)
	}
	e.cat.set(func(c *fsckCatalog) {
		c.dataObjectByID = func(catalog.ID) error { return errors.New("catalog down") }
	})
	found, err := e.fsck(e.ctx, FsckRequest{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Kind != FindSizeMismatch || found[0].Repaired || found[0].Repair == "" {
		t.Errorf("findings %+v, want one unrepaired size mismatch", found)
	}
	if got := e.replica("o"); got.Status != catalog.ReplicaGood {
		t.Errorf("replica marked %s without confirmation", got.Status)
	}
}

// A cancelled request stops the walk promptly: nothing more is reported
// or removed, and Fsck returns the context's error.
func TestFsckCancelled(t *testing.T) {
	e := newFsckEnv(t)
	for i := range 3 {
		e.put(fmt.Sprintf("o%d", i), uint64(i), false)
	}
	strays := e.stray(500)
	remaining := func() int {
		n := 0
		for _, k := range strays {
			if e.exists(k) {
				n++
			}
		}
		return n
	}

	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(e.ctx)
		cancel()
		found, err := e.fsck(ctx, FsckRequest{Repair: true})
		if !errors.Is(err, context.Canceled) || len(found) != 0 || remaining() != len(strays) {
			t.Errorf("fsck returned %v with %d findings, %d of %d strays left", err, len(found), remaining(), len(strays))
		}
	})
	t.Run("between the catalog passes", func(t *testing.T) {
		// The orphans' re-check then fails for the cancellation: no file
		// may go.
		ctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		e.cat.set(func(c *fsckCatalog) {
			c.replicasOn = func(call int) error {
				if call == 2 {
					cancel()
				}
				return nil
			}
		})
		found, err := e.fsck(ctx, FsckRequest{Repair: true})
		if !errors.Is(err, context.Canceled) || len(found) != 0 || remaining() != len(strays) {
			t.Errorf("fsck returned %v with %d findings, %d of %d strays left", err, len(found), remaining(), len(strays))
		}
	})
	t.Run("while reporting", func(t *testing.T) {
		// The client goes away after the first finding.
		e.cat.set(func(c *fsckCatalog) {})
		ctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		n := 0
		start := time.Now()
		err := e.zone.Fsck(ctx, As(e.rods), FsckRequest{Repair: true, Resource: fsckResc}, func(Finding) error {
			n++
			cancel()
			return nil // the report does not fail: the walk must see ctx itself
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("fsck returned %v, want context.Canceled", err)
		}
		if n != 1 || remaining() != len(strays)-1 {
			t.Errorf("%d findings after the cancellation, %d of %d strays left; want 1 and %d", n, remaining(), len(strays), len(strays)-1)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("fsck took %v to stop", d)
		}
	})
	e.checkCommitted()
}

// BenchmarkFsckOrphans runs fsck (sizes only, no repair) on a resource with
// 20,000 registered replicas and 0 or 1,000 files no replica points to.
//
//	go test ./zones/ -run '^$' -bench FsckOrphans -benchtime 3x
func BenchmarkFsckOrphans(b *testing.B) {
	const replicas = 20_000
	e := newFsckEnv(b)
	objs := make([]catalog.RegisteredObject, 0, replicas)
	for i := range replicas {
		key := fmt.Sprintf("bench/d%03d/o%05d", i%100, i)
		file := filepath.Join(e.vault, filepath.FromSlash(key))
		if i < 100 {
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
			b.Fatal(err)
		}
		objs = append(objs, catalog.RegisteredObject{Path: e.path(fmt.Sprintf("bench/d%03d/o%05d", i%100, i)), Owner: e.rods.UserID(),
			Replicas: []catalog.RegisteredReplica{{Resource: fsckResc, PhysicalPath: key, Size: 1}}})
	}
	for len(objs) > 0 {
		n := min(len(objs), 5000)
		if err := e.cat.Register(e.ctx, objs[:n], true); err != nil {
			b.Fatal(err)
		}
		objs = objs[n:]
	}
	run := func(b *testing.B, orphans int) {
		for b.Loop() {
			found, err := e.fsck(e.ctx, FsckRequest{})
			if err != nil {
				b.Fatal(err)
			}
			if k := fsckKinds(found); k[FindOrphan] != orphans || len(found) != orphans {
				b.Fatalf("findings %v, want %d orphans", k, orphans)
			}
		}
	}
	b.Run("orphans=0", func(b *testing.B) { run(b, 0) })
	e.stray(1000)
	b.Run("orphans=1000", func(b *testing.B) { run(b, 1000) })
}

// TestFsckNoGoodReplica: once repair has marked an object's only replica
// stale (its bytes were corrupt), every later run reports the object as
// unreadable, until a good replica is back.
func TestFsckNoGoodReplica(t *testing.T) {
	e := newFsckEnv(t)
	e.put("only", 1, false)
	e.put("fine", 2, false)
	r := e.replica("only")
	file := filepath.Join(e.vault, filepath.FromSlash(r.PhysicalPath))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data[0] ^= 0xff
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	found, err := e.fsck(e.ctx, FsckRequest{Repair: true, VerifyChecksums: true})
	if err != nil {
		t.Fatal(err)
	}
	if k := fsckKinds(found); k[FindChecksumMismatch] != 1 || k[FindNoGoodReplica] != 1 {
		t.Fatalf("repair run: %v; want the mismatch and the object left without a good replica", k)
	}
	for run := range 2 {
		found, err := e.fsck(e.ctx, FsckRequest{VerifyChecksums: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].Kind != FindNoGoodReplica || found[0].Path != e.path("only") || found[0].Repaired {
			t.Fatalf("run %d after the repair: %+v; want one unrepaired %s finding for %s", run, found, FindNoGoodReplica, e.path("only"))
		}
	}
	// A new good replica resolves it.
	e.put("only", 3, true)
	found, err = e.fsck(e.ctx, FsckRequest{VerifyChecksums: true})
	if err != nil || len(found) != 0 {
		t.Fatalf("after an overwrite: %+v, %v; want nothing", found, err)
	}
}
