package catalogtest

import (
	"strconv"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// accessTime is the access time AVU of the object s, "" without one.
func (f *fixture) accessTime(s string) string {
	f.t.Helper()
	v := ""
	for _, a := range f.avus(catalog.ObjectTarget(f.path(s))) {
		if a.Attribute == catalog.AccessTimeAttr {
			if v != "" {
				f.t.Fatalf("%s has two access times: %s and %s", s, v, a.Value)
			}
			v = a.Value
		}
	}
	return v
}

var accessTimeTests = []test{
	{"SetOnlyForward", func(t *testing.T, f *fixture) {
		f.put("a", demoResc, "sha2:A")
		f.put("b", demoResc, "sha2:B")
		t1 := time.Unix(1_800_000_000, 0)
		t2 := t1.Add(time.Hour)
		if err := f.cat.SetAccessTimes(f.ctx, map[catalog.Path]time.Time{f.path("a"): t2, f.path("b"): t1}); err != nil {
			t.Fatal(err)
		}
		if got := f.accessTime("a"); got != "1800003600" {
			t.Errorf("a: access time %q, want 1800003600", got)
		}
		if got := f.accessTime("b"); got != "1800000000" {
			t.Errorf("b: access time %q, want 1800000000", got)
		}
		// An earlier time (a batch that arrives late) leaves a later one.
		if err := f.cat.SetAccessTimes(f.ctx, map[catalog.Path]time.Time{f.path("a"): t1, f.path("b"): t2}); err != nil {
			t.Fatal(err)
		}
		if got := f.accessTime("a"); got != "1800003600" {
			t.Errorf("a after an earlier time: %q, want 1800003600", got)
		}
		if got := f.accessTime("b"); got != "1800003600" {
			t.Errorf("b after a later time: %q, want 1800003600", got)
		}
		// The AVU answers queries as any other does.
		p, err := catalog.ParseAccessTime(f.accessTime("b"))
		if err != nil || !p.Equal(t2) {
			t.Errorf("ParseAccessTime: %v, %v", p, err)
		}
	}},
	{"SkipsWhatIsGone", func(t *testing.T, f *fixture) {
		f.put("a", demoResc, "sha2:A")
		f.mkdir("c", alice)
		now := time.Unix(1_800_000_000, 0)
		err := f.cat.SetAccessTimes(f.ctx, map[catalog.Path]time.Time{
			f.path("a"): now, f.path("gone"): now, f.path("c"): now, f.path("nodir/x"): now,
		})
		if err != nil {
			t.Fatalf("a batch naming objects that are not there: %v", err)
		}
		if got := f.accessTime("a"); got != "1800000000" {
			t.Errorf("a: %q", got)
		}
		if avus := f.avus(catalog.CollectionTarget(f.path("c"))); len(avus) != 0 {
			t.Errorf("a collection got AVUs: %v", avus)
		}
	}},
	{"BadInput", func(t *testing.T, f *fixture) {
		f.put("a", demoResc, "sha2:A")
		big := map[catalog.Path]time.Time{}
		for i := range catalog.MaxAccessTimes + 1 {
			big[catalog.MustPath(f.path("x").String()+"/"+strconv.Itoa(i))] = time.Now()
		}
		wantErr(t, f.cat.SetAccessTimes(f.ctx, big), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.SetAccessTimes(f.ctx, map[catalog.Path]time.Time{f.path("a"): time.Unix(-5, 0)}), catalog.ErrInvalidArgument)
		if got := f.accessTime("a"); got != "" {
			t.Errorf("a refused batch set %q", got)
		}
	}},
}
