package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	t.Cleanup(func() { checkIntegrity(t, c) }) // runs before the close
	return c
}

// checkIntegrity checks invariants of the stored catalog that the API does
// not show: no orphan rows, paths that agree with parents and names, and
// SQLite's own checks.
func checkIntegrity(t testing.TB, c *Catalog) {
	t.Helper()
	checks := map[string]string{
		"orphan grants": `SELECT count(*) FROM access a WHERE
			(kind = 'collection' AND NOT EXISTS (SELECT 1 FROM collections WHERE id = a.target_id)) OR
			(kind = 'object' AND NOT EXISTS (SELECT 1 FROM data_objects WHERE id = a.target_id))`,
		"orphan AVUs": `SELECT count(*) FROM avus a WHERE
			(kind = 'collection' AND NOT EXISTS (SELECT 1 FROM collections WHERE id = a.target_id)) OR
			(kind = 'object' AND NOT EXISTS (SELECT 1 FROM data_objects WHERE id = a.target_id)) OR
			(kind = 'resource' AND NOT EXISTS (SELECT 1 FROM resources WHERE id = a.target_id)) OR
			(kind = 'user' AND NOT EXISTS (SELECT 1 FROM users WHERE id = a.target_id))`,
		"paths that disagree with parent and name": `SELECT count(*) FROM collections c JOIN collections p ON p.id = c.parent_id
			WHERE c.path <> (CASE WHEN p.path = '/' THEN '' ELSE p.path END) || '/' || c.name`,
		"collections without parent": `SELECT count(*) FROM collections WHERE parent_id IS NULL AND id <> 1`,
		"objects where a collection is": `SELECT count(*) FROM data_objects o JOIN collections c ON c.id = o.coll_id
			JOIN collections x ON x.path = (CASE WHEN c.path = '/' THEN '' ELSE c.path END) || '/' || o.name`,
		"objects without replicas":             `SELECT count(*) FROM data_objects o WHERE NOT EXISTS (SELECT 1 FROM replicas WHERE object_id = o.id)`,
		"intermediate replicas without holder": `SELECT count(*) FROM replicas WHERE status = 0 AND (lock_holder = '' OR lease_expiry_ns = 0)`,
		"foreign key violations":               `SELECT count(*) FROM pragma_foreign_key_check`,
	}
	err := c.read(context.Background(), func(q *rtx) error {
		for what, query := range checks {
			var n int
			if err := q.queryRow(query).Scan(&n); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if n != 0 {
				t.Errorf("integrity: %d %s", n, what)
			}
		}
		var res string
		if err := q.queryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
			return err
		}
		if res != "ok" {
			t.Errorf("integrity_check: %s", res)
		}
		return nil
	})
	if err != nil {
		t.Errorf("integrity: %v", err)
	}
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
		// NORMAL: the syncer, not the commit, fsyncs the WAL (walsync_test.go).
		check("writer", w, map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "query_only": "0"})
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

