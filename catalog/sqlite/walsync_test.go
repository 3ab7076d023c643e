package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// TestWriteWaitsForWALSync checks that a write is answered only after the
// syncer's fsync of the WAL returned, never at its commit.
func TestWriteWaitsForWALSync(t *testing.T) {
	c := openTemp(t)
	ctx := context.Background()
	var (
		returned atomic.Bool
		early    atomic.Int64 // syncs entered after the write had returned
		syncs    atomic.Int64
	)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	realSync := c.syncWAL
	c.syncWAL = func() error {
		syncs.Add(1)
		if returned.Load() {
			early.Add(1)
		}
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return realSync()
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/z"), Owner: catalog.UserID{Name: "u", Zone: "z"}})
		returned.Store(true)
		errc <- err
	}()
	<-entered
	// The group is committed (readers may see it) but not yet durable:
	// its caller must still be waiting.
	if returned.Load() {
		t.Fatal("the write returned before the WAL was synced")
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if syncs.Load() == 0 || early.Load() != 0 {
		t.Fatalf("%d syncs, %d after the write returned", syncs.Load(), early.Load())
	}
}

// TestWALSyncFailureStopsWrites checks that a failed fsync of the WAL fails
// the writes it covered, and every write after it, with the cause; reads
// go on and the catalog closes.
func TestWALSyncFailureStopsWrites(t *testing.T) {
	c, err := Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	owner := catalog.UserID{Name: "u", Zone: "z"}
	if _, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/ok"), Owner: owner}); err != nil {
		t.Fatal(err)
	}
	diskErr := errors.New("injected EIO")
	c.syncWAL = func() error { return diskErr }
	for i := range 3 {
		_, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath(fmt.Sprintf("/lost%d", i)), Owner: owner})
		if !errors.Is(err, diskErr) {
			t.Fatalf("write %d after a failed WAL sync: %v, want %v", i, err, diskErr)
		}
	}
	if _, err := c.Stat(ctx, catalog.MustPath("/ok")); err != nil {
		t.Errorf("read after a failed WAL sync: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// TestBeginReplicaIsVolatile checks the one write that does not wait for
// the WAL fsync, BeginReplica, and that the CommitReplica after it does.
func TestBeginReplicaIsVolatile(t *testing.T) {
	c := openTemp(t)
	ctx := context.Background()
	owner := catalog.UserID{Name: "u", Zone: "z"}
	if _, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/z"), Owner: owner}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateResource(ctx, catalog.Resource{Name: "r", Type: "posix", Location: "/v", Status: "up"}); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	realSync := c.syncWAL
	c.syncWAL = func() error {
		<-release
		return realSync()
	}
	type begun struct {
		rep catalog.Replica
		err error
	}
	began := make(chan begun, 1)
	go func() {
		_, rep, err := c.BeginReplica(ctx, catalog.NewReplica{Path: catalog.MustPath("/z/f"), Owner: owner, Resource: "r",
			PhysicalPath: "z/f", Holder: "h", LeaseExpiry: time.Now().Add(time.Minute)})
		began <- begun{rep, err}
	}()
	var rep catalog.Replica
	select {
	case b := <-began:
		if b.err != nil {
			t.Fatal(b.err)
		}
		rep = b.rep
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("BeginReplica waited for the WAL fsync")
	}
	var returned atomic.Bool
	errc := make(chan error, 1)
	go func() {
		_, err := c.CommitReplica(ctx, catalog.ReplicaCommit{Object: rep.ObjectID, Number: rep.Number, Holder: "h", Size: 1, Checksum: "sha2:x"})
		returned.Store(true)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if returned.Load() {
		t.Fatal("CommitReplica returned before the WAL was synced")
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
