package catalogtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/arca-data/arca/catalog"
)

// putSized writes a data object of size bytes owned by owner, through
// begin and commit, and returns the commit's error.
func (f *fixture) putSized(s, resource string, owner catalog.UserID, size int64) error {
	f.t.Helper()
	p := f.path(s)
	nr := f.newReplica(p, resource, "put-"+s)
	nr.Owner = owner
	_, r, err := f.cat.BeginReplica(f.ctx, nr)
	if err != nil {
		return err
	}
	_, err = f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "put-" + s, Size: size, Checksum: "x"})
	if err != nil {
		if _, aerr := f.cat.AbortReplica(f.ctx, r.ObjectID, r.Number, "put-"+s); aerr != nil {
			f.t.Fatalf("abort %s: %v", s, aerr)
		}
	}
	return err
}

// quota returns the quota named like q, with its usage.
func (f *fixture) quota(t *testing.T, q catalog.Quota) catalog.Quota {
	t.Helper()
	for _, got := range must(f.cat.ListQuotas(f.ctx))(t) {
		if got.Kind == q.Kind && got.Principal == q.Principal && got.Path == q.Path && got.Resource == q.Resource {
			return got
		}
	}
	t.Fatalf("no quota %s", q.Name())
	return catalog.Quota{}
}

func usage(t *testing.T, q catalog.Quota, bytes, objects int64) {
	t.Helper()
	if q.UsedBytes != bytes || q.UsedObjects != objects {
		t.Errorf("%s: used %d bytes, %d objects; want %d, %d", q.Name(), q.UsedBytes, q.UsedObjects, bytes, objects)
	}
}

