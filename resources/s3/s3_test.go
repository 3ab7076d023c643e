package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/resourcetest"
	"github.com/arca-data/arca/resources/s3"
	"github.com/arca-data/arca/resources/s3/s3test"
)

func open(t testing.TB, cfg s3.Config) *s3.Resource {
	t.Helper()
	r, err := s3.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSuite(t *testing.T) {
	resourcetest.Run(t, func(t *testing.T) resources.Resource {
		return open(t, s3test.Config(t))
	})
}

// A bucket without a prefix, made by Open.
func TestSuiteNewBucket(t *testing.T) {
	resourcetest.Run(t, func(t *testing.T) resources.Resource {
		cfg := s3test.Config(t)
		cfg.Bucket, cfg.Prefix = "arca-"+s3test.Unique(), ""
		return open(t, cfg)
	})
}

// Objects larger than a part go up as multipart uploads whose parts are
// sent while the writer is still writing.
func TestMultipart(t *testing.T) {
	cfg := s3test.Config(t)
	cfg.PartSize = 5 << 20
	cfg.Threads = 2
	r := open(t, cfg)
	data := resourcetest.Data(7, 23<<20+11)
	w, err := r.Create(t.Context(), "big")
	if err != nil {
		t.Fatal(err)
	}
	for chunk := data; len(chunk) > 0; {
		n := min(len(chunk), 1<<20+3)
		if _, err := w.Write(chunk[:n]); err != nil {
			t.Fatal(err)
		}
		chunk = chunk[n:]
	}
	info, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := resources.ChecksumOf(bytes.NewReader(data))
	if info.Size != int64(len(data)) || info.Checksum != want {
		t.Fatalf("Commit = %+v, want %d bytes and %s", info, len(data), want)
	}
	if got := resourcetest.Get(t, r, "big"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, differ", len(got))
	}
	// An aborted multipart upload leaves nothing.
	w, err = r.Create(t.Context(), "aborted")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if _, err := r.Stat(t.Context(), "aborted"); !errors.Is(err, resources.ErrNotFound) {
		t.Fatalf("Stat after Abort: %v", err)
	}
}

// A second writer of a key being uploaded is refused.
func TestCreateWhileWriting(t *testing.T) {
	r := open(t, s3test.Config(t))
	w, err := r.Create(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(t.Context(), "k"); !errors.Is(err, resources.ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
	w.Write([]byte("x"))
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Wrong credentials are a permission error, an unreachable server a
// transient one that is retried, then reported.
func TestErrors(t *testing.T) {
	cfg := s3test.Config(t)
	bad := cfg
	bad.SecretKey = "wrong-secret"
	if _, err := s3.Open(t.Context(), bad); !errors.Is(err, resources.ErrPermission) {
		t.Errorf("Open with a wrong secret: %v, want ErrPermission", err)
	}
	gone := cfg
	gone.Endpoint = "http://127.0.0.1:1"
	gone.Attempts = 2
	if _, err := s3.Open(t.Context(), gone); !errors.Is(err, resources.ErrUnavailable) {
		t.Errorf("Open of a closed port: %v, want ErrUnavailable", err)
	}
	r := open(t, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	w, err := r.Create(ctx, "cancelled")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 100))
	cancel()
	if _, err := w.Commit(); err == nil {
		t.Errorf("Commit after the context ended succeeded")
	}
	if _, err := r.Stat(t.Context(), "cancelled"); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("Stat of a cancelled upload: %v", err)
	}
	rc, err := r.Open(t.Context(), "missing", 0)
	if !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("Open of a missing key: %v", err)
	}
	if rc != nil {
		io.Copy(io.Discard, rc)
	}
}
