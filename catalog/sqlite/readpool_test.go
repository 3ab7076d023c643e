package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// TestConcurrentFirstReads runs many more concurrent reads than there are
// reader connections on a freshly opened catalog, where no statement is
// prepared yet. Preparing through the pool while a read transaction holds a
// connection used to deadlock here (iget -r of a few files hung).
func TestConcurrentFirstReads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	rods := catalog.UserID{Name: "rods", Zone: "z"}
	for _, p := range []string{"/z"} {
		if _, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath(p), Owner: rods}); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	// Reopen: an empty statement cache, as after a server start.
	if c, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			_, err := c.DataObject(ctx, catalog.MustPath("/z/missing"))
			if !errors.Is(err, catalog.ErrNotFound) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent first reads: %v (a deadline here means the reader pool deadlocked)", err)
	}
}