var quotaTests = []test{
	{"SetListRemove", func(t *testing.T, f *fixture) {
		f.users(t, bob)
		must(f.cat.CreateGroup(f.ctx, staff))(t)
		f.mkdir("proj", alice)
		ok(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: bob, MaxBytes: 100}))
		ok(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: bob, Resource: demoResc, MaxBytes: 50, MaxObjects: 2}))
		ok(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaGroup, Principal: staff, MaxObjects: 10}))
		ok(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaCollection, Path: f.path("proj"), MaxBytes: 1000, MaxObjects: 3}))
		qs := must(f.cat.ListQuotas(f.ctx))(t)
		if len(qs) != 4 || qs[0].Kind != catalog.QuotaCollection || qs[1].Kind != catalog.QuotaGroup || qs[2].Resource != "" || qs[3].Resource != demoResc {
			t.Fatalf("ListQuotas = %+v", qs)
		}
		// Changing replaces; zero maxima remove.
		ok(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: bob, MaxBytes: 200}))
		if q := f.quota(t, catalog.Quota{Kind: catalog.QuotaUser, Principal: bob}); q.MaxBytes != 200 {
			t.Errorf("after change: %+v", q)
		}
		ok(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: bob}))
		if qs := must(f.cat.ListQuotas(f.ctx))(t); len(qs) != 3 {
			t.Errorf("after removal: %+v", qs)
		}
		wantErr(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: carol, MaxBytes: 1}), catalog.ErrNotFound)
		wantErr(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaGroup, Principal: bob, MaxBytes: 1}), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: staff, MaxBytes: 1}), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: bob, Resource: "nope", MaxBytes: 1}), catalog.ErrNotFound)
		wantErr(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaCollection, Path: f.path("nope"), MaxBytes: 1}), catalog.ErrNotFound)
		wantErr(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaCollection, Path: f.path("proj"), Resource: demoResc, MaxBytes: 1}), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: bob, MaxBytes: -1}), catalog.ErrInvalidArgument)
		// A removed collection takes its quota along.
		must(f.cat.RemoveCollection(f.ctx, f.path("proj"), true))(t)
		if qs := must(f.cat.ListQuotas(f.ctx))(t); len(qs) != 2 {
			t.Errorf("after removing the collection: %+v", qs)
		}
	}},
	{"UsageFollowsWrites", func(t *testing.T, f *fixture) {
		f.users(t, alice, bob)
		must(f.cat.CreateGroup(f.ctx, staff))(t)
		ok(t, f.cat.AddMember(f.ctx, staff, alice))
		ok(t, f.cat.AddMember(f.ctx, staff, bob))
		f.mkdir("proj", alice)
		f.mkdir("proj/sub", alice)
		f.mkdir("other", alice)
		// Data before the quota is set counts too.
		ok(t, f.putSized("proj/before", demoResc, alice, 7))
		user := catalog.Quota{Kind: catalog.QuotaUser, Principal: alice}
		userResc := catalog.Quota{Kind: catalog.QuotaUser, Principal: alice, Resource: otherResc}
		group := catalog.Quota{Kind: catalog.QuotaGroup, Principal: staff}
		coll := catalog.Quota{Kind: catalog.QuotaCollection, Path: f.path("proj")}
		for _, q := range []catalog.Quota{user, userResc, group, coll} {
			q.MaxBytes = 1 << 40
			ok(t, f.cat.SetQuota(f.ctx, q))
		}
		usage(t, f.quota(t, coll), 7, 1)
		ok(t, f.putSized("proj/sub/a", demoResc, alice, 10))
		ok(t, f.putSized("proj/sub/b", otherResc, bob, 20))
		ok(t, f.putSized("other/c", otherResc, alice, 40))
		usage(t, f.quota(t, user), 57, 3)
		usage(t, f.quota(t, userResc), 40, 1)
		usage(t, f.quota(t, group), 77, 4)
		usage(t, f.quota(t, coll), 37, 3)
		// Overwrite: the new size replaces the old.
		ok(t, f.putSized("proj/sub/a", demoResc, alice, 15))
		usage(t, f.quota(t, coll), 42, 3)
		usage(t, f.quota(t, user), 62, 3)
		// Moves in and out of the collection, of objects and collections.
		ok(t, f.cat.Rename(f.ctx, f.path("other/c"), f.path("proj/c")))
		usage(t, f.quota(t, coll), 82, 4)
		ok(t, f.cat.Rename(f.ctx, f.path("proj/sub"), f.path("other/sub")))
		usage(t, f.quota(t, coll), 47, 2)
		ok(t, f.cat.Rename(f.ctx, f.path("proj"), f.path("moved")))
		coll.Path = f.path("moved")
		usage(t, f.quota(t, coll), 47, 2)
		// Removal gives it back; an aborted put never counted.
		must(f.cat.RemoveDataObject(f.ctx, f.path("moved/c")))(t)
		usage(t, f.quota(t, coll), 7, 1)
		must(f.cat.RemoveCollection(f.ctx, f.path("other"), true))(t)
		usage(t, f.quota(t, user), 7, 1)
		usage(t, f.quota(t, group), 7, 1)
		usage(t, f.quota(t, userResc), 0, 0)
		// QuotasFor picks the quotas a write counts against.
		qs := must(f.cat.QuotasFor(f.ctx, alice, f.path("moved/x"), otherResc))(t)
		if len(qs) != 4 {
			t.Errorf("QuotasFor(alice, moved/x, otherResc) = %+v", qs)
		}
		qs = must(f.cat.QuotasFor(f.ctx, bob, f.path("y"), demoResc))(t)
		if len(qs) != 1 || qs[0].Kind != catalog.QuotaGroup {
			t.Errorf("QuotasFor(bob, y, demoResc) = %+v", qs)
		}
	}},
	{"CommitRefused", func(t *testing.T, f *fixture) {
		f.users(t, alice)
		f.mkdir("proj", alice)
		ok(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaCollection, Path: f.path("proj"), MaxBytes: 100, MaxObjects: 2}))
		ok(t, f.putSized("proj/a", demoResc, alice, 60))
		wantErr(t, f.putSized("proj/b", demoResc, alice, 41), catalog.ErrQuotaExceeded)
		_, err := f.cat.DataObject(f.ctx, f.path("proj/b"))
		wantErr(t, err, catalog.ErrNotFound)
		ok(t, f.putSized("proj/b", demoResc, alice, 40))
		wantErr(t, f.putSized("proj/c", demoResc, alice, 0), catalog.ErrQuotaExceeded) // objects
		// Shrinking is always allowed, even at the limit.
		ok(t, f.putSized("proj/a", demoResc, alice, 10))
		usage(t, f.quota(t, catalog.Quota{Kind: catalog.QuotaCollection, Path: f.path("proj")}), 50, 2)
		ok(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: alice, Resource: otherResc, MaxBytes: 5}))
		wantErr(t, f.putSized("x", otherResc, alice, 6), catalog.ErrQuotaExceeded)
		ok(t, f.putSized("x", demoResc, alice, 6))
	}},
	{"PutsInProgressCountNothing", func(t *testing.T, f *fixture) {
		// Issue 23: 40 puts under a quota of 10 objects, all begun before
		// any commits, then committed at once: exactly 10 pass, whatever
		// the order, and the quota is never passed.
		f.users(t, alice)
		f.mkdir("proj", alice)
		user := catalog.Quota{Kind: catalog.QuotaUser, Principal: alice, MaxObjects: 10}
		resc := catalog.Quota{Kind: catalog.QuotaUser, Principal: alice, Resource: demoResc, MaxObjects: 10}
		coll := catalog.Quota{Kind: catalog.QuotaCollection, Path: f.path("proj"), MaxBytes: 1 << 20}
		for _, q := range []catalog.Quota{user, resc, coll} {
			ok(t, f.cat.SetQuota(f.ctx, q))
		}
		const puts = 40
		reps := make([]catalog.Replica, puts)
		for i := range reps {
			_, r, err := f.cat.BeginReplica(f.ctx, f.newReplica(f.path(fmt.Sprintf("proj/o%d", i)), demoResc, fmt.Sprintf("put%d", i)))
			if err != nil {
				t.Fatal(err)
			}
			reps[i] = r
		}
		for _, q := range []catalog.Quota{user, resc, coll} {
			usage(t, f.quota(t, q), 0, 0)
		}
		qs := must(f.cat.QuotasFor(f.ctx, alice, f.path("proj/o0"), demoResc))(t)
		for _, q := range qs {
			if msg := q.Exceeded(100, 1); msg != "" {
				t.Errorf("the check before a transfer refuses it: %s", msg)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, puts)
		for i, r := range reps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number,
					Holder: fmt.Sprintf("put%d", i), Size: 100, Checksum: "x"})
			}()
		}
		wg.Wait()
		var stored []string
		for i, err := range errs {
			switch {
			case err == nil:
				stored = append(stored, fmt.Sprintf("proj/o%d", i))
			case errors.Is(err, catalog.ErrQuotaExceeded):
				must(f.cat.AbortReplica(f.ctx, reps[i].ObjectID, reps[i].Number, fmt.Sprintf("put%d", i)))(t)
			default:
				t.Errorf("commit %d: %v", i, err)
			}
		}
		if len(stored) != 10 {
			t.Fatalf("%d of %d concurrent puts passed a quota of 10 objects; want exactly 10", len(stored), puts)
		}
		usage(t, f.quota(t, user), 1000, 10)
		usage(t, f.quota(t, resc), 1000, 10)
		usage(t, f.quota(t, coll), 1000, 10)
		// An overwrite in progress counts nothing either, and its commit
		// replaces the old bytes; a copy on another resource adds bytes and
		// a replica there, but no data object.
		_, ow, err := f.cat.BeginReplica(f.ctx, f.newReplica(f.path(stored[0]), demoResc, "overwrite"))
		if err != nil {
			t.Fatal(err)
		}
		usage(t, f.quota(t, coll), 1000, 10)
		must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: ow.ObjectID, Number: ow.Number, Holder: "overwrite", Size: 50, Checksum: "y"}))(t)
		usage(t, f.quota(t, coll), 950, 10)
		usage(t, f.quota(t, resc), 950, 10)
		o := f.object(stored[1])
		cp := f.beginCopy(stored[1], otherResc, "copy")
		usage(t, f.quota(t, coll), 950, 10)
		must(f.cat.CommitCopy(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: cp.Number, Holder: "copy", Size: 100, Checksum: "x"},
			o.Replicas[0].Number))(t)
		usage(t, f.quota(t, coll), 1050, 10)
		usage(t, f.quota(t, user), 1050, 10)
		usage(t, f.quota(t, resc), 950, 10)
		// A quota on a resource counts the replicas there: a copy that
		// would be one too many is refused.
		ok(t, f.cat.SetQuota(f.ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: alice, Resource: otherResc, MaxObjects: 1}))
		o = f.object(stored[2])
		cp = f.beginCopy(stored[2], otherResc, "copy2")
		_, err = f.cat.CommitCopy(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: cp.Number, Holder: "copy2", Size: 100, Checksum: "x"},
			o.Replicas[0].Number)
		wantErr(t, err, catalog.ErrQuotaExceeded)
		// Removal gives back what was counted, and only that.
		must(f.cat.AbortReplica(f.ctx, o.ID, cp.Number, "copy2"))(t)
		must(f.cat.RemoveCollection(f.ctx, f.path("proj"), true))(t)
		usage(t, f.quota(t, user), 0, 0)
		usage(t, f.quota(t, resc), 0, 0)
	}},
	{"ConcurrentPutsAndRemoves", func(t *testing.T, f *fixture) {
		f.mkdir("proj", alice)
		q := catalog.Quota{Kind: catalog.QuotaCollection, Path: f.path("proj"), MaxBytes: 1000}
		ok(t, f.cat.SetQuota(f.ctx, q))
		var wg sync.WaitGroup
		var mu sync.Mutex
		passed := 0
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := f.putSized(fmt.Sprintf("proj/o%d", i), demoResc, alice, 100)
				if err == nil {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if passed != 10 {
			t.Errorf("%d puts of 100 bytes passed a quota of 1000", passed)
		}
		usage(t, f.quota(t, q), 1000, 10)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.cat.RemoveDataObject(f.ctx, f.path(fmt.Sprintf("proj/o%d", i)))
			}()
		}
		wg.Wait()
		usage(t, f.quota(t, q), 0, 0)
	}},
}
