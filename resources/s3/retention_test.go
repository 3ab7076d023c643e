package s3_test

import (
	"bytes"
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/s3"
	"github.com/arca-data/arca/resources/s3/s3test"
)

// lockedBucket makes a bucket with Object Lock on the test server and
// returns a client of its own, to look behind the driver's back.
func lockedBucket(t *testing.T, cfg s3.Config) *minio.Client {
	t.Helper()
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: u.Scheme == "https"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MakeBucket(t.Context(), cfg.Bucket, minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	return c
}

func put(t *testing.T, r resources.Resource, key, data string) {
	t.Helper()
	w, err := r.Create(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestRetainObjectLock: in a bucket with Object Lock, Retain locks the
// object itself, so that the bucket's own credentials cannot delete the
// locked version; a bucket without Object Lock is left alone.
func TestRetainObjectLock(t *testing.T) {
	ctx := t.Context()
	cfg := s3test.Config(t)
	cfg.Bucket, cfg.Prefix = "arca-lock-"+s3test.Unique(), "p"
	c := lockedBucket(t, cfg)
	r := open(t, cfg)
	if !r.Locks() {
		t.Fatal("a bucket made with Object Lock: Locks is false")
	}
	put(t, r, "kept", "retained bytes")
	until := time.Now().Add(24 * time.Hour).Truncate(time.Second).UTC()
	if err := r.Retain(ctx, "kept", resources.Retention{Mode: "compliance", Until: until, Hold: true}); err != nil {
		t.Fatal(err)
	}
	mode, date, err := c.GetObjectRetention(ctx, cfg.Bucket, "p/kept", "")
	if err != nil || mode == nil || *mode != minio.Compliance || date == nil || !date.Equal(until) {
		t.Fatalf("retention of the object: %v %v %v", mode, date, err)
	}
	hold, err := c.GetObjectLegalHold(ctx, cfg.Bucket, "p/kept", minio.GetObjectLegalHoldOptions{})
	if err != nil || hold == nil || *hold != minio.LegalHoldEnabled {
		t.Fatalf("legal hold: %v %v", hold, err)
	}
	st, err := c.StatObject(ctx, cfg.Bucket, "p/kept", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Deleting the version, as a thief with the key would, is refused,
	// with a bypass too.
	for _, bypass := range []bool{false, true} {
		err := c.RemoveObject(ctx, cfg.Bucket, "p/kept", minio.RemoveObjectOptions{VersionID: st.VersionID, GovernanceBypass: bypass})
		if err == nil {
			t.Fatalf("deleting a version under compliance (bypass %v) succeeded", bypass)
		}
	}
	// The driver's remove only hides it behind a delete marker.
	if err := r.Remove(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObject(ctx, cfg.Bucket, "p/kept", minio.GetObjectOptions{VersionID: st.VersionID})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(got); err != nil || b.String() != "retained bytes" {
		t.Fatalf("the locked version after a remove: %q %v", b.String(), err)
	}
	got.Close()
	// Shortening compliance is refused by the store itself.
	if err := r.Retain(ctx, "kept", resources.Retention{Mode: "compliance", Until: until.Add(-time.Hour), Bypass: true}); err == nil {
		t.Error("the store let a compliance retention be shortened")
	}

	// Governance: shortened and removed with the bypass.
	put(t, r, "gov", "governed")
	if err := r.Retain(ctx, "gov", resources.Retention{Mode: "governance", Until: until}); err != nil {
		t.Fatal(err)
	}
	if err := r.Retain(ctx, "gov", resources.Retention{Mode: "governance", Until: until.Add(-time.Hour)}); err == nil {
		t.Error("a governance retention was shortened without the bypass")
	}
	if err := r.Retain(ctx, "gov", resources.Retention{Bypass: true}); err != nil {
		t.Fatalf("remove a governance retention with the bypass: %v", err)
	}
	if err := r.Remove(ctx, "gov"); err != nil {
		t.Fatal(err)
	}

	// A bucket without Object Lock: nothing to do, no error.
	plain := open(t, s3test.Config(t))
	if plain.Locks() {
		t.Error("a plain bucket: Locks is true")
	}
	put(t, plain, "x", "x")
	if err := plain.Retain(context.Background(), "x", resources.Retention{Mode: "compliance", Until: until}); err != nil {
		t.Errorf("Retain on a plain bucket: %v", err)
	}
}
