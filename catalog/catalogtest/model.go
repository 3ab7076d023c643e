package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"pgregory.net/rapid"
)

// testModel applies random namespace operations to the catalog and to a map
// model, and compares the two after every step. Each rapid run works below a
// collection of its own, /m/<run>.
func testModel(t *testing.T, cat catalog.Catalog) {
	ctx := context.Background()
	must(cat.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/m"), Owner: alice}))(t)
	must(cat.CreateResource(ctx, catalog.Resource{Name: "r", Type: "posix"}))(t)
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		base := catalog.MustPath(fmt.Sprintf("/m/%d", run))
		if _, err := cat.CreateCollection(ctx, catalog.Collection{Path: base, Owner: alice}); err != nil {
			rt.Fatal(err)
		}
		m := &model{ctx: ctx, cat: cat, base: base, run: run,
			colls: map[string]bool{base.String(): true}, objs: map[string]string{}}
		rt.Repeat(map[string]func(*rapid.T){
			"mkdir":  m.mkdir,
			"put":    m.put,
			"rename": m.rename,
			"rmobj":  m.rmobj,
			"rmcoll": m.rmcoll,
			"":       m.check,
		})
	})
}

type model struct {
	ctx   context.Context
	cat   catalog.Catalog
	base  catalog.Path
	run   int
	seq   int
	colls map[string]bool   // collection paths, base included
	objs  map[string]string // data object path -> checksum of its good replica
}

var modelNames = []string{"a", "b", "a-", "a0", "é", "a b"}

func (m *model) kind(p string) string {
	switch {
	case m.colls[p]:
		return "collection"
	case m.objs[p] != "":
		return "object"
	}
	return ""
}

func parentOf(p string) string { return p[:strings.LastIndexByte(p, '/')] }

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// newPath draws a path one or two names below an entry of the model: it
// may exist or not, and its parent may be missing or a data object.
func (m *model) newPath(t *rapid.T, label string) string {
	entries := append(slices.Sorted(maps.Keys(m.colls)), slices.Sorted(maps.Keys(m.objs))...)
	p := rapid.SampledFrom(entries).Draw(t, label+"-below")
	for range rapid.IntRange(1, 2).Draw(t, label+"-depth") {
		p += "/" + rapid.SampledFrom(modelNames).Draw(t, label+"-name")
	}
	return p
}

// entry draws an entry of the model other than base, or a missing path.
func (m *model) entry(t *rapid.T, label string) string {
	var entries []string
	for _, p := range slices.Sorted(maps.Keys(m.colls)) {
		if p != m.base.String() {
			entries = append(entries, p)
		}
	}
	entries = append(entries, slices.Sorted(maps.Keys(m.objs))...)
	entries = append(entries, m.base.String()+"/missing")
	return rapid.SampledFrom(entries).Draw(t, label)
}

// parentErr is the error expected for a new entry at p because of its parent.
func (m *model) parentErr(p string) error {
	switch m.kind(parentOf(p)) {
	case "object":
		return catalog.ErrNotCollection
	case "":
		return catalog.ErrNotFound
	}
	return nil
}

// expect checks err against the errors the model allows; none allowed means
// success is required.
func expect(t *rapid.T, op string, err error, allowed ...error) bool {
	var want []error
	for _, a := range allowed {
		if a != nil {
			want = append(want, a)
		}
	}
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return true
	}
	for _, w := range want {
		if errors.Is(err, w) {
			return false
		}
	}
	t.Fatalf("%s: got %v, want one of %v", op, err, want)
	return false
}

func (m *model) mkdir(t *rapid.T) {
	p := m.newPath(t, "path")
	var want error
	if m.kind(p) != "" {
		want = catalog.ErrExists
	} else {
		want = m.parentErr(p)
	}
	_, err := m.cat.CreateCollection(m.ctx, catalog.Collection{Path: catalog.MustPath(p), Owner: alice})
	if expect(t, "mkdir "+p, err, want) {
		m.colls[p] = true
	}
}

func (m *model) put(t *rapid.T) {
	p := m.newPath(t, "path")
	overwrite := rapid.Bool().Draw(t, "overwrite")
	want := m.parentErr(p)
	if want == nil && (m.kind(p) == "collection" || m.kind(p) == "object" && !overwrite) {
		want = catalog.ErrExists
	}
	m.seq++
	sum := fmt.Sprintf("sha2:%d", m.seq)
	_, r, err := m.cat.BeginReplica(m.ctx, catalog.NewReplica{
		Path: catalog.MustPath(p), Owner: alice, Resource: "r", PhysicalPath: fmt.Sprintf("m%d/%d", m.run, m.seq),
		Holder: "model", LeaseExpiry: time.Now().Add(time.Hour), Overwrite: overwrite,
	})
	op := fmt.Sprintf("put %s (overwrite %v)", p, overwrite)
	if !expect(t, op, err, want) {
		return
	}
	sup, err := m.cat.CommitReplica(m.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "model",
		Size: int64(m.seq), Checksum: sum})
	if err != nil {
		t.Fatalf("%s: commit: %v", op, err)
	}
	if old := m.objs[p]; old != "" {
		if len(sup) != 1 || sup[0].Checksum != old {
			t.Fatalf("%s: superseded %+v, want the replica with %s", op, sup, old)
		}
	} else if len(sup) != 0 {
		t.Fatalf("%s: superseded %+v of a new object", op, sup)
	}
	m.objs[p] = sum
}

