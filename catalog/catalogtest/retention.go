package catalogtest

import (
	"errors"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// retain sets a retention on the object s and returns the lock.
func (f *fixture) retain(t *testing.T, s string, mode catalog.LockMode, until time.Time) catalog.Lock {
	t.Helper()
	return must(f.cat.SetRetention(f.ctx, catalog.RetentionChange{Path: f.path(s), Mode: mode, Until: until, By: alice}))(t)
}

// refused checks that err is a *catalog.LockError naming the object s.
func (f *fixture) refused(t *testing.T, what string, err error, s string) *catalog.LockError {
	t.Helper()
	var le *catalog.LockError
	if !errors.As(err, &le) || !errors.Is(err, catalog.ErrRetained) {
		t.Fatalf("%s: got %v, want a *catalog.LockError (ErrRetained)", what, err)
	}
	if le.Path != f.path(s) {
		t.Errorf("%s: the error names %s, want %s: %v", what, le.Path, f.path(s), err)
	}
	return le
}

// sameLock compares the retention fields of two locks.
func sameLock(t testing.TB, what string, got, want catalog.Lock) {
	t.Helper()
	if got.Mode != want.Mode || !got.Until.Equal(want.Until) || got.Hold != want.Hold {
		t.Errorf("%s: lock %+v, want %+v", what, got, want)
	}
}

// later is a time an hour (and n seconds) from now, at a whole second,
// which every backend stores exactly.
func later(n int) time.Time {
	return time.Now().Add(time.Hour).Add(time.Duration(n) * time.Second).Truncate(time.Second).UTC()
}

var retentionTests = []test{
	{"SetAndRead", func(t *testing.T, f *fixture) {
		f.put("a", demoResc, "sha2:A")
		if l := f.object("a").Lock; !l.IsZero() || l != (catalog.Lock{}) {
			t.Fatalf("a new object has lock %+v", l)
		}
		until := later(0)
		l := f.retain(t, "a", catalog.LockGovernance, until)
		want := catalog.Lock{Mode: catalog.LockGovernance, Until: until}
		sameLock(t, "SetRetention", l, want)
		if l.SetBy != alice {
			t.Errorf("set by %v", l.SetBy)
		}
		checkTime(t, "set at", l.SetAt, f.start)
		o := f.object("a")
		sameLock(t, "DataObject", o.Lock, want)
		if o.Lock.SetBy != alice || !o.Lock.SetAt.Equal(l.SetAt) {
			t.Errorf("DataObject: lock %+v, want %+v", o.Lock, l)
		}
		e := must(f.cat.Stat(f.ctx, f.path("a")))(t)
		sameLock(t, "Stat", e.Object.Lock, want)
		byID := must(f.cat.DataObjectByID(f.ctx, o.ID))(t)
		sameLock(t, "DataObjectByID", byID.Lock, want)
		list := must(f.cat.ListObjects(f.ctx, f.home, "", 10))(t)
		if len(list) != 1 {
			t.Fatalf("listed %d objects", len(list))
		}
		sameLock(t, "ListObjects", list[0].Lock, want)
		if !o.Lock.Locked(time.Now()) || o.Lock.Locked(until.Add(time.Second)) {
			t.Errorf("Locked is wrong for %+v", o.Lock)
		}
	}},
	{"ComplianceOnlyGrows", func(t *testing.T, f *fixture) {
		f.put("a", demoResc, "sha2:A")
		until := later(0)
		f.retain(t, "a", catalog.LockCompliance, until)
		for _, c := range []struct {
			what string
			ch   catalog.RetentionChange
		}{
			{"shorter", catalog.RetentionChange{Mode: catalog.LockCompliance, Until: until.Add(-time.Minute)}},
			{"shorter with bypass", catalog.RetentionChange{Mode: catalog.LockCompliance, Until: until.Add(-time.Minute), BypassGovernance: true}},
			{"weakened to governance", catalog.RetentionChange{Mode: catalog.LockGovernance, Until: until.Add(time.Hour)}},
			{"weakened to governance with bypass", catalog.RetentionChange{Mode: catalog.LockGovernance, Until: until, BypassGovernance: true}},
			{"removed", catalog.RetentionChange{Mode: catalog.LockNone}},
			{"removed with bypass", catalog.RetentionChange{Mode: catalog.LockNone, BypassGovernance: true}},
		} {
			c.ch.Path, c.ch.By = f.path("a"), rods
			_, err := f.cat.SetRetention(f.ctx, c.ch)
			f.refused(t, c.what, err, "a")
			sameLock(t, c.what, f.object("a").Lock, catalog.Lock{Mode: catalog.LockCompliance, Until: until})
		}
		// The same date, and a later one, are fine.
		f.retain(t, "a", catalog.LockCompliance, until)
		l := f.retain(t, "a", catalog.LockCompliance, until.Add(24*time.Hour))
		sameLock(t, "extended", l, catalog.Lock{Mode: catalog.LockCompliance, Until: until.Add(24 * time.Hour)})
		sameLock(t, "extended", f.object("a").Lock, l)
	}},
	{"GovernanceBypass", func(t *testing.T, f *fixture) {
		f.put("a", demoResc, "sha2:A")
		until := later(0)
		f.retain(t, "a", catalog.LockGovernance, until)
		_, err := f.cat.SetRetention(f.ctx, catalog.RetentionChange{Path: f.path("a"), Mode: catalog.LockGovernance, Until: until.Add(-time.Minute), By: alice})
		f.refused(t, "shorter without bypass", err, "a")
		_, err = f.cat.SetRetention(f.ctx, catalog.RetentionChange{Path: f.path("a"), Mode: catalog.LockNone, By: alice})
		f.refused(t, "removed without bypass", err, "a")
		sameLock(t, "after refusals", f.object("a").Lock, catalog.Lock{Mode: catalog.LockGovernance, Until: until})
		// Strengthened to compliance at the same date, without bypass.
		gov := "b"
		f.put(gov, demoResc, "sha2:B")
		f.retain(t, gov, catalog.LockGovernance, until)
		f.retain(t, gov, catalog.LockCompliance, until)
		// With the bypass: shortened, then removed.
		l := must(f.cat.SetRetention(f.ctx, catalog.RetentionChange{Path: f.path("a"), Mode: catalog.LockGovernance,
			Until: until.Add(-time.Minute), By: rods, BypassGovernance: true}))(t)
		sameLock(t, "shortened", l, catalog.Lock{Mode: catalog.LockGovernance, Until: until.Add(-time.Minute)})
		if l.SetBy != rods {
			t.Errorf("set by %v, want rods", l.SetBy)
		}
		l = must(f.cat.SetRetention(f.ctx, catalog.RetentionChange{Path: f.path("a"), Mode: catalog.LockNone, By: rods, BypassGovernance: true}))(t)
		if !l.IsZero() || !f.object("a").Lock.IsZero() {
			t.Errorf("removed lock is %+v, stored %+v", l, f.object("a").Lock)
		}
		f.catalogRemoves(t, "a")
	}},
	{"BadInput", func(t *testing.T, f *fixture) {
		f.put("a", demoResc, "sha2:A")
		f.mkdir("c", alice)
		for _, c := range []struct {
			what string
			ch   catalog.RetentionChange
			want error
		}{
			{"date in the past", catalog.RetentionChange{Path: f.path("a"), Mode: catalog.LockCompliance, Until: time.Now().Add(-time.Hour)}, catalog.ErrInvalidArgument},
			{"no date", catalog.RetentionChange{Path: f.path("a"), Mode: catalog.LockCompliance}, catalog.ErrInvalidArgument},
			{"date without mode", catalog.RetentionChange{Path: f.path("a"), Until: later(0)}, catalog.ErrInvalidArgument},
			{"unknown mode", catalog.RetentionChange{Path: f.path("a"), Mode: "forever", Until: later(0)}, catalog.ErrInvalidArgument},
			{"date out of range", catalog.RetentionChange{Path: f.path("a"), Mode: catalog.LockCompliance, Until: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}, catalog.ErrInvalidArgument},
			{"collection", catalog.RetentionChange{Path: f.path("c"), Mode: catalog.LockCompliance, Until: later(0)}, catalog.ErrNotDataObject},
			{"missing", catalog.RetentionChange{Path: f.path("none"), Mode: catalog.LockCompliance, Until: later(0)}, catalog.ErrNotFound},
			{"no user", catalog.RetentionChange{Path: f.path("a"), Mode: catalog.LockCompliance, Until: later(0), By: catalog.UserID{}}, catalog.ErrInvalidArgument},
		} {
			if c.ch.By == (catalog.UserID{}) && c.what != "no user" {
				c.ch.By = alice
			}
			_, err := f.cat.SetRetention(f.ctx, c.ch)
			if !errors.Is(err, c.want) {
				t.Errorf("%s: got %v, want %v", c.what, err, c.want)
			}
		}
		if l := f.object("a").Lock; !l.IsZero() {
			t.Errorf("refused changes left lock %+v", l)
		}
		_, err := f.cat.SetHold(f.ctx, catalog.HoldChange{Path: f.path("c"), Hold: true, By: alice})
		wantErr(t, err, catalog.ErrNotDataObject)
		_, err = f.cat.SetHold(f.ctx, catalog.HoldChange{Path: f.path("none"), Hold: true, By: alice})
		wantErr(t, err, catalog.ErrNotFound)
		wantErr(t, f.cat.SetDefaultRetention(f.ctx, f.path("a"), catalog.DefaultRetention{Mode: catalog.LockCompliance, Period: catalog.Period{Years: 1}}), catalog.ErrNotCollection)
		wantErr(t, f.cat.SetDefaultRetention(f.ctx, f.path("none"), catalog.DefaultRetention{Mode: catalog.LockCompliance, Period: catalog.Period{Years: 1}}), catalog.ErrNotFound)
		wantErr(t, f.cat.SetDefaultRetention(f.ctx, f.path("c"), catalog.DefaultRetention{Period: catalog.Period{Years: 1}}), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.SetDefaultRetention(f.ctx, f.path("c"), catalog.DefaultRetention{Mode: catalog.LockCompliance}), catalog.ErrInvalidArgument)
		if d := f.collection("c").Retention; !d.IsZero() {
			t.Errorf("refused defaults left %+v", d)
		}
	}},
	{"LegalHold", func(t *testing.T, f *fixture) {
		f.put("a", demoResc, "sha2:A")
		l := must(f.cat.SetHold(f.ctx, catalog.HoldChange{Path: f.path("a"), Hold: true, By: rods}))(t)
		sameLock(t, "hold", l, catalog.Lock{Hold: true})
		sameLock(t, "stored hold", f.object("a").Lock, catalog.Lock{Hold: true})
		_, err := f.cat.RemoveDataObject(f.ctx, f.path("a"))
		f.refused(t, "remove on hold", err, "a")
		// Retention and hold are independent: each change keeps the other.
		until := later(0)
		l = f.retain(t, "a", catalog.LockGovernance, until)
		sameLock(t, "retention beside a hold", l, catalog.Lock{Mode: catalog.LockGovernance, Until: until, Hold: true})
		l = must(f.cat.SetRetention(f.ctx, catalog.RetentionChange{Path: f.path("a"), By: rods, BypassGovernance: true}))(t)
		sameLock(t, "retention removed, hold stays", l, catalog.Lock{Hold: true})
		_, err = f.cat.RemoveDataObject(f.ctx, f.path("a"))
		f.refused(t, "remove on hold without retention", err, "a")
		f.retain(t, "a", catalog.LockCompliance, until)
		l = must(f.cat.SetHold(f.ctx, catalog.HoldChange{Path: f.path("a"), Hold: false, By: rods}))(t)
		sameLock(t, "hold released, retention stays", l, catalog.Lock{Mode: catalog.LockCompliance, Until: until})
		_, err = f.cat.RemoveDataObject(f.ctx, f.path("a"))
		f.refused(t, "remove under compliance", err, "a")
		// A hold alone, released, frees the object.
		f.put("b", demoResc, "sha2:B")
		must(f.cat.SetHold(f.ctx, catalog.HoldChange{Path: f.path("b"), Hold: true, By: rods}))(t)
		must(f.cat.SetHold(f.ctx, catalog.HoldChange{Path: f.path("b"), Hold: false, By: rods}))(t)
		if l := f.object("b").Lock; l != (catalog.Lock{}) {
			t.Errorf("released hold reads %+v, want the zero lock", l)
		}
		f.catalogRemoves(t, "b")
	}},
	{"NoRemoveRenameOverwrite", func(t *testing.T, f *fixture) {
		f.mkdir("g", alice)
		f.mkdir("g/p", alice)
		f.put("g/p/a", demoResc, "sha2:A")
		f.put("g/p/free", demoResc, "sha2:F")
		f.mkdir("g/other", alice)
		f.put("g/other/x", demoResc, "sha2:X")
		until := later(0)
		f.retain(t, "g/p/a", catalog.LockCompliance, until)

		_, err := f.cat.RemoveDataObject(f.ctx, f.path("g/p/a"))
		f.refused(t, "remove", err, "g/p/a")
		for _, coll := range []string{"g/p", "g"} {
			_, err = f.cat.RemoveCollection(f.ctx, f.path(coll), true)
			le := f.refused(t, "remove -r "+coll, err, "g/p/a")
			if le.Within != f.path(coll) {
				t.Errorf("remove -r %s: the error names the collection %s", coll, le.Within)
			}
		}
		f.refused(t, "rename", f.cat.Rename(f.ctx, f.path("g/p/a"), f.path("g/p/b")), "g/p/a")
		f.refused(t, "move", f.cat.Rename(f.ctx, f.path("g/p/a"), f.path("g/other/a")), "g/p/a")
		f.refused(t, "rename parent", f.cat.Rename(f.ctx, f.path("g/p"), f.path("g/q")), "g/p/a")
		f.refused(t, "rename grandparent", f.cat.Rename(f.ctx, f.path("g"), f.path("h")), "g/p/a")
		_, _, err = f.cat.BeginReplica(f.ctx, f.newReplica(f.path("g/p/a"), demoResc, "overwrite"))
		f.refused(t, "overwrite", err, "g/p/a")
		_, _, err = f.cat.BeginReplica(f.ctx, f.newReplica(f.path("g/p/a"), otherResc, "overwrite"))
		f.refused(t, "overwrite on another resource", err, "g/p/a")
		// Nothing moved, nothing went.
		o := f.object("g/p/a")
		if len(o.Replicas) != 1 || o.Replicas[0].Status != catalog.ReplicaGood || o.Replicas[0].Checksum != "sha2:A" {
			t.Errorf("locked object after the refusals: %+v", o)
		}
		f.object("g/p/free")
		f.object("g/other/x")
		// A copy of the object's own bytes is allowed.
		nr := f.newReplica(f.path("g/p/a"), otherResc, "copy")
		nr.Copy = true
		_, cp, err := f.cat.BeginReplica(f.ctx, nr)
		ok(t, err)
		must(f.cat.CommitCopy(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: cp.Number, Holder: "copy",
			Size: o.Replicas[0].Size, Checksum: o.Replicas[0].Checksum}, o.Replicas[0].Number))(t)
		// What is not locked below the same collections still goes.
		f.catalogRemoves(t, "g/p/free")
		ok(t, f.cat.Rename(f.ctx, f.path("g/other"), f.path("g/moved")))
		must(f.cat.RemoveCollection(f.ctx, f.path("g/moved"), true))(t)
	}},
	{"Trim", func(t *testing.T, f *fixture) {
		o := f.put("a", demoResc, "sha2:A")
		src := o.Replicas[0]
		cp := f.beginCopy("a", otherResc, "copy")
		must(f.cat.CommitCopy(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: cp.Number, Holder: "copy", Size: src.Size, Checksum: src.Checksum}, src.Number))(t)
		f.retain(t, "a", catalog.LockCompliance, later(0))
		// A verified copy stays: the trim is allowed.
		must(f.cat.TrimReplica(f.ctx, o.ID, src.Number))(t)
		// The last good replica: refused as ever (ErrConflict).
		_, err := f.cat.TrimReplica(f.ctx, o.ID, cp.Number)
		wantErr(t, err, catalog.ErrConflict)

		// Two good replicas without checksums: neither is a verified copy
		// of the other, so the lock keeps both.
		reg := regObj(f, "b", 3)
		reg.Replicas[0].Checksum = ""
		reg.Replicas = append(reg.Replicas, catalog.RegisteredReplica{Resource: otherResc, PhysicalPath: f.physical(reg.Path), Size: 3})
		ok(t, f.cat.Register(f.ctx, []catalog.RegisteredObject{reg}, false))
		b := f.object("b")
		f.retain(t, "b", catalog.LockGovernance, later(0))
		_, err = f.cat.TrimReplica(f.ctx, b.ID, b.Replicas[0].Number)
		f.refused(t, "trim without a verified copy", err, "b")
		if got := f.object("b"); len(got.Replicas) != 2 {
			t.Errorf("refused trim left %+v", got.Replicas)
		}
		// A stale replica of a locked object may go.
		c := f.put("c", demoResc, "sha2:C1")
		w := f.beginCopy("c", otherResc, "w")
		must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: c.ID, Number: w.Number, Holder: "w", Size: 3, Checksum: "sha2:C2"}))(t)
		f.retain(t, "c", catalog.LockCompliance, later(0))
		must(f.cat.TrimReplica(f.ctx, c.ID, c.Replicas[0].Number))(t)
	}},
	{"Ends", func(t *testing.T, f *fixture) {
		f.mkdir("p", alice)
		f.put("p/a", demoResc, "sha2:A")
		until := time.Now().Add(1500 * time.Millisecond)
		f.retain(t, "p/a", catalog.LockCompliance, until)
		_, found := must2(f.cat.LockedBelow(f.ctx, f.path("p"), time.Now()))(t)
		if !found {
			t.Fatal("LockedBelow finds no locked object")
		}
		time.Sleep(time.Until(until) + 100*time.Millisecond)
		_, found = must2(f.cat.LockedBelow(f.ctx, f.path("p"), time.Now()))(t)
		if found {
			t.Error("LockedBelow finds a lock that has ended")
		}
		// An ended lock allows anything, a shorter one too.
		f.retain(t, "p/a", catalog.LockGovernance, later(0))
		must(f.cat.SetRetention(f.ctx, catalog.RetentionChange{Path: f.path("p/a"), By: rods, BypassGovernance: true}))(t)
		ok(t, f.cat.Rename(f.ctx, f.path("p"), f.path("q")))
		must(f.cat.RemoveCollection(f.ctx, f.path("q"), true))(t)
	}},
	{"LockedBelow", func(t *testing.T, f *fixture) {
		f.mkdir("t", alice)
		f.mkdir("t/u", alice)
		f.mkdir("t/u/v", alice)
		f.put("t/u/v/deep", demoResc, "sha2:D")
		f.put("t/top", demoResc, "sha2:T")
		f.mkdir("tt", alice) // a sibling whose path starts like t's
		f.put("tt/x", demoResc, "sha2:X")
		f.retain(t, "tt/x", catalog.LockCompliance, later(0))
		if _, found := must2(f.cat.LockedBelow(f.ctx, f.path("t"), time.Now()))(t); found {
			t.Fatal("LockedBelow of t finds the lock in tt")
		}
		must(f.cat.SetHold(f.ctx, catalog.HoldChange{Path: f.path("t/u/v/deep"), Hold: true, By: rods}))(t)
		ol, found := must2(f.cat.LockedBelow(f.ctx, f.path("t"), time.Now()))(t)
		if !found || ol.Path != f.path("t/u/v/deep") || !ol.Lock.Hold {
			t.Errorf("LockedBelow of t: %+v, %v", ol, found)
		}
		_, _, err := f.cat.LockedBelow(f.ctx, f.path("t/top"), time.Now())
		wantErr(t, err, catalog.ErrNotCollection)
		_, _, err = f.cat.LockedBelow(f.ctx, f.path("none"), time.Now())
		wantErr(t, err, catalog.ErrNotFound)
	}},
	{"Default", func(t *testing.T, f *fixture) {
		f.mkdir("arch", alice)
		d := catalog.DefaultRetention{Mode: catalog.LockCompliance, Period: catalog.Period{Years: 10}}
		ok(t, f.cat.SetDefaultRetention(f.ctx, f.path("arch"), d))
		if got := f.collection("arch").Retention; got != d {
			t.Fatalf("default %+v, want %+v", got, d)
		}
		sub := f.mkdir("arch/2024", alice)
		if sub.Retention != d || f.collection("arch/2024").Retention != d {
			t.Errorf("a new collection has default %+v (stored %+v), want its parent's", sub.Retention, f.collection("arch/2024").Retention)
		}
		if subs := must(f.cat.ListCollections(f.ctx, f.path("arch"), "", 10))(t); len(subs) != 1 || subs[0].Retention != d {
			t.Errorf("ListCollections: %+v", subs)
		}
		before := time.Now()
		nr := f.newReplica(f.path("arch/2024/a"), demoResc, "put")
		obj, _ := must2(f.cat.BeginReplica(f.ctx, nr))(t)
		if obj.Lock.Mode != catalog.LockCompliance {
			t.Errorf("BeginReplica returns lock %+v", obj.Lock)
		}
		o := f.object("arch/2024/a")
		if o.Lock.Mode != catalog.LockCompliance || o.Lock.Until.Before(before.AddDate(10, 0, 0).Add(-time.Second)) ||
			o.Lock.Until.After(time.Now().AddDate(10, 0, 0).Add(time.Second)) || o.Lock.SetBy != alice {
			t.Errorf("inherited lock %+v, want compliance for 10 years from now, set by alice", o.Lock)
		}
		ok(t, f.cat.Register(f.ctx, []catalog.RegisteredObject{regObj(f, "arch/reg", 1)}, false))
		if l := f.object("arch/reg").Lock; l.Mode != catalog.LockCompliance {
			t.Errorf("registered object has lock %+v", l)
		}
		ok(t, f.cat.Register(f.ctx, []catalog.RegisteredObject{regObj(f, "arch/made/reg", 1)}, true))
		if l := f.object("arch/made/reg").Lock; l.Mode != catalog.LockCompliance || f.collection("arch/made").Retention != d {
			t.Errorf("object registered below a made collection: lock %+v, collection default %+v", l, f.collection("arch/made").Retention)
		}
		// Removing the default changes no object.
		ok(t, f.cat.SetDefaultRetention(f.ctx, f.path("arch"), catalog.DefaultRetention{}))
		if got := f.collection("arch").Retention; !got.IsZero() {
			t.Errorf("removed default reads %+v", got)
		}
		f.put("arch/free", demoResc, "sha2:F")
		if l := f.object("arch/free").Lock; !l.IsZero() {
			t.Errorf("object put after the default went has lock %+v", l)
		}
		if l := f.object("arch/reg").Lock; l.Mode != catalog.LockCompliance {
			t.Errorf("removing the default changed an object's lock: %+v", l)
		}
		// A governance default of days.
		g := catalog.DefaultRetention{Mode: catalog.LockGovernance, Period: catalog.Period{Days: 30}}
		ok(t, f.cat.SetDefaultRetention(f.ctx, f.path("arch"), g))
		f.put("arch/g", demoResc, "sha2:G")
		if l := f.object("arch/g").Lock; l.Mode != catalog.LockGovernance || time.Until(l.Until) < 29*24*time.Hour {
			t.Errorf("governance default gives %+v", l)
		}
	}},
}

// catalogRemoves removes the object s, which must succeed.
func (f *fixture) catalogRemoves(t *testing.T, s string) {
	t.Helper()
	must(f.cat.RemoveDataObject(f.ctx, f.path(s)))(t)
	f.gone(s)
}
