package migrate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/dgraph"
	"github.com/arca-data/arca/catalog/sqlite"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fill makes a zone with some of everything.
func fill(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	z := "tempZone"
	rods := catalog.UserID{Name: "rods", Zone: z}
	alice := catalog.UserID{Name: "alice", Zone: z}
	lab := catalog.UserID{Name: "lab", Zone: z}
	for _, u := range []catalog.User{
		{Name: "rods", Zone: z, Type: catalog.UserTypeAdmin, PasswordHash: "$argon2id$x"},
		{Name: "alice", Zone: z, Type: catalog.UserTypeUser, Info: "Alice", Auth: catalog.AuthLDAP},
		{Name: "lab", Zone: z, Type: catalog.UserTypeGroup},
	} {
		_, err := c.CreateUser(ctx, u)
		must(t, err)
	}
	must(t, c.AddMember(ctx, lab, alice))
	for _, r := range []catalog.Resource{
		{Name: "demoResc", Type: "posix", Location: "/vault"},
		{Name: "repl", Type: "replication"},
		{Name: "leaf", Type: "posix", Location: "/v2", Parent: "repl"},
	} {
		_, err := c.CreateResource(ctx, r)
		must(t, err)
	}
	must(t, c.AddMetadata(ctx, catalog.ResourceTarget("demoResc"), catalog.AVU{Attribute: "tier", Value: "fast"}))
	must(t, c.AddMetadata(ctx, catalog.UserTarget(alice), catalog.AVU{Attribute: "email", Value: "a@x"}))
	for _, p := range []string{"/tempZone", "/tempZone/home", "/tempZone/home/alice", "/tempZone/home/alice/proj"} {
		owner := rods
		if p >= "/tempZone/home/alice" {
			owner = alice
		}
		_, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath(p), Owner: owner})
		must(t, err)
	}
	proj := catalog.MustPath("/tempZone/home/alice/proj")
	must(t, c.SetAccess(ctx, proj, lab, catalog.AccessRead))
	must(t, c.SetInheritance(ctx, proj, true))
	must(t, c.AddMetadata(ctx, catalog.CollectionTarget(proj), catalog.AVU{Attribute: "dept", Value: "physics", Unit: "fac"}))
	put := func(p, resc string, size int64) catalog.DataObject {
		_, r, err := c.BeginReplica(ctx, catalog.NewReplica{Path: catalog.MustPath(p), Owner: alice, Resource: resc,
			PhysicalPath: fmt.Sprintf("%s%s.%d", resc, p, time.Now().UnixNano()), Holder: "h", LeaseExpiry: time.Now().Add(time.Hour), Overwrite: true})
		must(t, err)
		_, err = c.CommitReplica(ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "h", Size: size,
			Checksum: fmt.Sprintf("sha2:%d", size), Metadata: []catalog.AVU{{Attribute: "size", Value: fmt.Sprint(size)}}})
		must(t, err)
		o, err := c.DataObject(ctx, catalog.MustPath(p))
		must(t, err)
		return o
	}
	for i := range 30 {
		put(fmt.Sprintf("/tempZone/home/alice/proj/f%02d", i), "demoResc", int64(i))
	}
	put("/tempZone/home/alice/raw", "demoResc", 7)
	o := put("/tempZone/home/alice/raw", "leaf", 8) // the demoResc replica goes stale
	if len(o.Replicas) != 2 {
		t.Fatalf("raw has replicas %+v", o.Replicas)
	}
	must(t, c.SetAccess(ctx, catalog.MustPath("/tempZone/home/alice/raw"), rods, catalog.AccessWrite))
	must(t, c.AddLink(ctx, catalog.Link{From: catalog.MustPath("/tempZone/home/alice/proj/f01"), Relation: "prov:wasDerivedFrom",
		To: catalog.MustPath("/tempZone/home/alice/raw")}))
	_, err := c.CreateTicket(ctx, catalog.Ticket{Hash: catalog.TicketHash("t1"), Type: catalog.TicketRead, Path: proj, Owner: alice,
		UsesLimit: 10, Hosts: []string{"10.0.0.0/8"}})
	must(t, err)
	must(t, c.SetQuota(ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: alice, MaxBytes: 1 << 30}))
	must(t, c.SetQuota(ctx, catalog.Quota{Kind: catalog.QuotaCollection, Path: proj, MaxObjects: 1000}))
	_, err = c.AddJob(ctx, catalog.Job{Key: "k", Rule: "nightly", Owner: rods, Every: "@daily", Due: time.Unix(2000000000, 0), Work: []byte("w")})
	must(t, err)
}

func openSQLite(t *testing.T) *sqlite.Catalog {
	c, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"))
	must(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func check(t *testing.T, from, to catalog.Catalog) {
	t.Helper()
	ctx := context.Background()
	var progress bytes.Buffer
	rep, err := Migrate(ctx, from, to, &progress)
	must(t, err)
	var table bytes.Buffer
	rep.Write(&table)
	t.Logf("\n%s", table.String())
	if !rep.OK() {
		t.Fatalf("the copy differs:\n%s", table.String())
	}
	for _, c := range rep.Source {
		if c.N == 0 {
			t.Errorf("the fixture has no %s", c.Type)
		}
	}
	// A second migration into the now full target is refused.
	if _, err := Migrate(ctx, from, to, nil); err == nil {
		t.Error("a migration into a non-empty catalog was not refused")
	}
	// A difference is found.
	must(t, to.AddMetadata(ctx, catalog.ObjectTarget(catalog.MustPath("/tempZone/home/alice/raw")), catalog.AVU{Attribute: "x", Value: "y"}))
	rep, err = Verify(ctx, from, to)
	must(t, err)
	if rep.OK() {
		t.Error("Verify did not see an added AVU")
	}
}

func TestMigrateSQLiteToSQLite(t *testing.T) {
	from := openSQLite(t)
	fill(t, from)
	check(t, from, openSQLite(t))
}

func TestMigrateSQLiteToDgraph(t *testing.T) {
	addr := os.Getenv("ARCA_TEST_DGRAPH")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ARCA_TEST_DGRAPH is not set: .ci/services/20-dgraph.sh must start Dgraph")
		}
		t.Skip("ARCA_TEST_DGRAPH is not set; start Dgraph with: source .ci/services/20-dgraph.sh")
	}
	from := openSQLite(t)
	fill(t, from)
	to, err := dgraph.Open(context.Background(), addr, dgraph.Options{Prefix: fmt.Sprintf("mig%d", time.Now().UnixNano())})
	must(t, err)
	t.Cleanup(func() { to.Close() })
	check(t, from, to)
}
