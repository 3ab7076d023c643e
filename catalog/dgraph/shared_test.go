package dgraph

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// openShared opens n catalogs on one prefix: n clients of one Dgraph
// catalog, as n Arca servers of one zone are.
func openShared(t *testing.T, n int) []*Catalog {
	t.Helper()
	addr := testAddr(t)
	prefix := newPrefix()
	var cs []*Catalog
	for range n {
		c, err := Open(context.Background(), addr, Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		cs = append(cs, c)
	}
	return cs
}

// TestSharedCatalogLeases: a lease taken through one client holds for the
// others, and what one commits the other sees at once.
func TestSharedCatalogLeases(t *testing.T) {
	cs := openShared(t, 2)
	a, b := cs[0], cs[1]
	ctx := context.Background()
	rods := catalog.UserID{Name: "rods", Zone: "z"}
	if _, err := a.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/z"), Owner: rods}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateResource(ctx, catalog.Resource{Name: "r", Type: "posix"}); err != nil {
		t.Fatal(err)
	}
	p := catalog.MustPath("/z/x")
	nr := catalog.NewReplica{Path: p, Owner: rods, Resource: "r", PhysicalPath: "x.0", Holder: "serverA",
		LeaseExpiry: time.Now().Add(time.Hour), Overwrite: true}
	_, r, err := a.BeginReplica(ctx, nr)
	if err != nil {
		t.Fatal(err)
	}
	nr.Holder, nr.PhysicalPath = "serverB", "x.1"
	if _, _, err := b.BeginReplica(ctx, nr); !errors.Is(err, catalog.ErrLocked) {
		t.Fatalf("begin through B while A holds the lease: %v, want ErrLocked", err)
	}
	if _, err := b.RemoveDataObject(ctx, p); !errors.Is(err, catalog.ErrLocked) {
		t.Fatalf("remove through B while A holds the lease: %v, want ErrLocked", err)
	}
	if _, err := b.CommitReplica(ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "serverB"}); !errors.Is(err, catalog.ErrLocked) {
		t.Fatalf("commit through B of A's replica: %v, want ErrLocked", err)
	}
	if _, err := a.CommitReplica(ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "serverA", Size: 1, Checksum: "sha2:x"}); err != nil {
		t.Fatal(err)
	}
	o, err := b.DataObject(ctx, p)
	if err != nil || len(o.Good()) != 1 || o.Good()[0].Checksum != "sha2:x" {
		t.Fatalf("B sees %+v, %v", o, err)
	}
}

// TestSharedCatalogNoLostUpdate: clients add AVUs to one object and
// overwrite another concurrently; nothing one of them was told is done
// goes missing.
func TestSharedCatalogNoLostUpdate(t *testing.T) {
	cs := openShared(t, 4)
	ctx := context.Background()
	rods := catalog.UserID{Name: "rods", Zone: "z"}
	c0 := cs[0]
	if _, err := c0.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/z"), Owner: rods}); err != nil {
		t.Fatal(err)
	}
	if _, err := c0.CreateResource(ctx, catalog.Resource{Name: "r", Type: "posix"}); err != nil {
		t.Fatal(err)
	}
	target := catalog.MustPath("/z/meta")
	if _, err := c0.CreateCollection(ctx, catalog.Collection{Path: target, Owner: rods}); err != nil {
		t.Fatal(err)
	}
	const each = 10
	var wg sync.WaitGroup
	errs := make(chan error, len(cs)*each*2)
	for i, c := range cs {
		wg.Go(func() {
			for j := range each {
				// Read-modify-write of one target's AVU set.
				if err := c.AddMetadata(ctx, catalog.CollectionTarget(target), catalog.AVU{Attribute: "n", Value: fmt.Sprintf("%d-%d", i, j)}); err != nil {
					errs <- err
				}
				// Creations in one collection, each a new name.
				p := catalog.MustPath(fmt.Sprintf("/z/o%d-%d", i, j))
				_, r, err := c.BeginReplica(ctx, catalog.NewReplica{Path: p, Owner: rods, Resource: "r", PhysicalPath: p.String(),
					Holder: "h", LeaseExpiry: time.Now().Add(time.Hour)})
				if err == nil {
					_, err = c.CommitReplica(ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "h"})
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	avus, err := cs[1].ListMetadata(ctx, catalog.CollectionTarget(target))
	if err != nil || len(avus) != len(cs)*each {
		t.Fatalf("%d AVUs (%v), want %d", len(avus), err, len(cs)*each)
	}
	objs, err := cs[2].ListObjects(ctx, catalog.MustPath("/z"), "", 1000)
	if err != nil || len(objs) != len(cs)*each {
		t.Fatalf("%d objects (%v), want %d", len(objs), err, len(cs)*each)
	}
}
