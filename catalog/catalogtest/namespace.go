package catalogtest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
)

var namespaceTests = []test{
	{"Root", func(t *testing.T, f *fixture) {
		e := must(f.cat.Stat(f.ctx, catalog.MustPath("/")))(t)
		if e.Collection == nil || e.Object != nil || !e.Collection.Path.IsRoot() {
			t.Fatalf("Stat(/) = %+v, want the root collection", e)
		}
		subs := must(f.cat.ListCollections(f.ctx, catalog.MustPath("/"), "", 10))(t)
		if len(subs) != 1 || subs[0].Path.String() != "/tempZone" {
			t.Fatalf("ListCollections(/) = %v, want only /tempZone", subs)
		}
	}},
	{"CreateCollection", func(t *testing.T, f *fixture) {
		c := f.mkdir("data", bob)
		if c.ID == 0 || c.Path != f.path("data") || c.Owner != bob {
			t.Fatalf("CreateCollection returned %+v", c)
		}
		checkTime(t, "create time", c.CreateTime, f.start)
		if !c.ModifyTime.Equal(c.CreateTime) {
			t.Errorf("modify time %v != create time %v", c.ModifyTime, c.CreateTime)
		}
		equalACL(t, "returned", c.ACL, catalog.ACE{Principal: bob, Level: catalog.AccessOwn})

		got := f.collection("data")
		if got.ID != c.ID || got.Path != c.Path || got.Owner != bob ||
			!got.CreateTime.Equal(c.CreateTime) || !got.ModifyTime.Equal(c.ModifyTime) {
			t.Errorf("Collection = %+v, want %+v", got, c)
		}
		equalACL(t, "stored", got.ACL, catalog.ACE{Principal: bob, Level: catalog.AccessOwn})

		e := must(f.cat.Stat(f.ctx, c.Path))(t)
		if e.Collection == nil || e.Object != nil || e.Collection.ID != c.ID || e.Path() != c.Path {
			t.Errorf("Stat = %+v, want the collection", e)
		}
		if other := f.mkdir("data2", bob); other.ID == c.ID {
			t.Errorf("two collections share id %v", c.ID)
		}
	}},
	{"CreateCollectionErrors", func(t *testing.T, f *fixture) {
		f.mkdir("x", alice)
		f.put("obj", demoResc, "sha2:a")
		cases := []struct {
			name  string
			path  catalog.Path
			owner catalog.UserID
			want  error
			msg   string // the error names it
		}{
			{"existing", f.path("x"), alice, catalog.ErrExists, ""},
			{"root", catalog.MustPath("/"), alice, catalog.ErrExists, ""},
			{"zone", catalog.MustPath("/tempZone"), alice, catalog.ErrExists, ""},
			{"object there", f.path("obj"), alice, catalog.ErrExists, ""},
			{"no parent", f.path("nope/y"), alice, catalog.ErrNotFound, f.path("nope").String()},
			{"no grandparent", f.path("nope/y/z"), alice, catalog.ErrNotFound, f.path("nope/y").String()},
			{"parent is object", f.path("obj/y"), alice, catalog.ErrNotCollection, ""},
			{"zero path", catalog.Path{}, alice, catalog.ErrInvalidArgument, ""},
			{"no owner", f.path("y"), catalog.UserID{}, catalog.ErrInvalidArgument, ""},
			{"bad owner", f.path("y"), catalog.UserID{Name: "a b", Zone: "tempZone"}, catalog.ErrInvalidArgument, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.cat.CreateCollection(f.ctx, catalog.Collection{Path: tc.path, Owner: tc.owner})
				wantErr(t, err, tc.want)
				if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("error %q does not name %s", err, tc.msg)
				}
			})
		}
		// Nothing of the failures remains.
		f.gone("y")
		f.gone("nope")
		if c := f.collection("x"); c.Owner != alice {
			t.Errorf("failed create changed the owner of x to %v", c.Owner)
		}
	}},
	{"LookupKinds", func(t *testing.T, f *fixture) {
		f.mkdir("coll", alice)
		o := f.put("obj", demoResc, "sha2:a")
		_, err := f.cat.Collection(f.ctx, f.path("obj"))
		wantErr(t, err, catalog.ErrNotCollection)
		_, err = f.cat.DataObject(f.ctx, f.path("coll"))
		wantErr(t, err, catalog.ErrNotDataObject)
		_, err = f.cat.Collection(f.ctx, f.path("missing"))
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.DataObject(f.ctx, f.path("missing"))
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.DataObject(f.ctx, f.path("missing/deeper"))
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.Stat(f.ctx, f.path("missing"))
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.Stat(f.ctx, catalog.Path{})
		wantErr(t, err, catalog.ErrInvalidArgument)

		e := must(f.cat.Stat(f.ctx, f.path("obj")))(t)
		if e.Object == nil || e.Collection != nil || e.Object.ID != o.ID || e.Path() != f.path("obj") {
			t.Fatalf("Stat(obj) = %+v", e)
		}
		if len(e.Object.Replicas) != 1 || e.Object.Replicas[0].Checksum != "sha2:a" {
			t.Errorf("Stat(obj) replicas = %+v", e.Object.Replicas)
		}
		equalACL(t, "Stat(obj)", e.Object.ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
		if o.Owner != alice || o.Path != f.path("obj") {
			t.Errorf("object = %+v", o)
		}
	}},
	{"ListObjectsPaging", func(t *testing.T, f *fixture) {
		f.mkdir("big", alice)
		// Names whose byte order differs from insertion order, with
		// characters around '/' and beyond ASCII.
		var names []string
		for i := range 23 {
			names = append(names, fmt.Sprintf("f%02d", i))
		}
		names = append(names, "A", "f-", "f.", "f0", "é", "z", "ß", "f 1")
		rand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		for _, n := range names {
			f.put("big/"+n, demoResc, "sha2:"+n)
		}
		f.mkdir("big/sub-collection", alice) // must not be listed as an object
		slices.Sort(names)

		for _, limit := range []int{1, 7, len(names), 100} {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > len(names)+1 {
					t.Fatalf("limit %d: paging does not end", limit)
				}
				page := must(f.cat.ListObjects(f.ctx, f.path("big"), after, limit))(t)
				if len(page) > limit {
					t.Fatalf("limit %d: got a page of %d", limit, len(page))
				}
				for _, o := range page {
					got = append(got, o.Path.Name())
					if o.Path.Parent() != f.path("big") {
						t.Errorf("listed %s outside big", o.Path)
					}
					if len(o.Replicas) != 1 || o.Replicas[0].Checksum != "sha2:"+o.Path.Name() ||
						o.Replicas[0].ObjectID != o.ID || o.Replicas[0].Status != catalog.ReplicaGood {
						t.Errorf("%s: replicas %+v", o.Path, o.Replicas)
					}
					equalACL(t, o.Path.String(), o.ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
				}
				if len(page) < limit {
					break
				}
				after = page[len(page)-1].Path.Name()
			}
			if !slices.Equal(got, names) {
				t.Errorf("limit %d: listed\n%q\nwant\n%q", limit, got, names)
			}
		}
		// after need not name an existing object.
		page := must(f.cat.ListObjects(f.ctx, f.path("big"), "f05a", 3))(t)
		if want := []string{"f06", "f07", "f08"}; len(page) != 3 || page[0].Path.Name() != want[0] ||
			page[1].Path.Name() != want[1] || page[2].Path.Name() != want[2] {
			t.Errorf("after f05a: got %v, want %v", page, want)
		}
		if page := must(f.cat.ListObjects(f.ctx, f.path("big"), "ß", 3))(t); len(page) != 1 || page[0].Path.Name() != "é" {
			// "ß" is C3 9F, "é" is C3 A9: byte order.
			t.Errorf("after ß: got %v, want only é", page)
		}
		if page := must(f.cat.ListObjects(f.ctx, f.path("big"), "\U0010ffff", 3))(t); len(page) != 0 {
			t.Errorf("after the last name: got %v", page)
		}
		// Replicas of several resources and several per object.
		f.put("big/A", otherResc, "sha2:A2")
		page = must(f.cat.ListObjects(f.ctx, f.path("big"), "", 1))(t)
		if len(page) != 1 || len(page[0].Replicas) != 2 || page[0].Replicas[0].Number >= page[0].Replicas[1].Number {
			t.Errorf("A: got %+v, want two replicas ordered by number", page)
		}
	}},
	{"ListCollectionsPaging", func(t *testing.T, f *fixture) {
		f.mkdir("tree", alice)
		names := []string{"b", "a", "a-", "a0", "a.b", "c", "Z", "ü"}
		for _, n := range names {
			f.mkdir("tree/"+n, bob)
			f.mkdir("tree/"+n+"/inner", bob) // must not be listed
		}
		f.put("tree/object", demoResc, "sha2:x") // must not be listed
		ok(t, f.cat.SetAccess(f.ctx, f.path("tree/c"), alice, catalog.AccessRead))
		slices.Sort(names)
		var got []string
		after := ""
		for {
			page := must(f.cat.ListCollections(f.ctx, f.path("tree"), after, 3))(t)
			for _, c := range page {
				got = append(got, c.Path.Name())
				if c.Owner != bob || c.ID == 0 {
					t.Errorf("%s: %+v", c.Path, c)
				}
				want := []catalog.ACE{{Principal: bob, Level: catalog.AccessOwn}}
				if c.Path.Name() == "c" {
					want = append(want, catalog.ACE{Principal: alice, Level: catalog.AccessRead})
				}
				equalACL(t, c.Path.String(), c.ACL, want...)
			}
			if len(page) < 3 {
				break
			}
			after = page[len(page)-1].Path.Name()
		}
		if !slices.Equal(got, names) {
			t.Errorf("listed %q, want %q", got, names)
		}
	}},
	{"ListErrors", func(t *testing.T, f *fixture) {
		f.put("obj", demoResc, "sha2:a")
		_, err := f.cat.ListObjects(f.ctx, f.path("missing"), "", 10)
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.ListCollections(f.ctx, f.path("missing"), "", 10)
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.ListObjects(f.ctx, f.path("obj"), "", 10)
		wantErr(t, err, catalog.ErrNotCollection)
		_, err = f.cat.ListCollections(f.ctx, f.path("obj"), "", 10)
		wantErr(t, err, catalog.ErrNotCollection)
		_, err = f.cat.ListObjects(f.ctx, f.home, "", 0)
		wantErr(t, err, catalog.ErrInvalidArgument)
		_, err = f.cat.ListCollections(f.ctx, f.home, "", -1)
		wantErr(t, err, catalog.ErrInvalidArgument)
		if l := must(f.cat.ListObjects(f.ctx, f.path("/tempZone/home"), "", 10))(t); len(l) != 0 {
			t.Errorf("empty collection lists %v", l)
		}
	}},
}
