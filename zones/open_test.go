package zones

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources/resourcetest"
)

// TestOpenChosenReplica: OpenWith reads the replica asked for by number
// (replica 0 included) or by resource (a leaf, or the root of a tree), and
// no other; a replica being written is refused with ErrLocked, a missing
// one is not found.
func TestOpenChosenReplica(t *testing.T) {
	e := newFaultEnv(t)
	e.mkresc("a", "posix")
	e.mkresc("b", "posix")
	e.mkresc("rep", "replication")
	e.child("rep", "a")
	e.child("rep", "b")
	data := resourcetest.Data(3, 1000)
	if err := e.put("x", "rep", data, false); err != nil {
		t.Fatal(err)
	}
	obj, err := e.cat.DataObject(e.ctx, e.path("x"))
	if err != nil || len(obj.Replicas) != 2 {
		t.Fatalf("%v %+v", err, obj.Replicas)
	}
	read := func(o OpenOptions) (catalog.Replica, error) {
		t.Helper()
		_, rep, rc, err := e.zone.OpenWith(e.ctx, As(e.rods), e.path("x"), o)
		if err != nil {
			return rep, err
		}
		defer rc.Close()
		if b, err := io.ReadAll(rc); err != nil || len(b) != len(data) {
			t.Errorf("read %+v: %d bytes, %v", o, len(b), err)
		}
		return rep, nil
	}
	for _, r := range obj.Replicas {
		got, err := read(OpenOptions{ByNumber: true, Number: r.Number})
		if err != nil || got.Number != r.Number {
			t.Errorf("replica %d: got %d, %v", r.Number, got.Number, err)
		}
		got, err = read(OpenOptions{Resource: r.Resource})
		if err != nil || got.Number != r.Number {
			t.Errorf("on %s: got replica %d, %v", r.Resource, got.Number, err)
		}
	}
	if got, err := read(OpenOptions{Resource: "rep"}); err != nil || got.Status != catalog.ReplicaGood {
		t.Errorf("on the root rep: %+v, %v", got, err)
	}
	if _, err := read(OpenOptions{ByNumber: true, Number: 9}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("replica 9: %v", err)
	}
	if _, err := read(OpenOptions{Resource: "nowhere"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("on nowhere: %v", err)
	}

	// A replica being written is not read when asked for.
	e.mkresc("c", "posix")
	_, inter, err := e.cat.BeginReplica(e.ctx, catalog.NewReplica{Path: e.path("x"), Owner: e.rods.UserID(),
		Resource: "c", PhysicalPath: "home/rods/x.writing", Holder: "someone", LeaseExpiry: time.Now().Add(time.Hour), Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := read(OpenOptions{ByNumber: true, Number: inter.Number}); !errors.Is(err, catalog.ErrLocked) {
		t.Errorf("intermediate replica %d: %v, want ErrLocked", inter.Number, err)
	}
	if _, err := read(OpenOptions{Resource: "c"}); !errors.Is(err, catalog.ErrLocked) {
		t.Errorf("intermediate replica on c: %v, want ErrLocked", err)
	}
}