// TestQuotasSeenAfterReopen: QuotasFor skips its query while the zone has
// no quota; a quota set before a restart must still be found after it.
func TestQuotasSeenAfterReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	owner := catalog.UserID{Name: "u", Zone: "z"}
	if _, err := c.CreateUser(ctx, catalog.User{Name: owner.Name, Zone: owner.Zone, Type: catalog.UserTypeUser}); err != nil {
		t.Fatal(err)
	}
	file := catalog.MustPath("/z/f")
	if qs, err := c.QuotasFor(ctx, owner, file, ""); err != nil || len(qs) != 0 {
		t.Fatalf("QuotasFor without quotas = %v, %v", qs, err)
	}
	if c.mayHaveQuotas.Load() {
		t.Error("a catalog without quotas takes the slow path")
	}
	if err := c.SetQuota(ctx, catalog.Quota{Kind: catalog.QuotaUser, Principal: owner, MaxBytes: 10}); err != nil {
		t.Fatal(err)
	}
	if qs, err := c.QuotasFor(ctx, owner, file, ""); err != nil || len(qs) != 1 {
		t.Errorf("QuotasFor after SetQuota = %v, %v", qs, err)
	}
	c.Close()
	if c, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if qs, err := c.QuotasFor(ctx, owner, file, ""); err != nil || len(qs) != 1 || qs[0].MaxBytes != 10 {
		t.Errorf("QuotasFor after reopening = %v, %v", qs, err)
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

// TestWithdrawnWrite checks that a write whose context ends while it waits
// for the writer is not applied later.
func TestWithdrawnWrite(t *testing.T) {
	c := openTemp(t)
	owner := catalog.UserID{Name: "u", Zone: "z"}
	block, started := make(chan struct{}), make(chan struct{})
	go c.write(context.Background(), func(*wtx) error { close(started); <-block; return nil })
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/x"), Owner: owner})
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it queue behind the blocked write
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled write returned %v", err)
	}
	close(block)
	if _, err := c.CreateCollection(context.Background(), catalog.Collection{Path: catalog.MustPath("/y"), Owner: owner}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat(context.Background(), catalog.MustPath("/x")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("the withdrawn write was applied: %v", err)
	}
}

// TestIDsNotReused checks that a removed object's id is not given to a new
// one, so that a late call with the old id cannot reach the new object.
func TestIDsNotReused(t *testing.T) {
	c := openTemp(t)
	ctx := context.Background()
	owner := catalog.UserID{Name: "u", Zone: "z"}
	if _, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/z"), Owner: owner}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateResource(ctx, catalog.Resource{Name: "r", Type: "posix"}); err != nil {
		t.Fatal(err)
	}
	nr := catalog.NewReplica{Path: catalog.MustPath("/z/o"), Owner: owner, Resource: "r", PhysicalPath: "p1",
		Holder: "h", LeaseExpiry: time.Now().Add(time.Hour)}
	o1, r1, err := c.BeginReplica(ctx, nr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortReplica(ctx, r1.ObjectID, r1.Number, "h"); err != nil {
		t.Fatal(err)
	}
	nr.PhysicalPath = "p2"
	o2, r2, err := c.BeginReplica(ctx, nr)
	if err != nil {
		t.Fatal(err)
	}
	if o2.ID == o1.ID {
		t.Fatalf("object id %d reused", o1.ID)
	}
	if _, err := c.CommitReplica(ctx, catalog.ReplicaCommit{Object: o1.ID, Number: r2.Number, Holder: "h"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("commit with the old id: %v", err)
	}
	if _, err := c.CommitReplica(ctx, catalog.ReplicaCommit{Object: o2.ID, Number: r2.Number, Holder: "h"}); err != nil {
		t.Fatal(err)
	}
	c1, _ := c.Collection(ctx, catalog.MustPath("/z"))
	if _, err := c.RemoveCollection(ctx, catalog.MustPath("/z"), true); err != nil {
		t.Fatal(err)
	}
	c2, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath("/z"), Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID == c1.ID {
		t.Errorf("collection id %d reused", c1.ID)
	}
}

func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b#c?d%20e&f")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "catalog.db")
	c, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateCollection(context.Background(), catalog.Collection{Path: catalog.MustPath("/z"), Owner: catalog.UserID{Name: "u", Zone: "z"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not where it was asked to be: %v", err)
	}
}

// TestAVUQueryPlans checks that the lookups the AVU schema is designed for
// use its indexes: "attribute = value" (and a value prefix) finds targets in
// avus_attr_value alone, and a target's AVUs are a range of the primary key.
func TestAVUQueryPlans(t *testing.T) {
	c := openTemp(t)
	cases := map[string]string{
		`SELECT kind, target_id FROM avus WHERE attribute = 'project' AND value = 'abc'`:                "USING COVERING INDEX avus_attr_value (attribute=? AND value=?)",
		`SELECT kind, target_id FROM avus WHERE attribute = 'project' AND value >= 'a' AND value < 'b'`: "USING COVERING INDEX avus_attr_value (attribute=? AND value>? AND value<?)",
		`SELECT attribute, value, unit FROM avus WHERE kind = 'object' AND target_id = 7`:               "USING PRIMARY KEY (kind=? AND target_id=?)",
	}
	err := c.read(context.Background(), func(q *rtx) error {
		for query, want := range cases {
			rows, err := q.tx.Query(`EXPLAIN QUERY PLAN ` + query)
			if err != nil {
				return err
			}
			var details []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					rows.Close()
					return err
				}
				details = append(details, detail)
			}
			rows.Close()
			if plan := strings.Join(details, "; "); !strings.Contains(plan, want) {
				t.Errorf("plan of %s:\n  %s\nwant %s", query, plan, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrationCountsStoredOnly checks that migration 12 counts the usage
// of a catalog again the new way: an object whose only replica is still
// being written, which the triggers of migration 5 counted, counts nothing.
func TestMigrationCountsStoredOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	const before = 10
	for _, stmt := range append([]string{`CREATE TABLE schema_version (version INTEGER NOT NULL)`,
		fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, before)}, migrations[:before]...) {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range []string{
		`INSERT INTO resources (id, name, type, location, context, status, comment, parent, create_ns, modify_ns)
			VALUES (1, 'r', 'posix', '/v', '', 'up', '', NULL, 1, 1)`,
		`INSERT INTO collections (id, path, parent_id, name, owner_name, owner_zone, create_ns, modify_ns)
			VALUES (100, '/z', 1, 'z', 'u', 'z', 1, 1)`,
		`INSERT INTO data_objects (id, coll_id, name, owner_name, owner_zone, create_ns, modify_ns)
			VALUES (1, 100, 'stored', 'u', 'z', 1, 1), (2, 100, 'writing', 'u', 'z', 1, 1)`,
		`INSERT INTO replicas (object_id, number, resource, physical_path, size, checksum, status, lock_holder, lease_expiry_ns, create_ns, modify_ns)
			VALUES (1, 0, 'r', 'stored', 10, 'x', 1, '', 0, 1, 1), (2, 0, 'r', 'writing', 0, '', 0, 'h', 9e18, 1, 1)`,
		`INSERT INTO quotas (kind, name, zone, coll_id, resource, max_bytes, max_objects)
			VALUES ('user', 'u', 'z', 0, '', 0, 5), ('user', 'u', 'z', 0, 'r', 0, 5), ('collection', '', '', 100, '', 0, 5)`,
		`INSERT INTO usage_coll (coll_id, bytes, objects) VALUES (100, 10, 2)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	var objects int
	if err := db.QueryRow(`SELECT objects FROM usage_owner WHERE owner_name = 'u' AND resource = ''`).Scan(&objects); err != nil || objects != 2 {
		t.Fatalf("before the migration, the usage counts %d objects (%v); the test expects the old triggers' 2", objects, err)
	}
	db.Close()
	c, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	qs, err := c.ListQuotas(ctx)
	if err != nil || len(qs) != 3 {
		t.Fatalf("ListQuotas = %+v, %v", qs, err)
	}
	for _, q := range qs {
		if q.UsedBytes != 10 || q.UsedObjects != 1 {
			t.Errorf("%s after the migration: %d bytes, %d objects; want 10, 1", q.Name(), q.UsedBytes, q.UsedObjects)
		}
	}
}

// TestJobQueryPlans checks that the queries AddJob runs on every job use
// an index, with the path bound as a parameter as AddJob binds it: a plan
// that scans a rule's jobs makes ingest with a job per put quadratic.
func TestJobQueryPlans(t *testing.T) {
	c := openTemp(t)
	cases := []struct{ query, want string }{
		{`DELETE FROM jobs WHERE rule = ? AND path = ? AND path <> '' AND failed = 0 AND holder = ''`, "USING INDEX jobs_pending (rule=? AND path=?)"},
		{`SELECT coalesce((SELECT n FROM job_live WHERE rule = ?), 0)`, "USING PRIMARY KEY (rule=?)"},
	}
	err := c.read(context.Background(), func(q *rtx) error {
		for _, tc := range cases {
			rows, err := q.tx.Query(`EXPLAIN QUERY PLAN `+tc.query, "r", "/z/a")
			if err != nil {
				return err
			}
			var details []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					rows.Close()
					return err
				}
				details = append(details, detail)
			}
			rows.Close()
			if plan := strings.Join(details, "; "); !strings.Contains(plan, tc.want) {
				t.Errorf("plan of %s:\n  %s\nwant %s", tc.query, plan, tc.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
