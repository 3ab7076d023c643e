package zones

import (
	"bytes"
	"fmt"
	"io"
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
	ctx := fmt.Sprintf("drives=2;cartridge_size=%d;mount_latency=5ms;rewind_latency=2ms;seek_rate=1GiB;keep_online=no", perCart*(size+2048))
	if _, err := e.zone.MakeResource(e.ctx, e.rods, catalog.Resource{Name: "tp", Type: "tape",
		Location: filepath.Join(e.dir, "tape"), Context: ctx}); err != nil {
		t.Fatal(err)
	}
	coll := catalog.MustPath(e.zone.Home(DefaultAdmin).String() + "/run")
	if _, err := e.zone.MakeCollection(e.ctx, e.rods, coll, false); err != nil {
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
	res, err := e.zone.Stage(e.ctx, e.rods, coll, true)
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
				_, _, rc, err := e.zone.Open(e.ctx, e.rods, e.path(fmt.Sprintf("run/%03d", i)), 0, 0)
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
