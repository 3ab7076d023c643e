package catalogtest

import (
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

var renameTests = []test{
	{"Object", func(t *testing.T, f *fixture) {
		f.mkdir("a", alice)
		f.mkdir("b", alice)
		o := f.put("a/x", demoResc, "sha2:x")
		ok(t, f.cat.Rename(f.ctx, f.path("a/x"), f.path("a/y")))
		f.gone("a/x")
		if got := f.object("a/y"); got.ID != o.ID || got.Path != f.path("a/y") || len(got.Replicas) != 1 ||
			got.Replicas[0].Checksum != "sha2:x" {
			t.Fatalf("after rename in place: %+v", got)
		}
		ok(t, f.cat.Rename(f.ctx, f.path("a/y"), f.path("b/z")))
		f.gone("a/y")
		got := f.object("b/z")
		if got.ID != o.ID || got.Path != f.path("b/z") {
			t.Fatalf("after move: %+v, want id %v", got, o.ID)
		}
		sameReplica(t, "replica after move", got.Replicas[0], o.Replicas[0])
		equalACL(t, "after move", got.ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
		if l := must(f.cat.ListObjects(f.ctx, f.path("a"), "", 10))(t); len(l) != 0 {
			t.Errorf("a still lists %v", l)
		}
		if l := must(f.cat.ListObjects(f.ctx, f.path("b"), "", 10))(t); len(l) != 1 || l[0].Path != f.path("b/z") {
			t.Errorf("b lists %v", l)
		}
		// The old name is free again.
		f.put("a/x", demoResc, "sha2:new")
	}},
	{"Tree", func(t *testing.T, f *fixture) {
		// Names beyond ASCII catch a backend that cuts path prefixes by
		// characters where it should count bytes.
		f.mkdir("données", alice)
		f.mkdir("données/sub", alice)
		f.mkdir("données/sub/deep", bob)
		f.mkdir("données/sub-sibling", alice)
		objs := map[string]catalog.DataObject{
			"données/top":           f.put("données/top", demoResc, "sha2:1"),
			"données/sub/mid":       f.put("données/sub/mid", demoResc, "sha2:2"),
			"données/sub/deep/leaf": f.put("données/sub/deep/leaf", otherResc, "sha2:3"),
		}
		colls := map[string]catalog.Collection{}
		for _, s := range []string{"données", "données/sub", "données/sub/deep", "données/sub-sibling"} {
			colls[s] = f.collection(s)
		}
		f.mkdir("dest", alice)
		ok(t, f.cat.Rename(f.ctx, f.path("données"), f.path("dest/ü")))
		rebase := func(s string) string { return "dest/ü" + s[len("données"):] }
		for s, c := range colls {
			f.gone(s)
			got := f.collection(rebase(s))
			if got.ID != c.ID || got.Path != f.path(rebase(s)) || got.Owner != c.Owner {
				t.Errorf("%s moved to %+v", s, got)
			}
		}
		for s, o := range objs {
			f.gone(s)
			got := f.object(rebase(s))
			if got.ID != o.ID || got.Path != f.path(rebase(s)) || len(got.Replicas) != 1 ||
				got.Replicas[0].Checksum != o.Replicas[0].Checksum {
				t.Errorf("%s moved to %+v", s, got)
			}
		}
		subs := must(f.cat.ListCollections(f.ctx, f.path("dest/ü"), "", 10))(t)
		if len(subs) != 2 || subs[0].Path != f.path("dest/ü/sub") || subs[1].Path != f.path("dest/ü/sub-sibling") {
			t.Errorf("dest/ü lists %v", subs)
		}
		if l := must(f.cat.ListCollections(f.ctx, f.home, "", 10))(t); len(l) != 1 || l[0].Path != f.path("dest") {
			t.Errorf("home lists %v, want only dest", l)
		}
		// New collections and objects go below the new paths.
		f.mkdir("dest/ü/sub/deep/new", alice)
		f.put("dest/ü/sub/deep/new/o", demoResc, "sha2:4")
		f.mkdir("données", alice)
		f.gone("données/sub")
	}},
	{"PrefixSiblings", func(t *testing.T, f *fixture) {
		// Paths that share the prefix "x" but lie outside x/ must stay.
		for _, s := range []string{"x", "x/in", "x-1", "x-1/in", "x.y", "x0", "x0/in", "xx"} {
			f.mkdir(s, alice)
		}
		ok(t, f.cat.Rename(f.ctx, f.path("x"), f.path("w")))
		for _, s := range []string{"x-1", "x-1/in", "x.y", "x0", "x0/in", "xx", "w", "w/in"} {
			f.collection(s)
		}
		f.gone("x")
		f.gone("x/in")
	}},
	{"Errors", func(t *testing.T, f *fixture) {
		f.mkdir("a", alice)
		f.mkdir("a/b", alice)
		f.mkdir("c", alice)
		f.put("o", demoResc, "sha2:o")
		f.put("a/p", demoResc, "sha2:p")
		cases := []struct {
			name     string
			from, to catalog.Path
			want     error
		}{
			{"missing source", f.path("nope"), f.path("z"), catalog.ErrNotFound},
			{"onto collection", f.path("a"), f.path("c"), catalog.ErrExists},
			{"onto object", f.path("a"), f.path("o"), catalog.ErrExists},
			{"object onto object", f.path("o"), f.path("a/p"), catalog.ErrExists},
			{"object onto collection", f.path("o"), f.path("c"), catalog.ErrExists},
			{"onto itself", f.path("a"), f.path("a"), catalog.ErrExists},
			{"missing target parent", f.path("a"), f.path("nope/a"), catalog.ErrNotFound},
			{"object to missing parent", f.path("o"), f.path("nope/o"), catalog.ErrNotFound},
			{"target parent is object", f.path("c"), f.path("o/c"), catalog.ErrNotCollection},
			{"below itself", f.path("a"), f.path("a/b/a"), catalog.ErrInvalidArgument},
			{"child of itself", f.path("a"), f.path("a/a"), catalog.ErrInvalidArgument},
			{"root", catalog.MustPath("/"), f.path("r"), catalog.ErrInvalidArgument},
			{"zero", catalog.Path{}, f.path("r"), catalog.ErrInvalidArgument},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, f.cat.Rename(f.ctx, tc.from, tc.to), tc.want)
			})
		}
		for _, s := range []string{"a", "a/b", "c"} {
			f.collection(s)
		}
		f.object("o")
		f.object("a/p")
		f.gone("z")
		f.gone("a/b/a")
	}},
}

