package catalogtest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
)

// avu makes an AVU; the unit is optional.
func avu(attr, value string, unit ...string) catalog.AVU {
	a := catalog.AVU{Attribute: attr, Value: value}
	if len(unit) > 0 {
		a.Unit = unit[0]
	}
	return a
}

// avus lists the AVUs of t, failing the test on error.
func (f *fixture) avus(t catalog.AVUTarget) []catalog.AVU {
	f.t.Helper()
	got, err := f.cat.ListMetadata(f.ctx, t)
	if err != nil {
		f.t.Fatalf("list metadata of %s: %v", t, err)
	}
	return got
}

// equalAVUs checks that got is want, in ListMetadata's order (attribute,
// value, unit), which want need not be in.
func equalAVUs(t testing.TB, what string, got []catalog.AVU, want ...catalog.AVU) {
	t.Helper()
	want = slices.Clone(want)
	slices.SortFunc(want, compareAVU)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: AVUs\n  %v\nwant\n  %v", what, got, want)
	}
}

func compareAVU(a, b catalog.AVU) int {
	if c := strings.Compare(a.Attribute, b.Attribute); c != 0 {
		return c
	}
	if c := strings.Compare(a.Value, b.Value); c != 0 {
		return c
	}
	return strings.Compare(a.Unit, b.Unit)
}

// targets makes one target of every kind: the data object "obj", the
// collection "coll", the resource demoResc and the user alice.
func (f *fixture) targets() []catalog.AVUTarget {
	f.t.Helper()
	f.put("obj", demoResc, "sha2:a")
	f.mkdir("coll", alice)
	if _, err := f.cat.CreateUser(f.ctx, catalog.User{Name: alice.Name, Zone: alice.Zone, Type: catalog.UserTypeUser}); err != nil {
		f.t.Fatal(err)
	}
	return []catalog.AVUTarget{
		catalog.ObjectTarget(f.path("obj")),
		catalog.CollectionTarget(f.path("coll")),
		catalog.ResourceTarget(demoResc),
		catalog.UserTarget(alice),
	}
}

