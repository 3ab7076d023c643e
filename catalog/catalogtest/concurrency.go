package catalogtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

var concurrencyTests = []test{
	{"ParallelPuts", func(t *testing.T, f *fixture) {
		const goroutines, each = 16, 25
		f.mkdir("par", alice)
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					p := f.path(fmt.Sprintf("par/g%02d-%02d", g, i))
					_, r, err := f.cat.BeginReplica(f.ctx, f.newReplica(p, demoResc, fmt.Sprint(g)))
					if err != nil {
						errs <- err
						continue
					}
					if _, err := f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number,
						Holder: fmt.Sprint(g), Size: int64(i), Checksum: p.Name()}); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		objs := must(f.cat.ListObjects(f.ctx, f.path("par"), "", 10*goroutines*each))(t)
		if len(objs) != goroutines*each {
			t.Fatalf("listed %d objects, want %d", len(objs), goroutines*each)
		}
		ids := map[catalog.ID]bool{}
		for _, o := range objs {
			ids[o.ID] = true
			if len(o.Replicas) != 1 || o.Replicas[0].Status != catalog.ReplicaGood || o.Replicas[0].Checksum != o.Path.Name() {
				t.Errorf("%s: %+v", o.Path, o.Replicas)
			}
		}
		if len(ids) != len(objs) {
			t.Errorf("%d distinct ids for %d objects", len(ids), len(objs))
		}
	}},
	{"ContendedOverwrites", func(t *testing.T, f *fixture) {
		// Writers race to overwrite one object. Each success must be
		// accounted for: every committed replica but the last is handed
		// back as superseded exactly once. Replicas are told apart by their
		// checksums, unique per write: an overwrite keeps the replica's
		// number, so every commit ends as the first replica's number.
		const goroutines, each = 8, 5
		first := f.put("hot", demoResc, "sha2:0")
		number := first.Replicas[0].Number
		var (
			mu         sync.Mutex
			committed  = []string{"sha2:0"}
			superseded []string
			written    = map[string]bool{"sha2:0": true}
		)
		deadline := time.Now().Add(30 * time.Second)
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		for g := range goroutines {
			wg.Go(func() {
				holder := fmt.Sprint("writer", g)
				for i := 0; i < each; {
					if time.Now().After(deadline) {
						errs <- fmt.Errorf("%s: gave up after %d writes", holder, i)
						return
					}
					_, r, err := f.cat.BeginReplica(f.ctx, f.newReplica(f.path("hot"), demoResc, holder))
					if errors.Is(err, catalog.ErrLocked) {
						time.Sleep(time.Millisecond)
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					sum := fmt.Sprintf("sha2:%s-%d", holder, i)
					// Noted before the commit: a later writer may supersede
					// this replica before this goroutine hears back.
					mu.Lock()
					written[sum] = true
					mu.Unlock()
					sup, err := f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number,
						Holder: holder, Size: 1, Checksum: sum})
					if err != nil {
						errs <- err
						return
					}
					if n := catalog.CommittedNumber(r.Number, sup); n != number {
						t.Errorf("%s committed replica %d superseding %+v: it became number %d, want %d", holder, r.Number, sup, n, number)
					}
					mu.Lock()
					committed = append(committed, sum)
					for _, s := range sup {
						superseded = append(superseded, s.Checksum)
						if !written[s.Checksum] {
							t.Errorf("superseded replica %d has checksum %q, which no writer wrote", s.Number, s.Checksum)
						}
					}
					mu.Unlock()
					i++
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		o := f.object("hot")
		if len(o.Replicas) != 1 {
			t.Fatalf("object has %d replicas, want 1: %+v", len(o.Replicas), o.Replicas)
		}
		last := o.Replicas[0]
		if len(committed) != goroutines*each+1 {
			t.Fatalf("%d commits, want %d", len(committed), goroutines*each+1)
		}
		accounted := append(slices.Clone(superseded), last.Checksum)
		slices.Sort(accounted)
		slices.Sort(committed)
		if !slices.Equal(accounted, committed) {
			t.Errorf("superseded %v plus final %s != committed %v", superseded, last.Checksum, committed)
		}
		if last.Number != number || last.Status != catalog.ReplicaGood {
			t.Errorf("final replica %+v, want good number %d", last, number)
		}
	}},
	{"CreateSameCollection", func(t *testing.T, f *fixture) {
		const goroutines = 16
		var wins, exists atomic.Int32
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				_, err := f.cat.CreateCollection(f.ctx, catalog.Collection{Path: f.path("same"),
					Owner: catalog.UserID{Name: fmt.Sprint("u", g), Zone: "tempZone"}})
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, catalog.ErrExists):
					exists.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || exists.Load() != goroutines-1 {
			t.Fatalf("%d creates succeeded and %d found it existing, want 1 and %d", wins.Load(), exists.Load(), goroutines-1)
		}
		if acl := f.collection("same").ACL; len(acl) != 1 {
			t.Errorf("ACL %v, want only the winner's own", acl)
		}
	}},
	{"BeginSameObject", func(t *testing.T, f *fixture) {
		const goroutines = 16
		var wins atomic.Int32
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				nr := f.newReplica(f.path("same"), demoResc, fmt.Sprint(g))
				nr.Overwrite = g%2 == 0
				_, _, err := f.cat.BeginReplica(f.ctx, nr)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, catalog.ErrExists) && !nr.Overwrite, errors.Is(err, catalog.ErrLocked) && nr.Overwrite:
				default:
					t.Errorf("overwrite %v: %v", nr.Overwrite, err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d writers began, want 1", wins.Load())
		}
		if o := f.object("same"); len(o.Replicas) != 1 {
			t.Errorf("replicas %+v", o.Replicas)
		}
	}},
	{"FailuresDoNotSpread", func(t *testing.T, f *fixture) {
		// Requests that fail, interleaved with ones that succeed, fail
		// alone: every success is there afterwards.
		const goroutines, each = 16, 20
		f.mkdir("mix", alice)
		f.mkdir("mix/taken", alice)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					_, err := f.cat.CreateCollection(f.ctx, catalog.Collection{Path: f.path(fmt.Sprintf("mix/c%d-%d", g, i)), Owner: alice})
					if err != nil {
						t.Error(err)
					}
					_, err = f.cat.CreateCollection(f.ctx, catalog.Collection{Path: f.path("mix/taken"), Owner: alice})
					if !errors.Is(err, catalog.ErrExists) {
						t.Errorf("duplicate create: %v", err)
					}
					_, err = f.cat.CreateCollection(f.ctx, catalog.Collection{Path: f.path(fmt.Sprintf("mix/none%d/x", g)), Owner: alice})
					if !errors.Is(err, catalog.ErrNotFound) {
						t.Errorf("create without parent: %v", err)
					}
				}
			})
		}
		wg.Wait()
		subs := must(f.cat.ListCollections(f.ctx, f.path("mix"), "", 10000))(t)
		if len(subs) != goroutines*each+1 {
			t.Errorf("mix has %d collections, want %d", len(subs), goroutines*each+1)
		}
	}},
	{"ReadersDuringWrites", func(t *testing.T, f *fixture) {
		// Readers see committed states only: listings in order, without
		// intermediate objects of failed writes, never shrinking.
		const writers, each = 4, 30
		f.mkdir("rw", alice)
		stop := make(chan struct{})
		var readErr error
		var rg sync.WaitGroup
		rg.Go(func() {
			seen := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				objs, err := f.cat.ListObjects(f.ctx, f.path("rw"), "", 10000)
				if err != nil {
					readErr = err
					return
				}
				if len(objs) < seen {
					readErr = fmt.Errorf("listing shrank from %d to %d", seen, len(objs))
					return
				}
				seen = len(objs)
				for i, o := range objs {
					if i > 0 && objs[i-1].Path.Name() >= o.Path.Name() {
						readErr = fmt.Errorf("listing out of order at %s", o.Path)
						return
					}
					if len(o.Replicas) == 0 {
						readErr = fmt.Errorf("%s listed without replicas", o.Path)
						return
					}
				}
			}
		})
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				for i := range each {
					p := f.path(fmt.Sprintf("rw/%d-%d", g, i))
					_, r, err := f.cat.BeginReplica(f.ctx, f.newReplica(p, demoResc, "h"))
					if err != nil {
						t.Error(err)
						return
					}
					if _, err := f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "h"}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		rg.Wait()
		if readErr != nil {
			t.Fatal(readErr)
		}
		if n := len(must(f.cat.ListObjects(f.ctx, f.path("rw"), "", 10000))(t)); n != writers*each {
			t.Errorf("%d objects, want %d", n, writers*each)
		}
	}},
}
