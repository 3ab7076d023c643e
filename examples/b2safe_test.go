package examples

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/policies/pid"
	"github.com/arca-data/arca/zones"
)

// TestB2SAFEArchive: a put under /tempZone/archive gets a PID at once and
// a second replica from a job, and the PID's record then lists both.
func TestB2SAFEArchive(t *testing.T) {
	z := newZone(t, example(t, "b2safe-archive.yaml"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg, err := pid.NewRegistry(z.cat, "21.T12995", z.rods.UserID())
	if err != nil {
		t.Fatal(err)
	}
	k, err := pid.NewKeeper(ctx, z.cat, reg, "https://pid.example.org", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	z.AddHook(k)
	z.UsePIDs(k)
	if _, err := z.MakeCollection(ctx, zones.As(z.rods), catalog.MustPath("/tempZone/archive/run1"), true); err != nil {
		t.Fatal(err)
	}
	if err := z.SetAccess(ctx, zones.As(z.rods), catalog.MustPath("/tempZone/archive/run1"), "alice", catalog.AccessOwn, false, false); err != nil {
		t.Fatal(err)
	}
	if err := z.put(t, z.alice, "/tempZone/archive/run1/raw.dat"); err != nil {
		t.Fatal(err)
	}
	handle := z.avus(t, "/tempZone/archive/run1/raw.dat")["PID"]
	if !strings.HasPrefix(handle, "21.T12995/") {
		t.Fatalf("no PID after the put: %v", z.avus(t, "/tempZone/archive/run1/raw.dat"))
	}
	go z.RunJobs(ctx, zones.JobOptions{Poll: 100 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := z.ShowPID(ctx, zones.As(z.alice), handle)
		if err != nil {
			t.Fatal(err)
		}
		var loc string
		for _, v := range p.Values {
			if v.Type == pid.TypeLocations {
				loc = v.Data
			}
		}
		if strings.Contains(loc, `resource="archiveResc"`) && strings.Contains(loc, `resource="demoResc"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the record does not list the second replica: %s", loc)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
