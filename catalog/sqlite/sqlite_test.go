package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"path/filepath"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/catalogtest"
)

func openTemp(t testing.TB) *Catalog {
	t.Helper()
	c, err := Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

func TestConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalog.Catalog { return openTemp(t) })
}

func TestPragmas(t *testing.T) {
	c := openTemp(t)
	ctx := context.Background()
	check := func(db string, q querier, want map[string]string) {
		for pragma, v := range want {
			var got string
			if err := q.queryRow("PRAGMA " + pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != v {
				t.Errorf("%s: PRAGMA %s = %s, want %s", db, pragma, got, v)
			}
		}
	}
	err := c.write(ctx, func(w *wtx) error {
		check("writer", w, map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "query_only": "0"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.read(ctx, func(r *rtx) error {
		check("reader", r, map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "query_only": "1"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	coll, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/z"), Owner: catalog.UserID{Name: "u", Zone: "z"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := c.Stat(ctx, catalog.MustPath("/z")); !errors.Is(err, ErrClosed) {
		t.Errorf("Stat after Close: %v, want ErrClosed", err)
	}
	if _, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/y"), Owner: coll.Owner}); !errors.Is(err, ErrClosed) {
		t.Errorf("CreateCollection after Close: %v, want ErrClosed", err)
	}

	c, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Collection(ctx, catalog.MustPath("/z"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != coll.ID || !got.CreateTime.Equal(coll.CreateTime) {
		t.Errorf("after reopening: %+v, want %+v", got, coll)
	}
	var version int
	if err := c.rdb.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations) {
		t.Errorf("schema version %d, want %d", version, len(migrations))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE schema_version SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if c, err := Open(ctx, path); err == nil {
		c.Close()
		t.Fatal("opened a database with a newer schema")
	}
}

// TestCloseDrains checks that writes submitted before Close all commit, and
// that their callers hear so.
func TestCloseDrains(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	owner := catalog.UserID{Name: "u", Zone: "z"}
	const n = 200
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, results[i] = c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath(fmt.Sprintf("/c%d", i)), Owner: owner})
		})
	}
	time.Sleep(time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	c, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	committed := 0
	for i, err := range results {
		_, serr := c.Collection(ctx, catalog.MustPath(fmt.Sprintf("/c%d", i)))
		switch {
		case err == nil && serr == nil:
			committed++
		case errors.Is(err, ErrClosed) && errors.Is(serr, catalog.ErrNotFound):
		default:
			t.Errorf("/c%d: create said %v, and then the catalog says %v", i, err, serr)
		}
	}
	if committed == 0 {
		t.Errorf("no write before Close committed")
	}
}

func TestContextCanceled(t *testing.T) {
	c := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	owner := catalog.UserID{Name: "u", Zone: "z"}
	if _, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/x"), Owner: owner}); !errors.Is(err, context.Canceled) {
		t.Errorf("write with a canceled context: %v", err)
	}
	if _, err := c.Stat(ctx, catalog.MustPath("/")); !errors.Is(err, context.Canceled) {
		t.Errorf("read with a canceled context: %v", err)
	}
	if _, err := c.Stat(context.Background(), catalog.MustPath("/x")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("canceled write happened: %v", err)
	}
}

// TestGroupCommit checks that concurrent writers share commits.
func TestGroupCommit(t *testing.T) {
	c := openTemp(t)
	ctx := context.Background()
	owner := catalog.UserID{Name: "u", Zone: "z"}
	var commits atomic.Int64
	c.onCommit = func(n int) { commits.Add(1) }
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath(fmt.Sprintf("/g%d-%d", g, i)), Owner: owner}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := commits.Load(); n >= writers*each {
		t.Errorf("%d commits for %d writes: no grouping", n, writers*each)
	} else {
		t.Logf("%d writes in %d commits", writers*each, n)
	}
}
