package zones

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/resourcetest"
)

func (e *faultEnv) replicasOf(name string) map[string]catalog.ReplicaStatus {
	e.t.Helper()
	obj, err := e.cat.DataObject(e.ctx, e.path(name))
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]catalog.ReplicaStatus{}
	for _, r := range obj.Replicas {
		out[r.Resource] = r.Status
	}
	return out
}

func (e *faultEnv) modresc(name, field, value string) {
	e.t.Helper()
	if _, err := e.zone.ModifyResource(e.ctx, As(e.rods), name, field, value); err != nil {
		e.t.Fatal(err)
	}
}

// random picks one child among those up; passthru routes to its one child
// and its weights can close a direction.
func TestRandomAndPassthru(t *testing.T) {
	e := newFaultEnv(t)
	for _, n := range []string{"r1", "r2", "r3"} {
		e.mkresc(n, "posix")
	}
	e.mkresc("rnd", "random")
	e.child("rnd", "r1")
	e.child("rnd", "r2")
	e.child("rnd", "r3")
	e.mkresc("pt", "passthru")
	e.child("pt", "rnd")

	e.modresc("r2", "status", "down")
	used := map[string]int{}
	for i := range 30 {
		name := fmt.Sprintf("o%d", i)
		if err := e.put(name, "pt", []byte(name), false); err != nil {
			t.Fatal(err)
		}
		reps := e.replicasOf(name)
		if len(reps) != 1 {
			t.Fatalf("%s: %v, want one replica", name, reps)
		}
		for r := range reps {
			used[r]++
		}
	}
	if used["r2"] != 0 || used["r1"] == 0 || used["r3"] == 0 {
		t.Errorf("random spread %v: want r1 and r3, never r2 (down)", used)
	}

	// Every child down: the error names them and their state.
	e.modresc("r1", "status", "down")
	e.modresc("r3", "status", "down")
	err := e.put("none", "pt", []byte("x"), false)
	if !errors.Is(err, resources.ErrUnavailable) || !strings.Contains(err.Error(), "pt;rnd;r1 (down)") {
		t.Errorf("put with every child down: %v", err)
	}
	e.modresc("r1", "status", "up")
	e.modresc("r3", "status", "up")

	// write=0 closes the passthru for writes, not for reads.
	e.modresc("pt", "context", "write=0;read=1")
	if err := e.put("closed", "pt", []byte("x"), false); err == nil || !strings.Contains(err.Error(), "write=0") {
		t.Errorf("put through a passthru with write=0: %v", err)
	}
	if _, _, rc, err := e.zone.Open(e.ctx, As(e.rods), e.path("o1"), 0); err != nil {
		t.Errorf("read below a passthru with write=0: %v", err)
	} else {
		rc.Close()
	}
	// A passthru takes one child.
	if _, err := e.zone.AddChild(e.ctx, As(e.rods), "pt", "r1", ""); err == nil {
		t.Errorf("a second child of a passthru was added")
	}
}

// A compound keeps a cache and an archive: puts land on both, high_water
// trims the cache of what the archive holds, and a read of an object
// missing from the cache stages it back.
func TestCompoundWatermarks(t *testing.T) {
	e := newFaultEnv(t)
	e.mkresc("cache", "posix")
	if _, err := e.zone.MakeResource(e.ctx, As(e.rods), catalog.Resource{Name: "arch", Type: "tape",
		Location: filepath.Join(e.dir, "tape"), Context: "drives=1;cartridge_size=16MiB;keep_online=no"}); err != nil {
		t.Fatal(err)
	}
	e.mkresc("comp", "compound")
	if _, err := e.zone.AddChild(e.ctx, As(e.rods), "comp", "cache", "cache"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.AddChild(e.ctx, As(e.rods), "comp", "arch", "archive"); err != nil {
		t.Fatal(err)
	}
	// Roles survive a context change.
	e.modresc("comp", "context", "high_water=300000;low_water=200000")
	const size = 100000
	for i := range 5 {
		if err := e.put(fmt.Sprintf("f%d", i), "comp", resourcetest.Data(uint64(i), size), false); err != nil {
			t.Fatal(err)
		}
	}
	onCache := 0
	for i := range 5 {
		reps := e.replicasOf(fmt.Sprintf("f%d", i))
		if reps["arch"] != catalog.ReplicaGood {
			t.Errorf("f%d has no good archive replica: %v", i, reps)
		}
		if reps["cache"] == catalog.ReplicaGood {
			onCache++
		}
	}
	if onCache*size > 300000 || onCache == 0 {
		t.Errorf("%d objects of %d bytes stay on the cache; high water is 300000", onCache, size)
	}
	// f0 was trimmed from the cache first (the oldest); reading it stages it.
	if reps := e.replicasOf("f0"); reps["cache"] == catalog.ReplicaGood {
		t.Fatalf("f0 still on the cache: %v", reps)
	}
	_, rep, rc, err := e.zone.Open(e.ctx, As(e.rods), e.path("f0"), 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if rep.Resource != "cache" || string(got) != string(resourcetest.Data(0, size)) {
		t.Errorf("read of f0 came from %s (%d bytes), want the cache after staging", rep.Resource, len(got))
	}
	e.checkGoodIsGood()
}

// Reads prefer a good replica on the fastest medium that is up.
func TestReadPrefersFastMedium(t *testing.T) {
	e := newFaultEnv(t)
	if _, err := e.zone.MakeResource(e.ctx, As(e.rods), catalog.Resource{Name: "tp", Type: "tape",
		Location: filepath.Join(e.dir, "tape"), Context: "keep_online=no"}); err != nil {
		t.Fatal(err)
	}
	e.mkresc("disk", "posix")
	if err := e.put("x", "tp", []byte("bytes"), false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.Replicate(e.ctx, As(e.rods), ReplicateRequest{Path: e.path("x"), Dest: "disk"}, func(ch ReplicaChange) error { return ch.Err }); err != nil {
		t.Fatal(err)
	}
	_, rep, rc, err := e.zone.Open(e.ctx, As(e.rods), e.path("x"), 0)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if rep.Resource != "disk" {
		t.Errorf("read from %s, want disk before tape", rep.Resource)
	}
	e.modresc("disk", "status", "down")
	_, rep, rc, err = e.zone.Open(e.ctx, As(e.rods), e.path("x"), 0)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if rep.Resource != "tp" {
		t.Errorf("with disk down, read from %s, want tp", rep.Resource)
	}
}
