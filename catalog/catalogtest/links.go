package catalogtest

import (
	"slices"
	"testing"

	"github.com/arca-data/arca/catalog"
)

const derived = "prov:wasDerivedFrom"

func (f *fixture) link(from, rel, to string) catalog.Link {
	return catalog.Link{From: f.path(from), Relation: rel, To: f.path(to)}
}

func equalLinks(t testing.TB, what string, got []catalog.Link, want ...catalog.Link) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func equalPaths(t testing.TB, what string, got []catalog.Path, want ...catalog.Path) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

var linkTests = []test{
	{"AddListRemove", func(t *testing.T, f *fixture) {
		f.put("raw", demoResc, "sha2:r")
		f.put("clean", demoResc, "sha2:c")
		f.mkdir("run", alice)
		ok(t, f.cat.AddLink(f.ctx, f.link("clean", derived, "raw")))
		ok(t, f.cat.AddLink(f.ctx, f.link("run", "prov:used", "raw")))
		wantErr(t, f.cat.AddLink(f.ctx, f.link("clean", derived, "raw")), catalog.ErrExists)
		wantErr(t, f.cat.AddLink(f.ctx, f.link("clean", derived, "nope")), catalog.ErrNotFound)
		wantErr(t, f.cat.AddLink(f.ctx, f.link("nope", derived, "raw")), catalog.ErrNotFound)
		wantErr(t, f.cat.AddLink(f.ctx, f.link("raw", derived, "raw")), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.AddLink(f.ctx, f.link("raw", "", "clean")), catalog.ErrInvalidArgument)

		equalLinks(t, "links of raw", must(f.cat.LinksOf(f.ctx, f.path("raw")))(t),
			f.link("clean", derived, "raw"), f.link("run", "prov:used", "raw"))
		equalLinks(t, "links of clean", must(f.cat.LinksOf(f.ctx, f.path("clean")))(t), f.link("clean", derived, "raw"))
		_, err := f.cat.LinksOf(f.ctx, f.path("nope"))
		wantErr(t, err, catalog.ErrNotFound)

		ok(t, f.cat.RemoveLink(f.ctx, f.link("run", "prov:used", "raw")))
		wantErr(t, f.cat.RemoveLink(f.ctx, f.link("run", "prov:used", "raw")), catalog.ErrNotFound)
		equalLinks(t, "after remove", must(f.cat.LinksOf(f.ctx, f.path("raw")))(t), f.link("clean", derived, "raw"))
	}},
	{"FollowRenameAndRemove", func(t *testing.T, f *fixture) {
		f.put("raw", demoResc, "sha2:r")
		f.mkdir("d", alice)
		f.put("d/clean", demoResc, "sha2:c")
		ok(t, f.cat.AddLink(f.ctx, f.link("d/clean", derived, "raw")))
		ok(t, f.cat.Rename(f.ctx, f.path("d"), f.path("e")))
		ok(t, f.cat.Rename(f.ctx, f.path("raw"), f.path("raw2")))
		equalLinks(t, "after renames", must(f.cat.LinksOf(f.ctx, f.path("e/clean")))(t), f.link("e/clean", derived, "raw2"))
		must(f.cat.RemoveDataObject(f.ctx, f.path("raw2")))(t)
		equalLinks(t, "after removing an end", must(f.cat.LinksOf(f.ctx, f.path("e/clean")))(t))
		// A new object at the old path is not linked.
		f.put("raw2", demoResc, "sha2:new")
		equalLinks(t, "newcomer", must(f.cat.LinksOf(f.ctx, f.path("raw2")))(t))
		must(f.cat.RemoveCollection(f.ctx, f.path("e"), true))(t)
		equalLinks(t, "after removing a tree", must(f.cat.LinksOf(f.ctx, f.path("raw2")))(t))
	}},
	{"ChainAndLinked", func(t *testing.T, f *fixture) {
		for _, n := range []string{"a", "b", "c", "d", "x", "y"} {
			f.put(n, demoResc, "sha2:"+n)
		}
		// a derives from b and x; b from c; c from d; d from a (a cycle);
		// y used a (another relation).
		for _, l := range []catalog.Link{
			f.link("a", derived, "b"), f.link("a", derived, "x"), f.link("b", derived, "c"),
			f.link("c", derived, "d"), f.link("d", derived, "a"), f.link("y", "prov:used", "a"),
		} {
			ok(t, f.cat.AddLink(f.ctx, l))
		}
		equalLinks(t, "chain depth 1", must(f.cat.Chain(f.ctx, f.path("a"), derived, 1))(t),
			f.link("a", derived, "b"), f.link("a", derived, "x"))
		equalLinks(t, "chain depth 2", must(f.cat.Chain(f.ctx, f.path("a"), derived, 2))(t),
			f.link("a", derived, "b"), f.link("a", derived, "x"), f.link("b", derived, "c"))
		equalLinks(t, "chain through the cycle", must(f.cat.Chain(f.ctx, f.path("a"), derived, 100))(t),
			f.link("a", derived, "b"), f.link("a", derived, "x"), f.link("b", derived, "c"),
			f.link("c", derived, "d"), f.link("d", derived, "a"))
		equalLinks(t, "chain of another relation", must(f.cat.Chain(f.ctx, f.path("y"), "prov:used", 5))(t),
			f.link("y", "prov:used", "a"))
		equalLinks(t, "chain of a leaf", must(f.cat.Chain(f.ctx, f.path("x"), derived, 5))(t))
		_, err := f.cat.Chain(f.ctx, f.path("a"), derived, 0)
		wantErr(t, err, catalog.ErrInvalidArgument)

		equalPaths(t, "linked depth 1", must(f.cat.Linked(f.ctx, f.path("a"), 1))(t),
			f.path("b"), f.path("d"), f.path("x"), f.path("y"))
		equalPaths(t, "linked to x, depth 2", must(f.cat.Linked(f.ctx, f.path("x"), 2))(t),
			f.path("a"), f.path("b"), f.path("d"), f.path("y"))
		equalPaths(t, "linked to x, all", must(f.cat.Linked(f.ctx, f.path("x"), 50))(t),
			f.path("a"), f.path("b"), f.path("c"), f.path("d"), f.path("y"))
		_, err = f.cat.Linked(f.ctx, f.path("nope"), 3)
		wantErr(t, err, catalog.ErrNotFound)
	}},
}
