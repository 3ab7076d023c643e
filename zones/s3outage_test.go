package zones

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/s3/s3test"
)

// stopAfter reads n zero bytes, calls stop once after limit of them, and
// goes on reading.
type stopAfter struct {
	n, limit int64
	stop     func()
	once     sync.Once
}

func (r *stopAfter) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if r.n < r.limit {
		r.once.Do(r.stop)
	}
	k := min(int64(len(p)), r.n)
	clear(p[:k])
	r.n -= k
	return int(k), nil
}

// A MinIO server that dies in the middle of a put gives the client a clear
// error and leaves no good replica: nothing of a new object, and an
// overwritten object keeps its good replica elsewhere.
func TestS3OutageDuringPut(t *testing.T) {
	srv := s3test.StartServer(t)
	e := newFaultEnv(t)
	auth := filepath.Join(e.dir, "s3.auth")
	if err := os.WriteFile(auth, []byte(srv.Config.AccessKey+"\n"+srv.Config.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.MakeResource(e.ctx, As(e.rods), catalog.Resource{Name: "s3resc", Type: "s3", Location: "outage/zone",
		Context: "endpoint=" + srv.Config.Endpoint + ";auth_file=" + auth + ";part_size=5MiB;threads=2"}); err != nil {
		t.Fatal(err)
	}
	if err := e.put("old", DefaultResource, []byte("old bytes"), false); err != nil {
		t.Fatal(err)
	}
	const size = 64 << 20
	body := &stopAfter{n: size, limit: size - 20<<20, stop: srv.Stop}
	_, err := e.zone.Put(e.ctx, As(e.rods), PutRequest{Path: e.path("new"), Size: size, Resource: "s3resc"}, body)
	if err == nil {
		t.Fatal("a put through a dead S3 server succeeded")
	}
	if !errors.Is(err, resources.ErrUnavailable) || !strings.Contains(err.Error(), "s3") {
		t.Errorf("error %q: want a transient (unavailable) error that names S3", err)
	}
	t.Logf("the client hears: %v", err)
	if _, err := e.cat.DataObject(e.ctx, e.path("new")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("after the failed put the new object is there: %v", err)
	}
	// An overwrite onto the dead server fails and leaves the old replica good.
	_, err = e.zone.Put(e.ctx, As(e.rods), PutRequest{Path: e.path("old"), Size: 3, Resource: "s3resc", Overwrite: true}, strings.NewReader("new"))
	if err == nil {
		t.Fatal("an overwrite to a dead S3 server succeeded")
	}
	obj, err := e.cat.DataObject(e.ctx, e.path("old"))
	if err != nil {
		t.Fatal(err)
	}
	if len(obj.Replicas) != 1 || obj.Replicas[0].Status != catalog.ReplicaGood || obj.Replicas[0].Resource != DefaultResource {
		t.Errorf("after the failed overwrite: %+v, want the old replica, good", obj.Replicas)
	}
	e.checkGoodIsGood()
}
