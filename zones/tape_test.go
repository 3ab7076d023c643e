package zones

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources/resourcetest"
	"github.com/arca-data/arca/resources/tape"
)

// Reading back 100 objects spread over 10 cartridges, as iget -r does (Stage
// of the collection, then 8 reads at a time in listing order), mounts each
// cartridge once: the recalls are queued at once and ordered by cartridge
// and position.
func TestTapeRecallMounts(t *testing.T) {
	const objects, perCart, size = 100, 10, 32 << 10
	e := newFaultEnv(t)
	ctx := fmt.Sprintf("drives=2;cartridge_size=%d;mount_latency=5ms;rewind_latency=2ms;seek_rate=1GiB;keep_online=no;stage_size=64MiB", perCart*(size+2048))
	if _, err := e.zone.MakeResource(e.ctx, As(e.rods), catalog.Resource{Name: "tp", Type: "tape",
		Location: filepath.Join(e.dir, "tape"), Context: ctx}); err != nil {
		t.Fatal(err)
	}
	coll := catalog.MustPath(e.zone.Home(DefaultAdmin).String() + "/run")
	if _, err := e.zone.MakeCollection(e.ctx, As(e.rods), coll, false); err != nil {
		t.Fatal(err)
	}
	for i := range objects {
		if err := e.put(fmt.Sprintf("run/%03d", i), "tp", resourcetest.Data(uint64(i), size), false); err != nil {
			t.Fatal(err)
		}
	}
	d, _, err := e.zone.resource(e.ctx, "tp")
	if err != nil {
		t.Fatal(err)
	}
	lib := d.(*tape.Resource)
	if n := lib.Cartridges(); n != objects/perCart {
		t.Fatalf("%d objects on %d cartridges, want %d", objects, n, objects/perCart)
	}
	before := lib.Stats()
	start := time.Now()
	res, err := e.zone.Stage(e.ctx, As(e.rods), coll, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Queued != objects {
		t.Errorf("Stage queued %d recalls, want %d", res.Queued, objects)
	}
	names := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range names {
				_, _, rc, err := e.zone.Open(e.ctx, As(e.rods), e.path(fmt.Sprintf("run/%03d", i)), 0)
				if err != nil {
					t.Error(err)
					continue
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || !bytes.Equal(got, resourcetest.Data(uint64(i), size)) {
					t.Errorf("object %d read back wrong: %v", i, err)
				}
			}
		})
	}
	for i := range objects {
		names <- i
	}
	close(names)
	wg.Wait()
	after := lib.Stats()
	mounts := after.Mounts - before.Mounts
	t.Logf("recall of %d objects on %d cartridges through the zone, 8 at a time: %d mounts, %d recalls, %v",
		objects, objects/perCart, mounts, after.Recalls-before.Recalls, time.Since(start).Round(time.Millisecond))
	if mounts > objects/perCart {
		t.Errorf("%d mounts, want at most %d", mounts, objects/perCart)
	}
}

// TestFsckRepairsCorruptTape corrupts the bytes of a replica on a tape
// cartridge while a good replica is on disk: fsck -K --repair marks the
// tape replica stale and copies it again from the good one, so that it is
// never the intact copy that a later itrim takes away.
func TestFsckRepairsCorruptTape(t *testing.T) {
	e := newFaultEnv(t)
	lib := filepath.Join(e.dir, "tape")
	if _, err := e.zone.MakeResource(e.ctx, As(e.rods), catalog.Resource{Name: "tp", Type: "tape", Location: lib,
		Context: "cartridge_size=8MiB;keep_online=no"}); err != nil {
		t.Fatal(err)
	}
	data := resourcetest.Data(3, 300<<10)
	if err := e.put("x.dat", "demoResc", data, false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.Replicate(e.ctx, As(e.rods), ReplicateRequest{Path: e.path("x.dat"), Dest: "tp"}, func(ReplicaChange) error { return nil }); err != nil {
		t.Fatal(err)
	}
	carts, _ := filepath.Glob(filepath.Join(lib, "cartridges", "*.tar"))
	if len(carts) != 1 {
		t.Fatalf("cartridges: %q", carts)
	}
	f, err := os.OpenFile(carts[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XXXX"), 512+5000); err != nil { // in the data, past the tar header
		t.Fatal(err)
	}
	f.Close()

	var found []Finding
	if err := e.zone.Fsck(e.ctx, As(e.rods), FsckRequest{Repair: true, VerifyChecksums: true, Resource: "tp"},
		func(f Finding) error { found = append(found, f); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[0].Kind != FindChecksumMismatch || found[0].Repair != "marked stale" ||
		found[1].Kind != "repair" || !found[1].Repaired {
		t.Fatalf("findings %+v; want a checksum mismatch on tp, marked stale, then refreshed", found)
	}
	// Repaired: the tape replica is good again, and its bytes are the file's.
	obj, err := e.cat.DataObject(e.ctx, e.path("x.dat"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range obj.Replicas {
		if r.Status != catalog.ReplicaGood {
			t.Errorf("after the repair, replica %d on %s is %s", r.Number, r.Resource, r.Status)
		}
	}
	d, _, err := e.zone.resource(e.ctx, "tp")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range obj.Replicas {
		if r.Resource == "tp" {
			if sum, err := d.Checksum(e.ctx, r.PhysicalPath); err != nil || sum != r.Checksum {
				t.Errorf("tape replica after the repair: %s, %v; want %s", sum, err, r.Checksum)
			}
		}
	}
}