var removeTests = []test{
	{"DataObject", func(t *testing.T, f *fixture) {
		f.put("o", demoResc, "sha2:1")
		o := f.put("o", otherResc, "sha2:2")
		got := must(f.cat.RemoveDataObject(f.ctx, f.path("o")))(t)
		if len(got) != 2 {
			t.Fatalf("removed replicas %+v, want 2", got)
		}
		for i := range got {
			sameReplica(t, "removed", got[i], o.Replicas[i])
		}
		f.gone("o")
		_, err := f.cat.RemoveDataObject(f.ctx, f.path("o"))
		wantErr(t, err, catalog.ErrNotFound)
		f.mkdir("c", alice)
		_, err = f.cat.RemoveDataObject(f.ctx, f.path("c"))
		wantErr(t, err, catalog.ErrNotDataObject)
		f.collection("c")
		// The name is free for both kinds again.
		f.mkdir("o", alice)
	}},
	{"DataObjectBeingWritten", func(t *testing.T, f *fixture) {
		f.put("o", demoResc, "sha2:1")
		_, r := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("o"), otherResc, "writer")))(t)
		_, err := f.cat.RemoveDataObject(f.ctx, f.path("o"))
		wantErr(t, err, catalog.ErrLocked)
		if o := f.object("o"); len(o.Replicas) != 2 {
			t.Fatalf("refused removal changed replicas: %+v", o.Replicas)
		}
		// Once the lease has ended, removal goes ahead and returns the
		// intermediate replica too.
		ok(t, f.cat.RenewLease(f.ctx, r.ObjectID, r.Number, "writer", time.Now().Add(-time.Second)))
		got := must(f.cat.RemoveDataObject(f.ctx, f.path("o")))(t)
		if len(got) != 2 {
			t.Fatalf("removed %+v, want both replicas", got)
		}
	}},
	{"EmptyCollection", func(t *testing.T, f *fixture) {
		f.mkdir("e", alice)
		got := must(f.cat.RemoveCollection(f.ctx, f.path("e"), false))(t)
		if len(got) != 0 {
			t.Errorf("removed replicas %v from an empty collection", got)
		}
		f.gone("e")
		_, err := f.cat.RemoveCollection(f.ctx, f.path("e"), false)
		wantErr(t, err, catalog.ErrNotFound)
		f.mkdir("e", bob)
		if c := f.collection("e"); c.Owner != bob {
			t.Errorf("recreated collection has owner %v", c.Owner)
		}
		equalACL(t, "recreated", f.collection("e").ACL, catalog.ACE{Principal: bob, Level: catalog.AccessOwn})
	}},
	{"NotEmpty", func(t *testing.T, f *fixture) {
		f.mkdir("withcoll", alice)
		f.mkdir("withcoll/sub", alice)
		f.mkdir("withobj", alice)
		f.put("withobj/o", demoResc, "sha2:1")
		for _, s := range []string{"withcoll", "withobj"} {
			_, err := f.cat.RemoveCollection(f.ctx, f.path(s), false)
			wantErr(t, err, catalog.ErrNotEmpty)
			f.collection(s)
		}
		f.collection("withcoll/sub")
		f.object("withobj/o")
	}},
	{"Errors", func(t *testing.T, f *fixture) {
		f.put("o", demoResc, "sha2:1")
		for _, recursive := range []bool{false, true} {
			_, err := f.cat.RemoveCollection(f.ctx, f.path("o"), recursive)
			wantErr(t, err, catalog.ErrNotCollection)
			_, err = f.cat.RemoveCollection(f.ctx, catalog.MustPath("/"), recursive)
			wantErr(t, err, catalog.ErrInvalidArgument)
			_, err = f.cat.RemoveCollection(f.ctx, f.path("missing"), recursive)
			wantErr(t, err, catalog.ErrNotFound)
		}
		f.object("o")
		f.collection("/")
	}},
	{"Recursive", func(t *testing.T, f *fixture) {
		for _, s := range []string{"t", "t/a", "t/a/b", "t/c", "t-sibling", "t0"} {
			f.mkdir(s, alice)
		}
		want := map[string]bool{}
		for _, o := range []catalog.DataObject{
			f.put("t/o1", demoResc, "sha2:1"),
			f.put("t/a/o2", demoResc, "sha2:2"),
			f.put("t/a/b/o3", demoResc, "sha2:3"),
			f.put("t/a/b/o3", otherResc, "sha2:3b"),
		} {
			for _, r := range o.Replicas {
				want[r.PhysicalPath] = true
			}
		}
		f.put("t-sibling/keep", demoResc, "sha2:k")
		f.put("t0/keep", demoResc, "sha2:k0")
		ok(t, f.cat.SetAccess(f.ctx, f.path("t/a"), bob, catalog.AccessRead))

		got := must(f.cat.RemoveCollection(f.ctx, f.path("t"), true))(t)
		gotPaths := map[string]bool{}
		for _, r := range got {
			gotPaths[r.PhysicalPath] = true
		}
		if len(got) != len(want) || len(gotPaths) != len(want) {
			t.Errorf("removed %d replicas (%v), want %d", len(got), gotPaths, len(want))
		}
		for p := range want {
			if !gotPaths[p] {
				t.Errorf("replica %s not returned", p)
			}
		}
		for _, s := range []string{"t", "t/a", "t/a/b", "t/c", "t/o1", "t/a/o2", "t/a/b/o3"} {
			f.gone(s)
		}
		f.object("t-sibling/keep")
		f.object("t0/keep")
		// Recreating the tree starts empty.
		f.mkdir("t", alice)
		f.mkdir("t/a", bob)
		equalACL(t, "recreated t/a", f.collection("t/a").ACL, catalog.ACE{Principal: bob, Level: catalog.AccessOwn})
		if l := must(f.cat.ListObjects(f.ctx, f.path("t/a"), "", 10))(t); len(l) != 0 {
			t.Errorf("recreated t/a lists %v", l)
		}
	}},
	{"RecursiveBeingWritten", func(t *testing.T, f *fixture) {
		f.mkdir("t", alice)
		f.mkdir("t/a", alice)
		f.put("t/done", demoResc, "sha2:1")
		must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("t/a/writing"), demoResc, "w")))(t)
		_, err := f.cat.RemoveCollection(f.ctx, f.path("t"), true)
		wantErr(t, err, catalog.ErrLocked)
		f.object("t/done")
		f.object("t/a/writing")
	}},
}