var metadataTests = []test{
	{"AddAndList", func(t *testing.T, f *fixture) {
		for _, tg := range f.targets() {
			t.Run(tg.Kind.String(), func(t *testing.T) {
				equalAVUs(t, "new target", f.avus(tg))
				ok(t, f.cat.AddMetadata(f.ctx, tg, avu("project", "abc"), avu("size", "12", "GB")))
				// Many values per attribute; the unit tells AVUs apart.
				ok(t, f.cat.AddMetadata(f.ctx, tg, avu("project", "xyz")))
				ok(t, f.cat.AddMetadata(f.ctx, tg, avu("size", "12", "MB"), avu("size", "12")))
				ok(t, f.cat.AddMetadata(f.ctx, tg, avu("Ünïcode ✓", "välue", "µm")))
				equalAVUs(t, tg.String(), f.avus(tg),
					avu("project", "abc"), avu("project", "xyz"),
					avu("size", "12", "GB"), avu("size", "12", "MB"), avu("size", "12"),
					avu("Ünïcode ✓", "välue", "µm"))
			})
		}
		// Each target kept its own: nothing leaked between kinds.
		obj := catalog.ObjectTarget(f.path("obj"))
		ok(t, f.cat.RemoveMetadata(f.ctx, obj, avu("project", "abc")))
		if got := f.avus(catalog.CollectionTarget(f.path("coll"))); len(got) != 6 {
			t.Errorf("removing from the object changed the collection: %v", got)
		}
	}},
	{"AddExisting", func(t *testing.T, f *fixture) {
		tg := f.targets()[0]
		ok(t, f.cat.AddMetadata(f.ctx, tg, avu("a", "1")))
		// An AVU that exists exactly is ErrExists, as in iRODS, and the
		// rest of the call is not added.
		err := f.cat.AddMetadata(f.ctx, tg, avu("b", "2"), avu("a", "1"))
		wantErr(t, err, catalog.ErrExists)
		if !strings.Contains(err.Error(), `"a"`) {
			t.Errorf("error %q does not name the AVU", err)
		}
		// The same AVU twice in one call.
		wantErr(t, f.cat.AddMetadata(f.ctx, tg, avu("c", "3"), avu("c", "3")), catalog.ErrExists)
		equalAVUs(t, "after refusals", f.avus(tg), avu("a", "1"))
		// Another unit or value is another AVU.
		ok(t, f.cat.AddMetadata(f.ctx, tg, avu("a", "1", "u"), avu("a", "10")))
		equalAVUs(t, "after adds", f.avus(tg), avu("a", "1"), avu("a", "1", "u"), avu("a", "10"))
	}},
	{"Validation", func(t *testing.T, f *fixture) {
		tg := f.targets()[0]
		long := func(n int) string { return strings.Repeat("x", n) }
		// The limits themselves are fine.
		ok(t, f.cat.AddMetadata(f.ctx, tg, catalog.AVU{Attribute: long(catalog.MaxAttributeLen),
			Value: long(catalog.MaxValueLen), Unit: long(catalog.MaxUnitLen)}))
		ok(t, f.cat.AddMetadata(f.ctx, tg, avu("多字节", strings.Repeat("é", catalog.MaxValueLen/2))))
		cases := []struct {
			name string
			avu  catalog.AVU
			msg  string // the error names the problem
		}{
			{"empty attribute", avu("", "v"), "empty attribute"},
			{"empty value", avu("a", ""), "empty value"},
			{"long attribute", avu(long(catalog.MaxAttributeLen+1), "v"), "attribute of 2701 bytes"},
			{"long value", avu("a", long(catalog.MaxValueLen+1)), "value of 2701 bytes"},
			{"long unit", avu("a", "v", long(catalog.MaxUnitLen+1)), "unit of 251 bytes"},
			{"multibyte over limit", avu("a", strings.Repeat("é", catalog.MaxValueLen/2+1)), "value of 2702 bytes"},
			{"bad UTF-8 attribute", avu("a\xff", "v"), "attribute"},
			{"bad UTF-8 value", avu("a", "\xc3"), "value"},
			{"bad UTF-8 unit", avu("a", "v", "\xed\xa0\x80"), "unit"},
			{"NUL attribute", avu("a\x00b", "v"), "NUL"},
			{"NUL value", avu("a", "\x00"), "NUL"},
			{"NUL unit", avu("a", "v", "u\x00"), "NUL"},
		}
		good := avu("good", "1")
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				check := func(what string, err error) {
					t.Helper()
					wantErr(t, err, catalog.ErrInvalidArgument)
					if !strings.Contains(err.Error(), tc.msg) {
						t.Errorf("%s: error %q does not say %q", what, err, tc.msg)
					}
				}
				check("add", f.cat.AddMetadata(f.ctx, tg, good, tc.avu))
				check("bulk", f.cat.AddMetadataBulk(f.ctx, []catalog.AVUBatch{{Target: tg, AVUs: []catalog.AVU{good}},
					{Target: catalog.ResourceTarget(demoResc), AVUs: []catalog.AVU{tc.avu}}}))
				check("set", f.cat.SetMetadata(f.ctx, tg, tc.avu))
				check("modify to", f.cat.ModifyMetadata(f.ctx, tg, good, tc.avu))
				check("remove", f.cat.RemoveMetadata(f.ctx, tg, tc.avu))
				if tc.name != "empty value" { // an empty pattern matches an empty field
					_, err := f.cat.RemoveMetadataMatching(f.ctx, tg, tc.avu)
					check("remove matching", err)
				}
			})
		}
		if got := f.avus(tg); len(got) != 2 {
			t.Errorf("refused AVUs were stored: %d AVUs", len(got))
		}
		for _, call := range []error{
			f.cat.AddMetadata(f.ctx, tg),
			f.cat.AddMetadataBulk(f.ctx, nil),
		} {
			wantErr(t, call, catalog.ErrInvalidArgument)
		}
	}},
	{"Targets", func(t *testing.T, f *fixture) {
		f.targets()
		cases := []struct {
			name   string
			target catalog.AVUTarget
			want   error
		}{
			{"missing object", catalog.ObjectTarget(f.path("nope")), catalog.ErrNotFound},
			{"object in missing collection", catalog.ObjectTarget(f.path("nope/x")), catalog.ErrNotFound},
			{"object target on a collection", catalog.ObjectTarget(f.path("coll")), catalog.ErrNotDataObject},
			{"missing collection", catalog.CollectionTarget(f.path("nope")), catalog.ErrNotFound},
			{"collection target on an object", catalog.CollectionTarget(f.path("obj")), catalog.ErrNotCollection},
			{"missing resource", catalog.ResourceTarget("nopeResc"), catalog.ErrNotFound},
			{"missing user", catalog.UserTarget(bob), catalog.ErrNotFound},
			{"user of another zone", catalog.UserTarget(catalog.UserID{Name: "alice", Zone: "otherZone"}), catalog.ErrNotFound},
			{"zero target", catalog.AVUTarget{}, catalog.ErrInvalidArgument},
			{"object without path", catalog.AVUTarget{Kind: catalog.TargetDataObject}, catalog.ErrInvalidArgument},
			{"resource without name", catalog.ResourceTarget(""), catalog.ErrInvalidArgument},
			{"bad user name", catalog.UserTarget(catalog.UserID{Name: "a b", Zone: "tempZone"}), catalog.ErrInvalidArgument},
		}
		a := avu("a", "1")
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, f.cat.AddMetadata(f.ctx, tc.target, a), tc.want)
				wantErr(t, f.cat.SetMetadata(f.ctx, tc.target, a), tc.want)
				wantErr(t, f.cat.RemoveMetadata(f.ctx, tc.target, a), tc.want)
				_, err := f.cat.RemoveMetadataMatching(f.ctx, tc.target, avu("%", "%"))
				wantErr(t, err, tc.want)
				wantErr(t, f.cat.ModifyMetadata(f.ctx, tc.target, a, avu("b", "2")), tc.want)
				_, err = f.cat.ListMetadata(f.ctx, tc.target)
				wantErr(t, err, tc.want)
			})
		}
		// The root collection is a target like any other.
		root := catalog.CollectionTarget(catalog.MustPath("/"))
		ok(t, f.cat.AddMetadata(f.ctx, root, a))
		equalAVUs(t, "root", f.avus(root), a)
	}},
	{"BulkAtomic", func(t *testing.T, f *fixture) {
		tgs := f.targets()
		ok(t, f.cat.AddMetadata(f.ctx, tgs[2], avu("had", "1")))
		batch := func(last catalog.AVUBatch) []catalog.AVUBatch {
			return []catalog.AVUBatch{
				{Target: tgs[0], AVUs: []catalog.AVU{avu("a", "1"), avu("b", "2", "u")}},
				{Target: tgs[1], AVUs: []catalog.AVU{avu("a", "1")}},
				last,
			}
		}
		cases := []struct {
			name string
			last catalog.AVUBatch
			want error
		}{
			{"invalid AVU", catalog.AVUBatch{Target: tgs[3], AVUs: []catalog.AVU{avu("ok", "1"), avu("", "x")}}, catalog.ErrInvalidArgument},
			{"no AVU", catalog.AVUBatch{Target: tgs[3]}, catalog.ErrInvalidArgument},
			{"missing target", catalog.AVUBatch{Target: catalog.ObjectTarget(f.path("nope")), AVUs: []catalog.AVU{avu("a", "1")}}, catalog.ErrNotFound},
			{"existing AVU", catalog.AVUBatch{Target: tgs[2], AVUs: []catalog.AVU{avu("new", "1"), avu("had", "1")}}, catalog.ErrExists},
			{"same AVU twice across items", catalog.AVUBatch{Target: tgs[0], AVUs: []catalog.AVU{avu("a", "1")}}, catalog.ErrExists},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantErr(t, f.cat.AddMetadataBulk(f.ctx, batch(tc.last)), tc.want)
				for i, tg := range tgs {
					if i == 2 {
						equalAVUs(t, tg.String(), f.avus(tg), avu("had", "1"))
					} else {
						equalAVUs(t, tg.String(), f.avus(tg))
					}
				}
			})
		}
		ok(t, f.cat.AddMetadataBulk(f.ctx, batch(catalog.AVUBatch{Target: tgs[3], AVUs: []catalog.AVU{avu("z", "9")}})))
		equalAVUs(t, "object", f.avus(tgs[0]), avu("a", "1"), avu("b", "2", "u"))
		equalAVUs(t, "collection", f.avus(tgs[1]), avu("a", "1"))
		equalAVUs(t, "user", f.avus(tgs[3]), avu("z", "9"))
		// Many targets and AVUs in one call.
		var big []catalog.AVUBatch
		for i := range 50 {
			p := f.path("many" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)))
			f.put(p.String(), demoResc, "sha2:m")
			big = append(big, catalog.AVUBatch{Target: catalog.ObjectTarget(p),
				AVUs: []catalog.AVU{avu("i", string(rune('a'+i%26))), avu("j", "1"), avu("k", "2", "u")}})
		}
		ok(t, f.cat.AddMetadataBulk(f.ctx, big))
		for _, b := range big {
			equalAVUs(t, b.Target.String(), f.avus(b.Target), b.AVUs...)
		}
	}},
	{"Set", func(t *testing.T, f *fixture) {
		for _, tg := range f.targets() {
			t.Run(tg.Kind.String(), func(t *testing.T) {
				// Set on a new attribute adds it.
				ok(t, f.cat.SetMetadata(f.ctx, tg, avu("state", "new")))
				equalAVUs(t, "first set", f.avus(tg), avu("state", "new"))
				ok(t, f.cat.AddMetadata(f.ctx, tg, avu("state", "other", "u"), avu("state", "third"), avu("keep", "1")))
				// Set replaces every value of the attribute, and only those.
				ok(t, f.cat.SetMetadata(f.ctx, tg, avu("state", "done", "s")))
				equalAVUs(t, "after set", f.avus(tg), avu("state", "done", "s"), avu("keep", "1"))
				// Setting what is there already is no error.
				ok(t, f.cat.SetMetadata(f.ctx, tg, avu("state", "done", "s")))
				equalAVUs(t, "set again", f.avus(tg), avu("state", "done", "s"), avu("keep", "1"))
				// Attributes are case-sensitive.
				ok(t, f.cat.SetMetadata(f.ctx, tg, avu("STATE", "x")))
				equalAVUs(t, "other case", f.avus(tg), avu("STATE", "x"), avu("state", "done", "s"), avu("keep", "1"))
			})
		}
	}},
	{"Remove", func(t *testing.T, f *fixture) {
		for _, tg := range f.targets() {
			t.Run(tg.Kind.String(), func(t *testing.T) {
				ok(t, f.cat.AddMetadata(f.ctx, tg, avu("a", "1"), avu("a", "1", "u"), avu("a", "2"), avu("b", "1")))
				ok(t, f.cat.RemoveMetadata(f.ctx, tg, avu("a", "1")))
				equalAVUs(t, "after remove", f.avus(tg), avu("a", "1", "u"), avu("a", "2"), avu("b", "1"))
				// Removal is exact: the unit must match, and case counts.
				wantErr(t, f.cat.RemoveMetadata(f.ctx, tg, avu("a", "1")), catalog.ErrNotFound)
				wantErr(t, f.cat.RemoveMetadata(f.ctx, tg, avu("a", "1", "U")), catalog.ErrNotFound)
				wantErr(t, f.cat.RemoveMetadata(f.ctx, tg, avu("A", "2")), catalog.ErrNotFound)
				wantErr(t, f.cat.RemoveMetadata(f.ctx, tg, avu("a", "%")), catalog.ErrNotFound)
				ok(t, f.cat.RemoveMetadata(f.ctx, tg, avu("a", "1", "u")))
				equalAVUs(t, "after second remove", f.avus(tg), avu("a", "2"), avu("b", "1"))
			})
		}
	}},
	{"RemoveMatching", func(t *testing.T, f *fixture) {
		tg := f.targets()[0]
		all := []catalog.AVU{
			avu("project", "abc-1"), avu("project", "abc-22"), avu("project", "xyz"),
			avu("Project", "abc-1"), avu("proj_x", "1"), avu("projAx", "1"),
			avu("size", "10", "GB"), avu("size", "10", "MB"), avu("size", "10"),
			avu("pct", "100%"), avu("pct", "100x"), avu("µ", "é"),
		}
		cases := []struct {
			name    string
			pattern catalog.AVU
			removed []catalog.AVU
		}{
			{"exact", avu("project", "xyz"), []catalog.AVU{avu("project", "xyz")}},
			{"value prefix", avu("project", "abc%"), []catalog.AVU{avu("project", "abc-1"), avu("project", "abc-22")}},
			{"one character", avu("project", "abc-_"), []catalog.AVU{avu("project", "abc-1")}},
			{"case-sensitive", avu("PROJECT", "%"), nil},
			{"attribute wildcard", avu("%roject", "abc-1"), []catalog.AVU{avu("Project", "abc-1"), avu("project", "abc-1")}},
			{"underscore matches any", avu("proj_x", "1"), []catalog.AVU{avu("projAx", "1"), avu("proj_x", "1")}},
			{"escaped underscore", avu(`proj\_x`, "1"), []catalog.AVU{avu("proj_x", "1")}},
			{"escaped percent", avu("pct", `100\%`), []catalog.AVU{avu("pct", "100%")}},
			{"unit pattern", avu("size", "10", "%B"), []catalog.AVU{avu("size", "10", "GB"), avu("size", "10", "MB")}},
			{"empty unit pattern matches empty unit", avu("size", "%"), []catalog.AVU{avu("size", "10")}},
			{"any unit", avu("size", "%", "%"), []catalog.AVU{avu("size", "10"), avu("size", "10", "GB"), avu("size", "10", "MB")}},
			{"multibyte underscore", avu("_", "_"), []catalog.AVU{avu("µ", "é")}},
			{"everything", avu("%", "%", "%"), all},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := f.cat.RemoveMetadataMatching(f.ctx, tg, avu("%", "%", "%")); err != nil && !errors.Is(err, catalog.ErrNotFound) {
					t.Fatal(err)
				}
				ok(t, f.cat.AddMetadata(f.ctx, tg, all...))
				removed, err := f.cat.RemoveMetadataMatching(f.ctx, tg, tc.pattern)
				if len(tc.removed) == 0 {
					wantErr(t, err, catalog.ErrNotFound)
				} else {
					ok(t, err)
				}
				equalAVUs(t, "removed", removed, tc.removed...)
				var left []catalog.AVU
				for _, a := range all {
					if !slices.Contains(tc.removed, a) {
						left = append(left, a)
					}
				}
				equalAVUs(t, "left", f.avus(tg), left...)
			})
		}
	}},
	{"Modify", func(t *testing.T, f *fixture) {
		for _, tg := range f.targets() {
			t.Run(tg.Kind.String(), func(t *testing.T) {
				ok(t, f.cat.AddMetadata(f.ctx, tg, avu("a", "1", "u"), avu("b", "2")))
				ok(t, f.cat.ModifyMetadata(f.ctx, tg, avu("a", "1", "u"), avu("a", "5", "v")))
				equalAVUs(t, "value and unit", f.avus(tg), avu("a", "5", "v"), avu("b", "2"))
				ok(t, f.cat.ModifyMetadata(f.ctx, tg, avu("a", "5", "v"), avu("c", "5")))
				equalAVUs(t, "attribute, unit removed", f.avus(tg), avu("c", "5"), avu("b", "2"))
				wantErr(t, f.cat.ModifyMetadata(f.ctx, tg, avu("a", "5", "v"), avu("d", "1")), catalog.ErrNotFound)
				wantErr(t, f.cat.ModifyMetadata(f.ctx, tg, avu("c", "5"), avu("b", "2")), catalog.ErrExists)
				ok(t, f.cat.ModifyMetadata(f.ctx, tg, avu("c", "5"), avu("c", "5")))
				equalAVUs(t, "after refusals", f.avus(tg), avu("c", "5"), avu("b", "2"))
			})
		}
	}},
	{"Rename", func(t *testing.T, f *fixture) {
		f.mkdir("src", alice)
		f.mkdir("src/sub", alice)
		f.put("src/sub/obj", demoResc, "sha2:a")
		f.put("file", demoResc, "sha2:b")
		tag := avu("moved", "yes")
		for _, tg := range []catalog.AVUTarget{
			catalog.CollectionTarget(f.path("src")), catalog.CollectionTarget(f.path("src/sub")),
			catalog.ObjectTarget(f.path("src/sub/obj")), catalog.ObjectTarget(f.path("file")),
		} {
			ok(t, f.cat.AddMetadata(f.ctx, tg, tag, avu("path", tg.Path.String())))
		}
		ok(t, f.cat.Rename(f.ctx, f.path("file"), f.path("src/file2")))
		ok(t, f.cat.Rename(f.ctx, f.path("src"), f.path("dst")))
		for old, now := range map[string]catalog.AVUTarget{
			"src":         catalog.CollectionTarget(f.path("dst")),
			"src/sub":     catalog.CollectionTarget(f.path("dst/sub")),
			"src/sub/obj": catalog.ObjectTarget(f.path("dst/sub/obj")),
			"file":        catalog.ObjectTarget(f.path("dst/file2")),
		} {
			equalAVUs(t, now.String(), f.avus(now), tag, avu("path", f.path(old).String()))
			_, err := f.cat.ListMetadata(f.ctx, catalog.AVUTarget{Kind: now.Kind, Path: f.path(old)})
			wantErr(t, err, catalog.ErrNotFound)
		}
		// Something new at the old path starts without AVUs.
		f.put("file", demoResc, "sha2:c")
		equalAVUs(t, "new object at old path", f.avus(catalog.ObjectTarget(f.path("file"))))
		f.mkdir("src", alice)
		equalAVUs(t, "new collection at old path", f.avus(catalog.CollectionTarget(f.path("src"))))
	}},
	{"RemoveTakesAVUs", func(t *testing.T, f *fixture) {
		f.mkdir("tree", alice)
		f.mkdir("tree/sub", alice)
		f.mkdir("empty", alice)
		f.put("tree/sub/obj", demoResc, "sha2:a")
		f.put("obj", demoResc, "sha2:b")
		paths := map[string]catalog.AVUTarget{}
		for _, s := range []string{"tree", "tree/sub", "empty"} {
			paths[s] = catalog.CollectionTarget(f.path(s))
		}
		for _, s := range []string{"tree/sub/obj", "obj"} {
			paths[s] = catalog.ObjectTarget(f.path(s))
		}
		for _, tg := range paths {
			ok(t, f.cat.AddMetadata(f.ctx, tg, avu("a", "1")))
		}
		must(f.cat.RemoveDataObject(f.ctx, f.path("obj")))(t)
		must(f.cat.RemoveCollection(f.ctx, f.path("tree"), true))(t)
		must(f.cat.RemoveCollection(f.ctx, f.path("empty"), false))(t)
		// Recreated, each starts without AVUs.
		f.mkdir("tree", alice)
		f.mkdir("tree/sub", alice)
		f.mkdir("empty", alice)
		f.put("tree/sub/obj", demoResc, "sha2:a")
		f.put("obj", demoResc, "sha2:b")
		for s, tg := range paths {
			equalAVUs(t, "recreated "+s, f.avus(tg))
		}

		// An object that goes with its last replica takes its AVUs along.
		p := f.path("aborted")
		_, r := must2(f.cat.BeginReplica(f.ctx, f.newReplica(p, demoResc, "w")))(t)
		ok(t, f.cat.AddMetadata(f.ctx, catalog.ObjectTarget(p), avu("a", "1")))
		must(f.cat.AbortReplica(f.ctx, r.ObjectID, r.Number, "w"))(t)
		f.gone("aborted")
		f.put("aborted", demoResc, "sha2:c")
		equalAVUs(t, "after abort", f.avus(catalog.ObjectTarget(p)))
	}},
	{"RemoveUserAndResource", func(t *testing.T, f *fixture) {
		must(f.cat.CreateUser(f.ctx, catalog.User{Name: bob.Name, Zone: bob.Zone, Type: catalog.UserTypeUser}))(t)
		must(f.cat.CreateResource(f.ctx, catalog.Resource{Name: "tmpResc", Type: "posix"}))(t)
		user, resc := catalog.UserTarget(bob), catalog.ResourceTarget("tmpResc")
		ok(t, f.cat.AddMetadata(f.ctx, user, avu("a", "1")))
		ok(t, f.cat.AddMetadata(f.ctx, resc, avu("a", "1")))
		ok(t, f.cat.AddMetadata(f.ctx, catalog.ResourceTarget(demoResc), avu("a", "1")))
		ok(t, f.cat.RemoveUser(f.ctx, bob))
		ok(t, f.cat.RemoveResource(f.ctx, "tmpResc"))
		_, err := f.cat.ListMetadata(f.ctx, user)
		wantErr(t, err, catalog.ErrNotFound)
		must(f.cat.CreateUser(f.ctx, catalog.User{Name: bob.Name, Zone: bob.Zone, Type: catalog.UserTypeUser}))(t)
		must(f.cat.CreateResource(f.ctx, catalog.Resource{Name: "tmpResc", Type: "posix"}))(t)
		equalAVUs(t, "recreated user", f.avus(user))
		equalAVUs(t, "recreated resource", f.avus(resc))
		equalAVUs(t, "other resource", f.avus(catalog.ResourceTarget(demoResc)), avu("a", "1"))
	}},
	{"CommitWithMetadata", func(t *testing.T, f *fixture) {
		p := f.path("ingest")
		tg := catalog.ObjectTarget(p)
		commit := func(holder string, md ...catalog.AVU) error {
			_, r, err := f.cat.BeginReplica(f.ctx, f.newReplica(p, demoResc, holder))
			if err != nil {
				return err
			}
			_, err = f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number,
				Holder: holder, Size: 1, Checksum: "sha2:x", Metadata: md})
			return err
		}
		ok(t, commit("w1", avu("project", "abc"), avu("size", "1", "B")))
		equalAVUs(t, "first put", f.avus(tg), avu("project", "abc"), avu("size", "1", "B"))
		// An overwrite merges: AVUs already there are no error.
		ok(t, commit("w2", avu("project", "abc"), avu("run", "2")))
		equalAVUs(t, "overwrite", f.avus(tg), avu("project", "abc"), avu("size", "1", "B"), avu("run", "2"))
		// Invalid metadata refuses the commit: the replica stays intermediate.
		err := commit("w3", avu("ok", "1"), avu("", "x"))
		wantErr(t, err, catalog.ErrInvalidArgument)
		o := f.object("ingest")
		if n := len(o.Good()); n != 1 || len(o.Replicas) != 2 {
			t.Errorf("after a refused commit: %d good of %d replicas, want 1 of 2", n, len(o.Replicas))
		}
		equalAVUs(t, "refused commit", f.avus(tg), avu("project", "abc"), avu("size", "1", "B"), avu("run", "2"))
	}},
	{"ListIsSnapshot", func(t *testing.T, f *fixture) {
		// Listing returns a copy the caller may keep and change.
		tg := f.targets()[0]
		ok(t, f.cat.AddMetadata(f.ctx, tg, avu("a", "1"), avu("b", "2")))
		got := f.avus(tg)
		got[0].Value = "changed"
		equalAVUs(t, "after changing a listed copy", f.avus(tg), avu("a", "1"), avu("b", "2"))
	}},
}