func (m *model) rename(t *rapid.T) {
	from := m.entry(t, "from")
	to := m.newPath(t, "to")
	var want []error
	if m.kind(from) == "" {
		want = append(want, catalog.ErrNotFound)
	}
	if m.kind(to) != "" {
		want = append(want, catalog.ErrExists)
	}
	if m.kind(from) == "collection" && under(to, from) {
		want = append(want, catalog.ErrInvalidArgument)
	}
	want = append(want, m.parentErr(to))

	var id catalog.ID
	if e, err := m.cat.Stat(m.ctx, catalog.MustPath(from)); err == nil {
		id = entryID(e)
	}
	err := m.cat.Rename(m.ctx, catalog.MustPath(from), catalog.MustPath(to))
	if !expect(t, "rename "+from+" to "+to, err, want...) {
		return
	}
	if m.kind(from) == "object" {
		m.objs[to] = m.objs[from]
		delete(m.objs, from)
	} else {
		for p := range maps.Clone(m.colls) {
			if under(p, from) {
				delete(m.colls, p)
				m.colls[to+p[len(from):]] = true
			}
		}
		for p, sum := range maps.Clone(m.objs) {
			if under(p, from) {
				delete(m.objs, p)
				m.objs[to+p[len(from):]] = sum
			}
		}
	}
	e, err := m.cat.Stat(m.ctx, catalog.MustPath(to))
	if err != nil || entryID(e) != id {
		t.Fatalf("rename %s to %s: the entry at %s is %+v (%v), want id %v", from, to, to, e, err, id)
	}
}

func entryID(e catalog.Entry) catalog.ID {
	if e.Collection != nil {
		return e.Collection.ID
	}
	return e.Object.ID
}

func (m *model) rmobj(t *rapid.T) {
	p := m.entry(t, "path")
	var want error
	switch m.kind(p) {
	case "collection":
		want = catalog.ErrNotDataObject
	case "":
		want = catalog.ErrNotFound
	}
	got, err := m.cat.RemoveDataObject(m.ctx, catalog.MustPath(p))
	if !expect(t, "remove object "+p, err, want) {
		return
	}
	if len(got) != 1 || got[0].Checksum != m.objs[p] {
		t.Fatalf("remove object %s: replicas %+v, want one with %s", p, got, m.objs[p])
	}
	delete(m.objs, p)
}

func (m *model) rmcoll(t *rapid.T) {
	p := m.entry(t, "path")
	recursive := rapid.Bool().Draw(t, "recursive")
	var want error
	switch m.kind(p) {
	case "object":
		want = catalog.ErrNotCollection
	case "":
		want = catalog.ErrNotFound
	}
	var sums []string
	for q, sum := range m.objs {
		if under(q, p) {
			sums = append(sums, sum)
		}
	}
	if want == nil && !recursive {
		for q := range m.colls {
			if q != p && under(q, p) {
				want = catalog.ErrNotEmpty
			}
		}
		if len(sums) > 0 {
			want = catalog.ErrNotEmpty
		}
	}
	got, err := m.cat.RemoveCollection(m.ctx, catalog.MustPath(p), recursive)
	op := fmt.Sprintf("remove collection %s (recursive %v)", p, recursive)
	if !expect(t, op, err, want) {
		return
	}
	var gotSums []string
	for _, r := range got {
		gotSums = append(gotSums, r.Checksum)
	}
	slices.Sort(sums)
	slices.Sort(gotSums)
	if !slices.Equal(sums, gotSums) {
		t.Fatalf("%s: returned replicas with %v, want %v", op, gotSums, sums)
	}
	for q := range maps.Clone(m.colls) {
		if under(q, p) {
			delete(m.colls, q)
		}
	}
	for q := range maps.Clone(m.objs) {
		if under(q, p) {
			delete(m.objs, q)
		}
	}
}

// check walks the catalog below base in small pages and compares.
func (m *model) check(t *rapid.T) {
	colls := map[string]bool{}
	objs := map[string]string{}
	var walk func(p catalog.Path)
	walk = func(p catalog.Path) {
		colls[p.String()] = true
		for after := ""; ; {
			page, err := m.cat.ListCollections(m.ctx, p, after, 2)
			if err != nil {
				t.Fatalf("list collections of %s: %v", p, err)
			}
			for _, c := range page {
				if c.Path.Parent() != p {
					t.Fatalf("%s listed below %s", c.Path, p)
				}
				walk(c.Path)
			}
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].Path.Name()
		}
		for after := ""; ; {
			page, err := m.cat.ListObjects(m.ctx, p, after, 2)
			if err != nil {
				t.Fatalf("list objects of %s: %v", p, err)
			}
			for _, o := range page {
				if len(o.Replicas) != 1 || o.Replicas[0].Status != catalog.ReplicaGood {
					t.Fatalf("%s: replicas %+v", o.Path, o.Replicas)
				}
				if _, dup := objs[o.Path.String()]; dup {
					t.Fatalf("%s listed twice", o.Path)
				}
				objs[o.Path.String()] = o.Replicas[0].Checksum
			}
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].Path.Name()
		}
	}
	walk(m.base)
	if !maps.Equal(colls, m.colls) {
		t.Fatalf("collections\n got %v\nwant %v", slices.Sorted(maps.Keys(colls)), slices.Sorted(maps.Keys(m.colls)))
	}
	if !maps.Equal(objs, m.objs) {
		t.Fatalf("data objects\n got %v\nwant %v", objs, m.objs)
	}
}