var accessTests = []test{
	{"Grants", func(t *testing.T, f *fixture) {
		f.mkdir("c", alice)
		f.put("c/o", demoResc, "sha2:1")
		own := catalog.ACE{Principal: alice, Level: catalog.AccessOwn}
		for _, s := range []string{"c", "c/o"} {
			p := f.path(s)
			acl := func() []catalog.ACE {
				e := must(f.cat.Stat(f.ctx, p))(t)
				if e.Collection != nil {
					return e.Collection.ACL
				}
				return e.Object.ACL
			}
			ok(t, f.cat.SetAccess(f.ctx, p, bob, catalog.AccessRead))
			equalACL(t, s+" after read", acl(), own, catalog.ACE{Principal: bob, Level: catalog.AccessRead})
			ok(t, f.cat.SetAccess(f.ctx, p, bob, catalog.AccessWrite))
			equalACL(t, s+" after write", acl(), own, catalog.ACE{Principal: bob, Level: catalog.AccessWrite})
			remote := catalog.UserID{Name: "bob", Zone: "otherZone"}
			ok(t, f.cat.SetAccess(f.ctx, p, remote, catalog.AccessOwn))
			equalACL(t, s+" after remote", acl(), own, catalog.ACE{Principal: bob, Level: catalog.AccessWrite},
				catalog.ACE{Principal: remote, Level: catalog.AccessOwn})
			ok(t, f.cat.SetAccess(f.ctx, p, bob, catalog.AccessNull))
			equalACL(t, s+" after null", acl(), own, catalog.ACE{Principal: remote, Level: catalog.AccessOwn})
			// Removing a grant that is not there is no error.
			ok(t, f.cat.SetAccess(f.ctx, p, bob, catalog.AccessNull))
			ok(t, f.cat.SetAccess(f.ctx, p, alice, catalog.AccessRead))
			equalACL(t, s+" after owner lowered", acl(), catalog.ACE{Principal: alice, Level: catalog.AccessRead},
				catalog.ACE{Principal: remote, Level: catalog.AccessOwn})
		}
		// Grants on the collection do not show on its objects and back.
		if acl := f.object("c/o").ACL; len(acl) != 2 {
			t.Errorf("object ACL %v", acl)
		}
	}},
	{"Errors", func(t *testing.T, f *fixture) {
		f.mkdir("c", alice)
		wantErr(t, f.cat.SetAccess(f.ctx, f.path("missing"), bob, catalog.AccessRead), catalog.ErrNotFound)
		wantErr(t, f.cat.SetAccess(f.ctx, f.path("c"), bob, catalog.AccessLevel(9)), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.SetAccess(f.ctx, f.path("c"), bob, catalog.AccessLevel(-1)), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.SetAccess(f.ctx, f.path("c"), catalog.UserID{Name: "bob"}, catalog.AccessRead), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.SetAccess(f.ctx, f.path("c"), catalog.UserID{Name: "b/b", Zone: "z"}, catalog.AccessRead), catalog.ErrInvalidArgument)
		equalACL(t, "c", f.collection("c").ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
	}},
	{"RemovedWithTarget", func(t *testing.T, f *fixture) {
		f.mkdir("c", alice)
		f.put("o", demoResc, "sha2:1")
		ok(t, f.cat.SetAccess(f.ctx, f.path("c"), bob, catalog.AccessRead))
		ok(t, f.cat.SetAccess(f.ctx, f.path("o"), bob, catalog.AccessRead))
		must(f.cat.RemoveCollection(f.ctx, f.path("c"), false))(t)
		must(f.cat.RemoveDataObject(f.ctx, f.path("o")))(t)
		// New entries at the same paths (and perhaps the same ids) start
		// with only their owner's grant.
		equalACL(t, "new c", f.mkdir("c", alice).ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
		equalACL(t, "new c stored", f.collection("c").ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
		equalACL(t, "new o", f.put("o", demoResc, "sha2:2").ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
		// A collection made where a removed object was, and the reverse.
		f.put("c2", demoResc, "sha2:3")
		ok(t, f.cat.SetAccess(f.ctx, f.path("c2"), bob, catalog.AccessWrite))
		must(f.cat.RemoveDataObject(f.ctx, f.path("c2")))(t)
		equalACL(t, "c2", f.mkdir("c2", alice).ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
		equalACL(t, "c2 stored", f.collection("c2").ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
	}},
}
