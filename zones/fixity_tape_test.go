package zones

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources/resourcetest"
	"github.com/arca-data/arca/resources/tape"
)

// A fixity check reads a replica on tape through a recall (the cartridge
// is mounted, the file read back), passes it while intact, and, once its
// bytes on the cartridge are corrupted, fails it, marks it stale and
// repairs it from the good replica on disk.
func TestFixityOnTape(t *testing.T) {
	e := newFaultEnv(t)
	lib := filepath.Join(e.dir, "tape")
	if _, err := e.zone.MakeResource(e.ctx, As(e.rods), catalog.Resource{Name: "tp", Type: "tape", Location: lib,
		Context: "cartridge_size=8MiB;keep_online=no;mount_latency=5ms"}); err != nil {
		t.Fatal(err)
	}
	if err := e.put("x.dat", "demoResc", resourcetest.Data(5, 200<<10), false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.Replicate(e.ctx, As(e.rods), ReplicateRequest{Path: e.path("x.dat"), Dest: "tp"}, func(ReplicaChange) error { return nil }); err != nil {
		t.Fatal(err)
	}
	d, _, err := e.zone.resource(e.ctx, "tp")
	if err != nil {
		t.Fatal(err)
	}
	tp := d.(*tape.Resource)
	check := func(repair bool) map[string]FixityCheck {
		t.Helper()
		out := map[string]FixityCheck{}
		err := e.zone.CheckFixity(e.ctx, As(e.rods), FixityRequest{Path: e.path("x.dat"), Repair: repair}, func(c FixityCheck) error {
			out[c.Resource] = c
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := tp.Stats()
	got := check(false)
	if got["tp"].Outcome != FixityPass || got[DefaultResource].Outcome != FixityPass {
		t.Fatalf("checks of intact replicas: %+v", got)
	}
	if after := tp.Stats(); after.Recalls <= before.Recalls {
		t.Errorf("the tape replica was checked without a recall: %+v, then %+v", before, after)
	}

	carts, _ := filepath.Glob(filepath.Join(lib, "cartridges", "*.tar"))
	if len(carts) != 1 {
		t.Fatalf("cartridges: %q", carts)
	}
	f, err := os.OpenFile(carts[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XXXX"), 512+4000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got = check(true)
	if c := got["tp"]; c.Outcome != FixityFail || c.Repair == "" {
		t.Fatalf("check of a corrupted tape replica: %+v", c)
	}
	obj, err := e.cat.DataObject(e.ctx, e.path("x.dat"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range obj.Replicas {
		if r.Status != catalog.ReplicaGood {
			t.Errorf("after the repair, replica %d on %s is %s", r.Number, r.Resource, r.Status)
		}
	}
	if got := check(false); got["tp"].Outcome != FixityPass {
		t.Errorf("the repaired tape replica: %+v", got["tp"])
	}
}
