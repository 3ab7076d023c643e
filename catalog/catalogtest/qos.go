package catalogtest

import (
	"fmt"
	"testing"

	"github.com/arca-data/arca/catalog"
)

// qosSummary writes requirements as "path expr xN" lines, to compare.
func qosSummary(rs []catalog.QoSRequirement) string {
	s := ""
	for _, r := range rs {
		kind := "o"
		if r.Collection {
			kind = "c"
		}
		s += fmt.Sprintf("%s(%s) %s x%d;", r.Path, kind, r.Expr, r.Replicas)
	}
	return s
}

func (f *fixture) require(t *testing.T, s, expr string, n int) catalog.QoSRequirement {
	t.Helper()
	return must(f.cat.AddQoSRequirement(f.ctx, catalog.QoSRequirement{Path: f.path(s), Expr: expr, Replicas: n, Creator: alice}))(t)
}

var qosTests = []test{
	{"AddGetRemove", func(t *testing.T, f *fixture) {
		f.mkdir("proj", alice)
		r := f.require(t, "proj", "geo=DE & type=disk", 2)
		if r.ID == 0 || !r.Collection || r.Path != f.path("proj") || r.Expr != "geo=DE & type=disk" || r.Replicas != 2 || r.Creator != alice {
			t.Fatalf("AddQoSRequirement = %+v", r)
		}
		checkTime(t, "create time", r.CreateTime, f.start)
		got := must(f.cat.QoSRequirement(f.ctx, r.ID))(t)
		if got.ID != r.ID || got.Path != r.Path || !got.Collection || got.Expr != r.Expr || got.Replicas != 2 || got.Creator != alice ||
			!got.CreateTime.Equal(r.CreateTime) {
			t.Errorf("QoSRequirement = %+v, want %+v", got, r)
		}
		f.put("proj/a.csv", demoResc, "x")
		o := f.require(t, "proj/a.csv", "anyStorage", 1)
		if o.Collection {
			t.Errorf("a requirement on a data object says it is on a collection: %+v", o)
		}
		removed := must(f.cat.RemoveQoSRequirement(f.ctx, r.ID))(t)
		if removed.ID != r.ID || removed.Expr != r.Expr {
			t.Errorf("RemoveQoSRequirement = %+v", removed)
		}
		_, err := f.cat.QoSRequirement(f.ctx, r.ID)
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.RemoveQoSRequirement(f.ctx, r.ID)
		wantErr(t, err, catalog.ErrNotFound)
		if got := qosSummary(must(f.cat.QoSRequirementsBelow(f.ctx, f.path("proj")))(t)); got != f.home.String()+"/proj/a.csv(o) anyStorage x1;" {
			t.Errorf("after remove: %s", got)
		}
		// Removing a requirement removes no replica.
		if n := len(f.object("proj/a.csv").Replicas); n != 1 {
			t.Errorf("%d replicas after removing requirements, want 1", n)
		}
	}},
	{"Errors", func(t *testing.T, f *fixture) {
		f.mkdir("proj", alice)
		f.require(t, "proj", "geo=DE", 1)
		cases := []struct {
			name string
			r    catalog.QoSRequirement
			want error
		}{
			{"no target", catalog.QoSRequirement{Path: f.path("nope"), Expr: "geo=DE", Replicas: 1}, catalog.ErrNotFound},
			{"zero replicas", catalog.QoSRequirement{Path: f.path("proj"), Expr: "geo=FR", Replicas: 0}, catalog.ErrInvalidArgument},
			{"too many replicas", catalog.QoSRequirement{Path: f.path("proj"), Expr: "geo=FR", Replicas: catalog.MaxQoSReplicas + 1}, catalog.ErrInvalidArgument},
			{"empty expression", catalog.QoSRequirement{Path: f.path("proj"), Expr: " ", Replicas: 1}, catalog.ErrInvalidArgument},
			{"no path", catalog.QoSRequirement{Expr: "geo=DE", Replicas: 1}, catalog.ErrInvalidArgument},
			{"twice", catalog.QoSRequirement{Path: f.path("proj"), Expr: "geo=DE", Replicas: 3}, catalog.ErrExists},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.cat.AddQoSRequirement(f.ctx, tc.r)
				wantErr(t, err, tc.want)
			})
		}
		if got := qosSummary(must(f.cat.QoSRequirementsBelow(f.ctx, f.path("proj")))(t)); got != f.home.String()+"/proj(c) geo=DE x1;" {
			t.Errorf("after refusals: %s", got)
		}
	}},
	{"OnAndBelow", func(t *testing.T, f *fixture) {
		f.mkdir("p", alice)
		f.mkdir("p/q", alice)
		f.mkdir("p/qq", alice)
		f.put("p/q/a", demoResc, "x")
		f.put("p/qq/b", demoResc, "x")
		f.require(t, f.home.String(), "tier=hot", 1)
		f.require(t, "p", "geo=DE", 2)
		f.require(t, "p/q", "type=tape", 1)
		f.require(t, "p/q/a", "anyStorage", 3)
		f.require(t, "p/qq/b", "geo=FR", 1)
		h := f.home.String()
		cases := []struct {
			name, path string
			below      bool
			want       string
		}{
			{"on object", "p/q/a", false, h + "(c) tier=hot x1;" + h + "/p(c) geo=DE x2;" + h + "/p/q(c) type=tape x1;" + h + "/p/q/a(o) anyStorage x3;"},
			{"on sibling", "p/qq/b", false, h + "(c) tier=hot x1;" + h + "/p(c) geo=DE x2;" + h + "/p/qq/b(o) geo=FR x1;"},
			{"on a path not yet there", "p/q/later", false, h + "(c) tier=hot x1;" + h + "/p(c) geo=DE x2;" + h + "/p/q(c) type=tape x1;"},
			{"below q", "p/q", true, h + "/p/q(c) type=tape x1;" + h + "/p/q/a(o) anyStorage x3;"},
			{"below p", "p", true, h + "/p(c) geo=DE x2;" + h + "/p/q(c) type=tape x1;" + h + "/p/q/a(o) anyStorage x3;" + h + "/p/qq/b(o) geo=FR x1;"},
			{"below object", "p/qq/b", true, h + "/p/qq/b(o) geo=FR x1;"},
			{"below root", "/", true, h + "(c) tier=hot x1;" + h + "/p(c) geo=DE x2;" + h + "/p/q(c) type=tape x1;" + h + "/p/q/a(o) anyStorage x3;" + h + "/p/qq/b(o) geo=FR x1;"},
			{"on root", "/", false, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				get := f.cat.QoSRequirementsOn
				if tc.below {
					get = f.cat.QoSRequirementsBelow
				}
				if got := qosSummary(must(get(f.ctx, f.path(tc.path)))(t)); got != tc.want {
					t.Errorf("got  %s\nwant %s", got, tc.want)
				}
			})
		}
	}},
	{"FollowRenameAndRemove", func(t *testing.T, f *fixture) {
		f.mkdir("p", alice)
		f.mkdir("p/q", alice)
		f.put("p/q/a", demoResc, "x")
		f.put("p/b", demoResc, "x")
		f.require(t, "p/q", "geo=DE", 2)
		f.require(t, "p/q/a", "geo=FR", 1)
		f.require(t, "p/b", "geo=PL", 1)
		ok(t, f.cat.Rename(f.ctx, f.path("p/q"), f.path("p/r")))
		ok(t, f.cat.Rename(f.ctx, f.path("p/b"), f.path("p/r/c")))
		h := f.home.String()
		want := h + "/p/r(c) geo=DE x2;" + h + "/p/r/a(o) geo=FR x1;" + h + "/p/r/c(o) geo=PL x1;"
		if got := qosSummary(must(f.cat.QoSRequirementsBelow(f.ctx, f.path("p")))(t)); got != want {
			t.Errorf("after renames:\ngot  %s\nwant %s", got, want)
		}
		must(f.cat.RemoveDataObject(f.ctx, f.path("p/r/c")))(t)
		// A new object at the same path does not inherit the old one's requirement.
		f.put("p/r/c", demoResc, "x")
		want = h + "/p/r(c) geo=DE x2;" + h + "/p/r/a(o) geo=FR x1;"
		if got := qosSummary(must(f.cat.QoSRequirementsBelow(f.ctx, f.path("p")))(t)); got != want {
			t.Errorf("after removing an object:\ngot  %s\nwant %s", got, want)
		}
		must(f.cat.RemoveCollection(f.ctx, f.path("p/r"), true))(t)
		f.mkdir("p/r", alice)
		if got := qosSummary(must(f.cat.QoSRequirementsBelow(f.ctx, f.path("/")))(t)); got != "" {
			t.Errorf("after removing the collection: %s", got)
		}
		// An empty collection's requirement goes with it too.
		f.require(t, "p/r", "geo=DE", 1)
		must(f.cat.RemoveCollection(f.ctx, f.path("p/r"), false))(t)
		if got := qosSummary(must(f.cat.QoSRequirementsBelow(f.ctx, f.path("/")))(t)); got != "" {
			t.Errorf("after removing the empty collection: %s", got)
		}
	}},
}
