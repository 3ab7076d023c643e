package zones

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/resources/drivers"
)

// sqliteServers are n servers of one zone on one SQLite catalog file: each
// a Zone with its own catalog handle (its own writer and connections, as a
// second process has), sharing the file and the vault.
func sqliteServers(t *testing.T, n int) ([]*Zone, catalog.User) {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	var zs []*Zone
	for i := range n {
		cat, err := sqlite.Open(t.Context(), filepath.Join(dir, "catalog.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cat.Close() })
		z := New(cat, Options{Drivers: drivers.Default(), Logger: quiet, ServerID: fmt.Sprintf("server%d", i+1)})
		if err := z.Bootstrap(t.Context(), BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
			t.Fatal(err)
		}
		zs = append(zs, z)
	}
	rods, err := zs[0].cat.User(t.Context(), catalog.UserID{Name: DefaultAdmin, Zone: DefaultZone})
	if err != nil {
		t.Fatal(err)
	}
	return zs, rods
}

func TestRetentionTwoServersSQLite(t *testing.T) {
	zs, rods := sqliteServers(t, 2)
	testRetentionTwoServers(t, zs, rods)
}

func TestRetentionTwoServersDgraph(t *testing.T) {
	zs, rods := dgraphServers(t, 2, nil, "")
	testRetentionTwoServers(t, zs, rods)
}

// testRetentionTwoServers locks a data object through one server and
// tries every way to remove or change it through the other, as rodsadmin:
// the lock is the catalog's, so the second server knows it at once.
func testRetentionTwoServers(t *testing.T, zs []*Zone, rods catalog.User) {
	ctx := t.Context()
	one, two := zs[0], zs[1]
	home := one.Home(DefaultAdmin)
	p := func(s string) catalog.Path { return catalog.MustPath(home.String() + "/" + s) }
	if _, err := one.MakeCollection(ctx, As(rods), p("g/c"), true); err != nil {
		t.Fatal(err)
	}
	put := func(z *Zone, s string, overwrite bool) error {
		_, err := z.Put(ctx, As(rods), PutRequest{Path: p(s), Size: -1, Overwrite: overwrite}, strings.NewReader("bytes of "+s))
		return err
	}
	if err := put(one, "g/c/v", false); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(24 * time.Hour)
	if err := one.SetRetention(ctx, As(rods), RetentionRequest{Path: p("g/c/v"), Mode: catalog.LockCompliance, Until: until},
		func(catalog.ObjectLock) error { return nil }); err != nil {
		t.Fatal(err)
	}
	locked := func(what string, err error) {
		t.Helper()
		var le *catalog.LockError
		if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.Path != p("g/c/v") {
			t.Errorf("%s through the second server: %v, want the lock's refusal", what, err)
		}
	}
	_, err := two.Remove(ctx, As(rods), p("g/c/v"), false, false)
	locked("remove to trash", err)
	_, err = two.Remove(ctx, As(rods), p("g/c/v"), false, true)
	locked("remove", err)
	_, err = two.Remove(ctx, As(rods), p("g"), true, true)
	locked("remove the grandparent", err)
	locked("rename", two.Rename(ctx, As(rods), p("g/c/v"), p("g/c/w")))
	locked("rename the parent", two.Rename(ctx, As(rods), p("g/c"), p("g/d")))
	locked("overwrite", put(two, "g/c/v", true))
	_, err = two.Copy(ctx, As(rods), p("g/c/v"), p("g/c/v"), "", true)
	if err == nil {
		t.Error("a copy onto itself succeeded")
	}
	if err := put(two, "g/c/x", false); err != nil {
		t.Fatal(err)
	}
	_, err = two.Copy(ctx, As(rods), p("g/c/x"), p("g/c/v"), "", true)
	locked("copy over", err)
	err = two.SetRetention(ctx, As(rods), RetentionRequest{Path: p("g/c/v"), Mode: catalog.LockCompliance, Until: until.Add(-time.Hour)},
		func(catalog.ObjectLock) error { return nil })
	locked("shorten", err)
	err = two.SetRetention(ctx, As(rods), RetentionRequest{Path: p("g/c/v"), BypassGovernance: true}, func(catalog.ObjectLock) error { return nil })
	locked("remove the lock with the bypass", err)
	// Unverified replicas: two good replicas without checksums (as
	// registered files are) cannot be trimmed or moved off.
	reg := catalog.RegisteredObject{Path: p("g/c/reg"), Owner: rods.UserID(), Replicas: []catalog.RegisteredReplica{
		{Resource: DefaultResource, PhysicalPath: "reg-a", Size: 1}, {Resource: DefaultResource, PhysicalPath: "reg-b", Size: 1}}}
	if err := one.cat.Register(ctx, []catalog.RegisteredObject{reg}, false); err != nil {
		t.Fatal(err)
	}
	if err := one.SetRetention(ctx, As(rods), RetentionRequest{Path: p("g/c/reg"), Mode: catalog.LockGovernance, For: catalog.Period{Days: 1}},
		func(catalog.ObjectLock) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var changes []ReplicaChange
	if err := two.Trim(ctx, As(rods), TrimRequest{Path: p("g/c/reg"), Keep: 1}, func(ch ReplicaChange) error {
		changes = append(changes, ch)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(changes) == 0 {
		t.Error("trim of unverified replicas reports nothing")
	}
	for _, ch := range changes {
		if ch.Action != "failed" || !errors.Is(ch.Err, ErrLocked) {
			t.Errorf("trim of an unverified replica: %s %v", ch.Action, ch.Err)
		}
	}
	// The object is as it was.
	o, err := one.cat.DataObject(ctx, p("g/c/v"))
	if err != nil || len(o.Good()) != 1 || o.Lock.Mode != catalog.LockCompliance || o.Lock.Until.Sub(until).Abs() > time.Millisecond {
		t.Fatalf("the locked object after the attacks: %+v, %v", o, err)
	}
	_, _, rc, err := one.open(ctx, p("g/c/v"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "bytes of g/c/v" {
		t.Errorf("the locked object holds %q", b)
	}
	// Trash through the first server, purge through the second.
	if err := put(one, "g/free", false); err != nil {
		t.Fatal(err)
	}
	if _, err := one.Remove(ctx, As(rods), p("g/free"), false, false); err != nil {
		t.Fatal(err)
	}
	trashed := catalog.MustPath(one.TrashHome(DefaultAdmin).String() + "/g/free")
	if _, err := one.cat.Stat(ctx, trashed); err != nil {
		t.Fatal(err)
	}
	if err := one.SetHold(ctx, As(rods), trashed, true, false, func(catalog.ObjectLock) error { return nil }); err != nil {
		t.Fatal(err)
	}
	_, err = two.RemoveTrash(ctx, As(rods), "", false)
	if !errors.Is(err, ErrLocked) {
		t.Errorf("empty a trash holding an object on hold: %v", err)
	}
	if _, err := two.cat.Stat(ctx, trashed); err != nil {
		t.Errorf("the held object in the trash: %v", err)
	}
}
