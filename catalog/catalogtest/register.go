package catalogtest

import (
	"fmt"
	"testing"

	"github.com/arca-data/arca/catalog"
)

func regObj(f *fixture, s string, size int64, avus ...catalog.AVU) catalog.RegisteredObject {
	p := f.path(s)
	return catalog.RegisteredObject{Path: p, Owner: alice, Metadata: avus,
		Replicas: []catalog.RegisteredReplica{{Resource: demoResc, PhysicalPath: f.physical(p), Size: size, Checksum: "sum"}}}
}

var registerTests = []test{
	{"Batch", func(t *testing.T, f *fixture) {
		f.mkdir("reg", alice)
		var objs []catalog.RegisteredObject
		for i := range 50 {
			objs = append(objs, regObj(f, fmt.Sprintf("reg/o%02d", i), int64(i), avu("project", "p1"), avu("n", fmt.Sprint(i))))
		}
		two := regObj(f, "reg/two", 5)
		two.Replicas = append(two.Replicas, catalog.RegisteredReplica{Resource: otherResc, PhysicalPath: "other/two", Size: 5})
		objs = append(objs, two)
		ok(t, f.cat.Register(f.ctx, objs, false))
		o := f.object("reg/o07")
		if len(o.Replicas) != 1 || o.Replicas[0].Status != catalog.ReplicaGood || o.Replicas[0].Size != 7 || o.Owner != alice {
			t.Errorf("registered object: %+v", o)
		}
		if len(o.ACL) != 1 || o.ACL[0].Principal != alice || o.ACL[0].Level != catalog.AccessOwn {
			t.Errorf("registered object ACL: %+v", o.ACL)
		}
		equalAVUs(t, "AVUs", f.avus(catalog.ObjectTarget(o.Path)), avu("project", "p1"), avu("n", "7"))
		if o := f.object("reg/two"); len(o.Replicas) != 2 {
			t.Errorf("two replicas: %+v", o.Replicas)
		}
		if got := must(f.cat.ListObjects(f.ctx, f.path("reg"), "", 100))(t); len(got) != 51 {
			t.Errorf("listed %d objects", len(got))
		}
	}},
	{"AllOrNothing", func(t *testing.T, f *fixture) {
		f.mkdir("reg", alice)
		f.put("reg/taken", demoResc, "x")
		objs := []catalog.RegisteredObject{regObj(f, "reg/a", 1), regObj(f, "reg/taken", 1)}
		wantErr(t, f.cat.Register(f.ctx, objs, false), catalog.ErrExists)
		_, err := f.cat.DataObject(f.ctx, f.path("reg/a"))
		wantErr(t, err, catalog.ErrNotFound)
		wantErr(t, f.cat.Register(f.ctx, []catalog.RegisteredObject{regObj(f, "missing/a", 1)}, false), catalog.ErrNotFound)
		dup := []catalog.RegisteredObject{regObj(f, "reg/b", 1), regObj(f, "reg/b", 1)}
		wantErr(t, f.cat.Register(f.ctx, dup, false), catalog.ErrExists)
		same := []catalog.RegisteredObject{regObj(f, "reg/c", 1), regObj(f, "reg/d", 1)}
		same[1].Replicas[0].PhysicalPath = same[0].Replicas[0].PhysicalPath
		wantErr(t, f.cat.Register(f.ctx, same, false), catalog.ErrExists)
		bad := regObj(f, "reg/e", 1)
		bad.Replicas[0].Resource = "nope"
		wantErr(t, f.cat.Register(f.ctx, []catalog.RegisteredObject{bad}, false), catalog.ErrNotFound)
		noRepl := regObj(f, "reg/f", 1)
		noRepl.Replicas = nil
		wantErr(t, f.cat.Register(f.ctx, []catalog.RegisteredObject{noRepl}, false), catalog.ErrInvalidArgument)
		if got := must(f.cat.ListObjects(f.ctx, f.path("reg"), "", 100))(t); len(got) != 1 {
			t.Errorf("failed registrations left %d objects", len(got))
		}
	}},
	{"Parents", func(t *testing.T, f *fixture) {
		f.users(t, bob)
		f.mkdir("reg", alice)
		ok(t, f.cat.SetAccess(f.ctx, f.path("reg"), bob, catalog.AccessRead))
		ok(t, f.cat.SetInheritance(f.ctx, f.path("reg"), true))
		ok(t, f.cat.Register(f.ctx, []catalog.RegisteredObject{regObj(f, "reg/x/y/z", 3), regObj(f, "reg/x/w", 4)}, true))
		c := f.collection("reg/x/y")
		if !c.Inherit || c.Owner != alice {
			t.Errorf("created collection: %+v", c)
		}
		o := f.object("reg/x/y/z")
		if len(o.ACL) != 2 {
			t.Errorf("object below an inheriting collection: ACL %+v", o.ACL)
		}
	}},
	{"CountsUsage", func(t *testing.T, f *fixture) {
		f.mkdir("reg", alice)
		q := catalog.Quota{Kind: catalog.QuotaCollection, Path: f.path("reg"), MaxBytes: 1 << 30}
		ok(t, f.cat.SetQuota(f.ctx, q))
		ok(t, f.cat.Register(f.ctx, []catalog.RegisteredObject{regObj(f, "reg/a", 10), regObj(f, "reg/b", 20)}, false))
		usage(t, f.quota(t, q), 30, 2)
	}},
}
