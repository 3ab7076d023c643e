package catalogtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

var replicaTests = []test{
	{"BeginCommitNew", func(t *testing.T, f *fixture) {
		p := f.path("new.dat")
		lease := time.Now().Add(time.Hour).Round(0)
		nr := catalog.NewReplica{Path: p, Owner: bob, Resource: demoResc, PhysicalPath: "vault/new.dat",
			Holder: "h1", LeaseExpiry: lease}
		o, r := must2(f.cat.BeginReplica(f.ctx, nr))(t)
		if o.ID == 0 || o.Path != p || o.Owner != bob {
			t.Fatalf("BeginReplica object %+v", o)
		}
		checkTime(t, "object create time", o.CreateTime, f.start)
		equalACL(t, "new object", o.ACL, catalog.ACE{Principal: bob, Level: catalog.AccessOwn})
		if r.ObjectID != o.ID || r.Number != 0 || r.Resource != demoResc || r.PhysicalPath != "vault/new.dat" ||
			r.Status != catalog.ReplicaIntermediate || r.LockHolder != "h1" || !r.LeaseExpiry.Equal(lease) || r.Size != 0 {
			t.Fatalf("BeginReplica replica %+v", r)
		}
		checkTime(t, "replica create time", r.CreateTime, f.start)
		if len(o.Replicas) != 1 {
			t.Fatalf("object has replicas %+v, want the new one", o.Replicas)
		}
		sameReplica(t, "object's replica", o.Replicas[0], r)
		sameReplica(t, "stored replica", f.object("new.dat").Replicas[0], r)

		before := time.Now()
		sup := must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{
			Object: o.ID, Number: 0, Holder: "h1", Size: 1234, Checksum: "sha2:abc"}))(t)
		if len(sup) != 0 {
			t.Errorf("first commit superseded %+v", sup)
		}
		got := f.object("new.dat")
		if len(got.Replicas) != 1 {
			t.Fatalf("replicas %+v", got.Replicas)
		}
		g := got.Replicas[0]
		if g.Status != catalog.ReplicaGood || g.Size != 1234 || g.Checksum != "sha2:abc" || g.LockHolder != "" ||
			!g.LeaseExpiry.IsZero() || g.PhysicalPath != "vault/new.dat" || g.Number != 0 {
			t.Errorf("committed replica %+v", g)
		}
		checkTime(t, "replica modify time", g.ModifyTime, before)
		checkTime(t, "object modify time", got.ModifyTime, before)
		if !g.CreateTime.Equal(r.CreateTime) {
			t.Errorf("commit changed the create time from %v to %v", r.CreateTime, g.CreateTime)
		}
		if newest, ok := got.Newest(); !ok || newest.Number != 0 {
			t.Errorf("Newest = %+v", newest)
		}
	}},
	{"BeginErrors", func(t *testing.T, f *fixture) {
		f.put("exists", demoResc, "sha2:1")
		f.mkdir("coll", alice)
		base := func(s string) catalog.NewReplica {
			nr := f.newReplica(f.path(s), demoResc, "h")
			nr.Overwrite = false
			return nr
		}
		cases := []struct {
			name string
			nr   catalog.NewReplica
			want error
		}{
			{"exists", base("exists"), catalog.ErrExists},
			{"collection", base("coll"), catalog.ErrExists},
			{"collection overwrite", func() catalog.NewReplica { r := base("coll"); r.Overwrite = true; return r }(), catalog.ErrExists},
			{"root", func() catalog.NewReplica { r := base("x"); r.Path = catalog.MustPath("/"); return r }(), catalog.ErrExists},
			{"no parent", base("nope/x"), catalog.ErrNotFound},
			{"parent is object", base("exists/x"), catalog.ErrNotCollection},
			{"no resource", func() catalog.NewReplica { r := base("x"); r.Resource = "noSuchResc"; return r }(), catalog.ErrNotFound},
			{"empty resource", func() catalog.NewReplica { r := base("x"); r.Resource = ""; return r }(), catalog.ErrInvalidArgument},
			{"no physical path", func() catalog.NewReplica { r := base("x"); r.PhysicalPath = ""; return r }(), catalog.ErrInvalidArgument},
			{"no holder", func() catalog.NewReplica { r := base("x"); r.Holder = ""; return r }(), catalog.ErrInvalidArgument},
			{"no lease", func() catalog.NewReplica { r := base("x"); r.LeaseExpiry = time.Time{}; return r }(), catalog.ErrInvalidArgument},
			{"no owner", func() catalog.NewReplica { r := base("x"); r.Owner = catalog.UserID{}; return r }(), catalog.ErrInvalidArgument},
			{"zero path", func() catalog.NewReplica { r := base("x"); r.Path = catalog.Path{}; return r }(), catalog.ErrInvalidArgument},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := f.cat.BeginReplica(f.ctx, tc.nr)
				wantErr(t, err, tc.want)
			})
		}
		f.gone("x")
		if o := f.object("exists"); len(o.Replicas) != 1 || o.Replicas[0].Status != catalog.ReplicaGood {
			t.Errorf("failed begins changed exists: %+v", o.Replicas)
		}
		// Two replicas may not share a physical path on one resource.
		nr := base("y")
		nr.PhysicalPath = f.object("exists").Replicas[0].PhysicalPath
		_, _, err := f.cat.BeginReplica(f.ctx, nr)
		wantErr(t, err, catalog.ErrExists)
		f.gone("y")
		nr.Resource = otherResc // the same path on another resource is another file
		must2(f.cat.BeginReplica(f.ctx, nr))(t)
	}},
	{"OverwriteSameResource", func(t *testing.T, f *fixture) {
		old := f.put("o", demoResc, "sha2:old")
		_, r := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), demoResc, "w2")))(t)
		if r.Number != 1 || r.ObjectID != old.ID {
			t.Fatalf("overwrite replica %+v, want number 1 of object %v", r, old.ID)
		}
		// While it is written, readers still see the old good replica.
		mid := f.object("o")
		if len(mid.Replicas) != 2 || len(mid.Good()) != 1 || mid.Good()[0].Checksum != "sha2:old" {
			t.Fatalf("during overwrite: %+v", mid.Replicas)
		}
		sup := must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{
			Object: r.ObjectID, Number: r.Number, Holder: "w2", Size: 7, Checksum: "sha2:new"}))(t)
		if len(sup) != 1 {
			t.Fatalf("superseded %+v, want the old replica", sup)
		}
		sameReplica(t, "superseded", sup[0], old.Replicas[0])
		// The overwrite keeps the replica's number, as in iRODS.
		got := f.object("o")
		if len(got.Replicas) != 1 || got.Replicas[0].Number != 0 || got.Replicas[0].Checksum != "sha2:new" ||
			got.Replicas[0].Status != catalog.ReplicaGood {
			t.Fatalf("after overwrite: %+v", got.Replicas)
		}
		if got.ID != old.ID || !got.CreateTime.Equal(old.CreateTime) || got.ModifyTime.Before(old.ModifyTime) {
			t.Errorf("object after overwrite %+v, before %+v", got, old)
		}
		if n := catalog.CommittedNumber(r.Number, sup); n != 0 {
			t.Errorf("CommittedNumber(%d, superseded) = %d, want 0", r.Number, n)
		}
		// The next one is numbered after the highest there is.
		_, r = must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), demoResc, "w3")))(t)
		if r.Number != 1 {
			t.Errorf("next replica number %d, want 1", r.Number)
		}
	}},
	{"OverwriteOtherResource", func(t *testing.T, f *fixture) {
		a := f.put("o", demoResc, "sha2:1")
		b := f.put("o", otherResc, "sha2:2")
		if len(b.Replicas) != 2 {
			t.Fatalf("replicas %+v", b.Replicas)
		}
		ra, rb := b.Replicas[0], b.Replicas[1]
		if ra.Resource != demoResc || ra.Status != catalog.ReplicaStale || ra.Checksum != "sha2:1" ||
			rb.Resource != otherResc || rb.Status != catalog.ReplicaGood || rb.Checksum != "sha2:2" || rb.Number != 1 {
			t.Fatalf("after writing otherResc: %+v", b.Replicas)
		}
		if newest, _ := b.Newest(); newest.Number != rb.Number {
			t.Errorf("Newest = %+v", newest)
		}
		// Writing demoResc again supersedes its stale replica and makes
		// otherResc's stale.
		_, r := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), demoResc, "w")))(t)
		sup := must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{
			Object: r.ObjectID, Number: r.Number, Holder: "w", Size: 1, Checksum: "sha2:3"}))(t)
		if len(sup) != 1 || sup[0].Number != a.Replicas[0].Number || sup[0].PhysicalPath != a.Replicas[0].PhysicalPath {
			t.Fatalf("superseded %+v, want demoResc's old replica", sup)
		}
		// The new replica on demoResc keeps the number of the one it replaced.
		c := f.object("o")
		if len(c.Replicas) != 2 || c.Replicas[0].Number != 0 || c.Replicas[0].Status != catalog.ReplicaGood ||
			c.Replicas[0].Checksum != "sha2:3" || c.Replicas[0].Resource != demoResc ||
			c.Replicas[1].Number != 1 || c.Replicas[1].Status != catalog.ReplicaStale {
			t.Fatalf("after rewriting demoResc: %+v", c.Replicas)
		}
	}},
	{"Lock", func(t *testing.T, f *fixture) {
		f.put("o", demoResc, "sha2:1")
		_, r := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), otherResc, "first")))(t)
		for _, holder := range []string{"second", "first"} {
			_, _, err := f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), demoResc, holder))
			wantErr(t, err, catalog.ErrLocked)
		}
		if o := f.object("o"); len(o.Replicas) != 2 {
			t.Fatalf("refused begins added replicas: %+v", o.Replicas)
		}
		// Committing ends the lock.
		must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "first"}))(t)
		_, r2 := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), demoResc, "second")))(t)
		// Aborting ends it too.
		must(f.cat.AbortReplica(f.ctx, r2.ObjectID, r2.Number, "second"))(t)
		must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), demoResc, "third")))(t)
		// A new object being written for the first time is locked as well.
		_, _, err := f.cat.BeginReplica(f.ctx, f.newReplica(f.path("fresh"), demoResc, "a"))
		ok(t, err)
		_, _, err = f.cat.BeginReplica(f.ctx, f.newReplica(f.path("fresh"), otherResc, "b"))
		wantErr(t, err, catalog.ErrLocked)
	}},
	{"CommitErrors", func(t *testing.T, f *fixture) {
		done := f.put("done", demoResc, "sha2:1")
		_, r := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), demoResc, "h")))(t)
		cases := []struct {
			name string
			c    catalog.ReplicaCommit
			want error
		}{
			{"wrong holder", catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "other"}, catalog.ErrLocked},
			{"empty holder", catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number}, catalog.ErrLocked},
			{"no such replica", catalog.ReplicaCommit{Object: r.ObjectID, Number: 5, Holder: "h"}, catalog.ErrNotFound},
			{"no such object", catalog.ReplicaCommit{Object: r.ObjectID + 1000, Number: 0, Holder: "h"}, catalog.ErrNotFound},
			{"already good", catalog.ReplicaCommit{Object: done.ID, Number: 0, Holder: "put"}, catalog.ErrLocked},
			{"negative size", catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "h", Size: -1}, catalog.ErrInvalidArgument},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.cat.CommitReplica(f.ctx, tc.c)
				wantErr(t, err, tc.want)
			})
		}
		if o := f.object("o"); o.Replicas[0].Status != catalog.ReplicaIntermediate {
			t.Errorf("failed commits changed the replica: %+v", o.Replicas[0])
		}
		sameReplica(t, "done", f.object("done").Replicas[0], done.Replicas[0])
		must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "h", Size: 3, Checksum: "sha2:c"}))(t)
		_, err := f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "h", Size: 4, Checksum: "sha2:d"})
		wantErr(t, err, catalog.ErrLocked)
		if g := f.object("o").Replicas[0]; g.Size != 3 || g.Checksum != "sha2:c" {
			t.Errorf("second commit changed the replica: %+v", g)
		}
	}},
	{"Lease", func(t *testing.T, f *fixture) {
		_, r := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), demoResc, "h")))(t)
		later := time.Now().Add(2 * time.Hour).Round(0)
		wantErr(t, f.cat.RenewLease(f.ctx, r.ObjectID, r.Number, "other", later), catalog.ErrLocked)
		wantErr(t, f.cat.RenewLease(f.ctx, r.ObjectID, r.Number+1, "h", later), catalog.ErrNotFound)
		wantErr(t, f.cat.RenewLease(f.ctx, r.ObjectID, r.Number, "h", time.Time{}), catalog.ErrInvalidArgument)
		ok(t, f.cat.RenewLease(f.ctx, r.ObjectID, r.Number, "h", later))
		if got := f.object("o").Replicas[0].LeaseExpiry; !got.Equal(later) {
			t.Errorf("lease %v, want %v", got, later)
		}
		// A lease that has ended is no longer held: neither renew nor
		// commit, but the holder may still abort.
		ok(t, f.cat.RenewLease(f.ctx, r.ObjectID, r.Number, "h", time.Now().Add(-time.Minute)))
		wantErr(t, f.cat.RenewLease(f.ctx, r.ObjectID, r.Number, "h", later), catalog.ErrLocked)
		_, err := f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "h", Checksum: "sha2:x"})
		wantErr(t, err, catalog.ErrLocked)
		got := must(f.cat.AbortReplica(f.ctx, r.ObjectID, r.Number, "h"))(t)
		if got.PhysicalPath != r.PhysicalPath {
			t.Errorf("aborted %+v", got)
		}
		f.gone("o")
	}},
	{"Abort", func(t *testing.T, f *fixture) {
		// Aborting the only replica of a new object removes the object.
		_, r := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("new"), demoResc, "h")))(t)
		_, err := f.cat.AbortReplica(f.ctx, r.ObjectID, r.Number, "other")
		wantErr(t, err, catalog.ErrLocked)
		_, err = f.cat.AbortReplica(f.ctx, r.ObjectID, r.Number+1, "h")
		wantErr(t, err, catalog.ErrNotFound)
		got := must(f.cat.AbortReplica(f.ctx, r.ObjectID, r.Number, "h"))(t)
		sameReplica(t, "aborted", got, r)
		f.gone("new")
		_, err = f.cat.AbortReplica(f.ctx, r.ObjectID, r.Number, "h")
		wantErr(t, err, catalog.ErrNotFound)
		if l := must(f.cat.ListObjects(f.ctx, f.home, "", 10))(t); len(l) != 0 {
			t.Errorf("home lists %v after abort", l)
		}

		// Aborting an overwrite leaves the object as it was.
		old := f.put("o", demoResc, "sha2:1")
		_, r = must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), demoResc, "h")))(t)
		must(f.cat.AbortReplica(f.ctx, r.ObjectID, r.Number, "h"))(t)
		now := f.object("o")
		if len(now.Replicas) != 1 {
			t.Fatalf("after abort: %+v", now.Replicas)
		}
		sameReplica(t, "kept", now.Replicas[0], old.Replicas[0])
		// A good replica cannot be aborted.
		_, err = f.cat.AbortReplica(f.ctx, old.ID, old.Replicas[0].Number, "put")
		wantErr(t, err, catalog.ErrLocked)
		f.object("o")
	}},
	{"Expired", func(t *testing.T, f *fixture) {
		now := time.Now()
		f.put("good", demoResc, "sha2:g")
		expiredNew := f.newReplica(f.path("crashed"), demoResc, "dead")
		expiredNew.LeaseExpiry = now.Add(-time.Hour)
		_, e1 := must2(f.cat.BeginReplica(f.ctx, expiredNew))(t)
		expiredOver := f.newReplica(f.path("good"), otherResc, "dead2")
		expiredOver.LeaseExpiry = now.Add(-30 * time.Minute)
		_, e2 := must2(f.cat.BeginReplica(f.ctx, expiredOver))(t)
		_, live := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("live"), demoResc, "alive")))(t)

		got := must(f.cat.ExpiredReplicas(f.ctx, now, 10))(t)
		if len(got) != 2 {
			t.Fatalf("expired %+v, want 2", got)
		}
		slices.SortFunc(got, func(a, b catalog.Replica) int { return a.LeaseExpiry.Compare(b.LeaseExpiry) })
		sameReplica(t, "expired new", got[0], e1)
		sameReplica(t, "expired overwrite", got[1], e2)
		if l := must(f.cat.ExpiredReplicas(f.ctx, now, 1))(t); len(l) != 1 {
			t.Errorf("limit 1 gave %d", len(l))
		}
		if l := must(f.cat.ExpiredReplicas(f.ctx, now.Add(-2*time.Hour), 10))(t); len(l) != 0 {
			t.Errorf("expired two hours ago: %+v", l)
		}
		if l := must(f.cat.ExpiredReplicas(f.ctx, now.Add(3*time.Hour), 10))(t); len(l) != 3 {
			t.Errorf("in three hours %d replicas will have expired, want 3", len(l))
		}
		_, err := f.cat.ExpiredReplicas(f.ctx, now, 0)
		wantErr(t, err, catalog.ErrInvalidArgument)

		// A writer may begin where a lease has ended.
		_, r := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("crashed"), otherResc, "next")))(t)
		if r.Number != 1 {
			t.Errorf("replica after expired one: %+v", r)
		}
		must(f.cat.AbortReplica(f.ctx, r.ObjectID, r.Number, "next"))(t)

		_, err = f.cat.ResolveExpired(f.ctx, live.ObjectID, live.Number, now)
		wantErr(t, err, catalog.ErrLocked)
		_, err = f.cat.ResolveExpired(f.ctx, e1.ObjectID, e1.Number+7, now)
		wantErr(t, err, catalog.ErrNotFound)
		good := f.object("good").Replicas[0]
		_, err = f.cat.ResolveExpired(f.ctx, good.ObjectID, good.Number, now)
		wantErr(t, err, catalog.ErrNotFound) // no intermediate replica there
		if o := f.object("good"); len(o.Replicas) != 2 {
			t.Fatalf("resolving a good replica changed %+v", o.Replicas)
		}

		res := must(f.cat.ResolveExpired(f.ctx, e1.ObjectID, e1.Number, now))(t)
		sameReplica(t, "resolved", res, e1)
		f.gone("crashed") // it was the only replica
		res = must(f.cat.ResolveExpired(f.ctx, e2.ObjectID, e2.Number, now))(t)
		sameReplica(t, "resolved overwrite", res, e2)
		if o := f.object("good"); len(o.Replicas) != 1 || o.Replicas[0].Status != catalog.ReplicaGood {
			t.Errorf("good after resolving: %+v", o.Replicas)
		}
		if l := must(f.cat.ExpiredReplicas(f.ctx, now, 10))(t); len(l) != 0 {
			t.Errorf("still expired: %+v", l)
		}
		// A lease renewed after it was listed is not resolved.
		ok(t, f.cat.RenewLease(f.ctx, live.ObjectID, live.Number, "alive", now.Add(-time.Second)))
		if l := must(f.cat.ExpiredReplicas(f.ctx, now, 10))(t); len(l) != 1 {
			t.Fatalf("expired %+v, want live's", l)
		}
		// ... the holder cannot renew an ended lease, so simulate the race
		// with a time before the lease ended.
		_, err = f.cat.ResolveExpired(f.ctx, live.ObjectID, live.Number, now.Add(-time.Minute))
		wantErr(t, err, catalog.ErrLocked)
		f.object("live")
	}},
	{"ReplicasOn", func(t *testing.T, f *fixture) {
		// Enough replicas to cross page boundaries of a paging backend,
		// made concurrently to be quick.
		const n = 2100
		want := make([]string, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for g := range 8 {
			wg.Go(func() {
				for i := g; i < n; i += 8 {
					p := f.path(fmt.Sprintf("r%04d", i))
					nr := f.newReplica(p, demoResc, "h")
					nr.PhysicalPath = fmt.Sprintf("v/%04d", (i*7919)%n) // out of name order
					want[i] = nr.PhysicalPath
					_, r, err := f.cat.BeginReplica(f.ctx, nr)
					if err == nil {
						_, err = f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "h"})
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		f.put("elsewhere", otherResc, "sha2:x")
		slices.Sort(want)
		var got []string
		ok(t, f.cat.ReplicasOn(f.ctx, demoResc, func(r catalog.Replica) error {
			if r.Resource != demoResc {
				t.Errorf("replica on %s listed", r.Resource)
			}
			got = append(got, r.PhysicalPath)
			return nil
		}))
		if !slices.Equal(got, want) {
			t.Errorf("ReplicasOn gave %d replicas, want %d in physical-path order", len(got), len(want))
		}
		stop := errors.New("stop")
		calls := 0
		err := f.cat.ReplicasOn(f.ctx, demoResc, func(catalog.Replica) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("ReplicasOn returned %v after %d calls, want the callback's error after 1", err, calls)
		}
		// The callback may use the catalog.
		count := 0
		ok(t, f.cat.ReplicasOn(f.ctx, otherResc, func(r catalog.Replica) error {
			count++
			_, err := f.cat.RemoveDataObject(f.ctx, f.path("elsewhere"))
			return err
		}))
		if count != 1 {
			t.Errorf("otherResc had %d replicas, want 1", count)
		}
		err = f.cat.ReplicasOn(f.ctx, "noSuchResc", func(catalog.Replica) error { return nil })
		wantErr(t, err, catalog.ErrNotFound)
	}},
}
