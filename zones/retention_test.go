package zones

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/resources/s3/s3test"
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

// TestRetentionS3ObjectLock: a locked object's replica on an S3 resource
// whose bucket has Object Lock gets the same retention and legal hold in
// the bucket, whether the lock came from a collection's default at the
// put, from iretention set or hold, or the replica from irepl.
func TestRetentionS3ObjectLock(t *testing.T) {
	cfg := s3test.Config(t)
	e := newFaultEnv(t)
	bucket := "arca-zlock-" + s3test.Unique()
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: u.Scheme == "https"})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(e.ctx, bucket, minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(e.dir, "s3.auth")
	if err := os.WriteFile(auth, []byte(cfg.AccessKey+"\n"+cfg.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.MakeResource(e.ctx, As(e.rods), catalog.Resource{Name: "lockedS3", Type: "s3", Location: bucket + "/zone",
		Context: "endpoint=" + cfg.Endpoint + ";auth_file=" + auth}); err != nil {
		t.Fatal(err)
	}
	retention := func(p catalog.Path) (*minio.RetentionMode, *time.Time, *minio.LegalHoldStatus) {
		t.Helper()
		o, err := e.cat.DataObject(e.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range o.Replicas {
			if r.Resource == "lockedS3" {
				mode, until, _ := mc.GetObjectRetention(e.ctx, bucket, "zone/"+r.PhysicalPath, "")
				hold, _ := mc.GetObjectLegalHold(e.ctx, bucket, "zone/"+r.PhysicalPath, minio.GetObjectLegalHoldOptions{})
				return mode, until, hold
			}
		}
		t.Fatalf("%s has no replica on lockedS3", p)
		return nil, nil, nil
	}
	nothing := func(catalog.ObjectLock) error { return nil }

	// A collection default: the put's bytes are locked at once.
	arch := e.path("arch")
	if _, err := e.zone.MakeCollection(e.ctx, As(e.rods), arch, false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.SetDefaultRetention(e.ctx, As(e.rods), arch, catalog.DefaultRetention{Mode: catalog.LockCompliance, Period: catalog.Period{Days: 1}},
		false, func(catalog.Collection) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := e.put("arch/a", "lockedS3", []byte("archived"), false); err != nil {
		t.Fatal(err)
	}
	if mode, until, _ := retention(e.path("arch/a")); mode == nil || *mode != minio.Compliance || until == nil || time.Until(*until) < 23*time.Hour {
		t.Errorf("a put under a compliance default: S3 retention %v until %v", mode, until)
	}

	// iretention set and hold on an object already there.
	if err := e.put("b", "lockedS3", []byte("later"), false); err != nil {
		t.Fatal(err)
	}
	if mode, _, _ := retention(e.path("b")); mode != nil {
		t.Fatalf("an unlocked object has S3 retention %v", *mode)
	}
	until := time.Now().Add(48 * time.Hour)
	if err := e.zone.SetRetention(e.ctx, As(e.rods), RetentionRequest{Path: e.path("b"), Mode: catalog.LockGovernance, Until: until}, nothing); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.SetHold(e.ctx, As(e.rods), e.path("b"), true, false, nothing); err != nil {
		t.Fatal(err)
	}
	if mode, u, hold := retention(e.path("b")); mode == nil || *mode != minio.Governance || u == nil || u.Sub(until).Abs() > time.Second ||
		hold == nil || *hold != minio.LegalHoldEnabled {
		t.Errorf("after set and hold: S3 retention %v until %v, hold %v", mode, u, hold)
	}
	// The governance bypass reaches the bucket too.
	if err := e.zone.SetHold(e.ctx, As(e.rods), e.path("b"), false, false, nothing); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.SetRetention(e.ctx, As(e.rods), RetentionRequest{Path: e.path("b"), BypassGovernance: true}, nothing); err != nil {
		t.Fatal(err)
	}
	if mode, _, hold := retention(e.path("b")); (mode != nil && *mode != "") || (hold != nil && *hold == minio.LegalHoldEnabled) {
		t.Errorf("after the bypass: S3 retention %v, hold %v", mode, hold)
	}

	// irepl of a locked object onto the bucket locks the copy.
	if err := e.put("c", DefaultResource, []byte("replicated"), false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.SetRetention(e.ctx, As(e.rods), RetentionRequest{Path: e.path("c"), Mode: catalog.LockCompliance, For: catalog.Period{Days: 1}}, nothing); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.Replicate(e.ctx, As(e.rods), ReplicateRequest{Path: e.path("c"), Dest: "lockedS3"}, func(ch ReplicaChange) error { return ch.Err }); err != nil {
		t.Fatal(err)
	}
	if mode, _, _ := retention(e.path("c")); mode == nil || *mode != minio.Compliance {
		t.Errorf("a replica copied to the bucket: S3 retention %v", mode)
	}
}
