// Package catalogtest is the conformance suite of catalog.Catalog: every
// backend runs it from its own test file,
//
//	func TestConformance(t *testing.T) {
//		catalogtest.Run(t, func(t *testing.T) catalog.Catalog { ... })
//	}
//
// The open function returns a new, empty catalog (holding only the root
// collection "/") and arranges for it to be closed when t ends. Every
// subtest opens its own.
package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// Run runs the whole suite against catalogs made by open.
func Run(t *testing.T, open func(t *testing.T) catalog.Catalog) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Namespace", namespaceTests},
		{"Rename", renameTests},
		{"Remove", removeTests},
		{"Access", accessTests},
		{"Replicas", replicaTests},
		{"Replication", replicationTests},
		{"Users", userTests},
		{"Groups", groupTests},
		{"Resources", resourceTests},
		{"Sessions", sessionTests},
		{"Metadata", metadataTests},
		{"Tickets", ticketTests},
		{"Quotas", quotaTests},
		{"Register", registerTests},
		{"Jobs", jobTests},
		{"Concurrency", concurrencyTests},
		{"Links", linkTests},
		{"Provenance", provenanceTests},
		{"Records", recordTests},
		{"RuleSets", ruleSetTests},
		{"Deletions", deletionTests},
		{"Retention", retentionTests},
		{"AccessTimes", accessTimeTests},
		{"QoS", qosTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, newFixture(t, open(t)))
				})
			}
		})
	}
	t.Run("Model", func(t *testing.T) { testModel(t, open(t)) })
	t.Run("Query", func(t *testing.T) { testQueries(t, open) })
}

type test struct {
	name string
	run  func(t *testing.T, f *fixture)
}

// Fixture names.
var (
	alice = catalog.UserID{Name: "alice", Zone: "tempZone"}
	bob   = catalog.UserID{Name: "bob", Zone: "tempZone"}
	rods  = catalog.UserID{Name: "rods", Zone: "tempZone"}
)

const (
	demoResc  = "demoResc"
	otherResc = "otherResc"
)

// fixture is a catalog with the zone collections /tempZone,
// /tempZone/home and /tempZone/home/alice, and two resources.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	cat   catalog.Catalog
	home  catalog.Path // /tempZone/home/alice
	start time.Time    // before anything was made
	seq   atomic.Int64
}

func newFixture(t *testing.T, cat catalog.Catalog) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), cat: cat, start: time.Now()}
	for _, p := range []string{"/tempZone", "/tempZone/home"} {
		f.mkdir(p, rods)
	}
	f.home = f.mkdir("/tempZone/home/alice", alice).Path
	for _, r := range []string{demoResc, otherResc} {
		if _, err := cat.CreateResource(f.ctx, catalog.Resource{Name: r, Type: "posix", Location: "/vault/" + r}); err != nil {
			t.Fatalf("create resource %s: %v", r, err)
		}
	}
	return f
}

func (f *fixture) path(s string) catalog.Path {
	f.t.Helper()
	if !strings.HasPrefix(s, "/") {
		s = f.home.String() + "/" + s
	}
	p, err := catalog.ParsePath(s)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) mkdir(s string, owner catalog.UserID) catalog.Collection {
	f.t.Helper()
	c, err := f.cat.CreateCollection(f.ctx, catalog.Collection{Path: f.path(s), Owner: owner})
	if err != nil {
		f.t.Fatalf("create collection %s: %v", s, err)
	}
	return c
}

// physical returns a physical path no other replica of the test uses.
func (f *fixture) physical(p catalog.Path) string {
	return fmt.Sprintf("vault%s.%d", p, f.seq.Add(1))
}

func (f *fixture) newReplica(p catalog.Path, resource, holder string) catalog.NewReplica {
	return catalog.NewReplica{
		Path: p, Owner: alice, Resource: resource, PhysicalPath: f.physical(p),
		Holder: holder, LeaseExpiry: time.Now().Add(time.Hour), Overwrite: true,
	}
}

// put writes the data object at s on resource through begin and commit, and
// returns what the catalog then holds for it.
func (f *fixture) put(s, resource, checksum string) catalog.DataObject {
	f.t.Helper()
	p := f.path(s)
	_, r, err := f.cat.BeginReplica(f.ctx, f.newReplica(p, resource, "put"))
	if err != nil {
		f.t.Fatalf("begin replica of %s: %v", p, err)
	}
	if _, err := f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{
		Object: r.ObjectID, Number: r.Number, Holder: "put", Size: int64(len(checksum)), Checksum: checksum,
	}); err != nil {
		f.t.Fatalf("commit replica of %s: %v", p, err)
	}
	return f.object(s)
}

func (f *fixture) object(s string) catalog.DataObject {
	f.t.Helper()
	o, err := f.cat.DataObject(f.ctx, f.path(s))
	if err != nil {
		f.t.Fatalf("data object %s: %v", s, err)
	}
	return o
}

func (f *fixture) collection(s string) catalog.Collection {
	f.t.Helper()
	c, err := f.cat.Collection(f.ctx, f.path(s))
	if err != nil {
		f.t.Fatalf("collection %s: %v", s, err)
	}
	return c
}

// gone checks that nothing is at s.
func (f *fixture) gone(s string) {
	f.t.Helper()
	_, err := f.cat.Stat(f.ctx, f.path(s))
	wantErr(f.t, err, catalog.ErrNotFound)
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

// must(f())(t) is the value of f, or a fatal error of t.
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// must2 is must for functions that return two values and an error.
func must2[A, B any](a A, b B, err error) func(testing.TB) (A, B) {
	return func(t testing.TB) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkTime checks that a time the catalog set lies between start and now
// and is in UTC.
func checkTime(t testing.TB, what string, got, start time.Time) {
	t.Helper()
	end := time.Now()
	if got.Location() != time.UTC {
		t.Errorf("%s %v is not in UTC", what, got)
	}
	// Backends may round to their resolution; allow a millisecond.
	if got.Before(start.Add(-time.Millisecond)) || got.After(end.Add(time.Millisecond)) {
		t.Errorf("%s %v is not between %v and %v", what, got, start, end)
	}
}

// sortedACL returns acl ordered by principal, for comparison.
func sortedACL(acl []catalog.ACE) []catalog.ACE {
	out := slices.Clone(acl)
	slices.SortFunc(out, func(a, b catalog.ACE) int {
		return strings.Compare(a.Principal.String(), b.Principal.String())
	})
	return out
}

func equalACL(t testing.TB, what string, got []catalog.ACE, want ...catalog.ACE) {
	t.Helper()
	if !slices.Equal(sortedACL(got), sortedACL(want)) {
		t.Errorf("%s: ACL %v, want %v", what, got, want)
	}
}

// sameReplica compares the fields that identify a replica and its content.
func sameReplica(t testing.TB, what string, got, want catalog.Replica) {
	t.Helper()
	if got.ObjectID != want.ObjectID || got.Number != want.Number || got.Resource != want.Resource ||
		got.PhysicalPath != want.PhysicalPath || got.Size != want.Size || got.Checksum != want.Checksum ||
		got.Status != want.Status || got.LockHolder != want.LockHolder || !got.LeaseExpiry.Equal(want.LeaseExpiry) ||
		!got.CreateTime.Equal(want.CreateTime) || !got.ModifyTime.Equal(want.ModifyTime) {
		t.Errorf("%s:\n got replica  %+v\n want replica %+v", what, got, want)
	}
}
