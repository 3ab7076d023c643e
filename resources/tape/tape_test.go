package tape_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/resourcetest"
	"github.com/arca-data/arca/resources/tape"
)

func open(t *testing.T, cfg tape.Config) *tape.Resource {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	r, err := tape.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestSuite(t *testing.T) {
	resourcetest.Run(t, func(t *testing.T) resources.Resource {
		return open(t, tape.Config{Drives: 2, CartridgeSize: 8 << 20})
	})
}

// Every read is a recall from a cartridge.
func TestSuiteRecalls(t *testing.T) {
	resourcetest.Run(t, func(t *testing.T) resources.Resource {
		return open(t, tape.Config{Drives: 2, CartridgeSize: 8 << 20, DropOnWrite: true,
			MountLatency: time.Millisecond, SeekRate: 4 << 30})
	})
}

// A recall of 100 objects spread over 10 cartridges, asked for at once in
// random order, mounts each cartridge once.
func TestRecallMountsEachCartridgeOnce(t *testing.T) {
	const objects, perCart, size = 100, 10, 64 << 10
	r := open(t, tape.Config{Drives: 2, CartridgeSize: perCart * (size + 2048), DropOnWrite: true,
		MountLatency: 2 * time.Millisecond, RewindLatency: time.Millisecond, SeekRate: 1 << 30, StageSize: 64 << 20})
	var keys []string
	for i := range objects {
		key := fmt.Sprintf("obj/%03d", i)
		resourcetest.Put(t, r, key, resourcetest.Data(uint64(i), size))
		keys = append(keys, key)
	}
	if n := r.Cartridges(); n != objects/perCart {
		t.Fatalf("%d objects filled %d cartridges, want %d", objects, n, objects/perCart)
	}
	before := r.Stats()
	rand.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	start := time.Now()
	if err := r.Stage(t.Context(), keys...); err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		var i int
		fmt.Sscanf(key, "obj/%d", &i)
		if got := resourcetest.Get(t, r, key); !bytes.Equal(got, resourcetest.Data(uint64(i), size)) {
			t.Fatalf("%s read back wrong", key)
		}
	}
	after := r.Stats()
	mounts := after.Mounts - before.Mounts
	t.Logf("recall of %d objects on %d cartridges: %d mounts, %d seeks, %d recalls in %v",
		objects, objects/perCart, mounts, after.Seeks-before.Seeks, after.Recalls-before.Recalls, time.Since(start))
	if mounts > objects/perCart {
		t.Errorf("%d mounts, want at most %d", mounts, objects/perCart)
	}
	if n := after.Recalls - before.Recalls; n != objects {
		t.Errorf("%d recalls, want %d", n, objects)
	}
}

// Cartridges are tar streams that tar reads, and the library finds its
// files again after a restart.
func TestTarAndReopen(t *testing.T) {
	dir := t.TempDir()
	r := open(t, tape.Config{Dir: dir, CartridgeSize: 1 << 20})
	want := map[string][]byte{}
	for i := range 5 {
		key := fmt.Sprintf("d/%d.bin", i)
		want[key] = resourcetest.Data(uint64(i), 100<<10+i)
		resourcetest.Put(t, r, key, want[key])
	}
	if err := r.Remove(t.Context(), "d/0.bin"); err != nil {
		t.Fatal(err)
	}
	r.Close()
	seen := map[string][]byte{}
	carts, _ := filepath.Glob(filepath.Join(dir, "cartridges", "*.tar"))
	if len(carts) != 1 {
		t.Fatalf("cartridges: %q", carts)
	}
	f, err := os.Open(carts[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		seen[h.Name] = b
	}
	for k, v := range want {
		if !bytes.Equal(seen[k], v) {
			t.Errorf("tar entry %s differs", k)
		}
	}
	// Reopen without the online copies: reads are recalls.
	os.RemoveAll(filepath.Join(dir, "stage"))
	r2 := open(t, tape.Config{Dir: dir, CartridgeSize: 1 << 20})
	if keys := resourcetest.Keys(t, r2); len(keys) != 4 {
		t.Errorf("after reopen Walk = %q", keys)
	}
	if got := resourcetest.Get(t, r2, "d/3.bin"); !bytes.Equal(got, want["d/3.bin"]) {
		t.Errorf("recall after reopen differs")
	}
	if staged, _ := r2.Staged(t.Context(), "d/3.bin"); !staged {
		t.Errorf("d/3.bin not online after its recall")
	}
}

// The writer appends to a device path: here a regular file standing in for
// /dev/nst0.
func TestDevice(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "nst0")
	r := open(t, tape.Config{Device: dev, CartridgeSize: 1 << 20, DropOnWrite: true})
	resourcetest.Put(t, r, "a", []byte("alpha"))
	resourcetest.Put(t, r, "b", []byte("beta"))
	if got := resourcetest.Get(t, r, "b"); string(got) != "beta" {
		t.Errorf("read %q", got)
	}
	w, _ := r.Create(t.Context(), "big")
	w.Write(make([]byte, 2<<20))
	if _, err := w.Commit(); err == nil {
		t.Errorf("a file larger than the cartridge was committed")
	}
}

func TestParseContext(t *testing.T) {
	c, err := tape.ParseContext("/x", "drives=3;cartridge_size=1GiB;mount_latency=200ms;seek_rate=400MiB/s;rewind_latency=1s")
	if err != nil {
		t.Fatal(err)
	}
	if c.Drives != 3 || c.CartridgeSize != 1<<30 || c.MountLatency != 200*time.Millisecond || c.SeekRate != 400<<20 || c.RewindLatency != time.Second {
		t.Errorf("ParseContext = %+v", c)
	}
	for _, bad := range []string{"drives=0", "drives=x", "color=red", "cartridge_size=lots", "mount_latency=soon", "novalue"} {
		if _, err := tape.ParseContext("/x", bad); err == nil {
			t.Errorf("ParseContext(%q) succeeded", bad)
		}
	}
}

// The online copies stay within the stage size: the least recently used go.
func TestStageEviction(t *testing.T) {
	r := open(t, tape.Config{CartridgeSize: 1 << 20, StageSize: 100 << 10})
	for i := range 5 {
		resourcetest.Put(t, r, fmt.Sprintf("f%d", i), resourcetest.Data(uint64(i), 40<<10))
	}
	online := 0
	for i := range 5 {
		if ok, _ := r.Staged(t.Context(), fmt.Sprintf("f%d", i)); ok {
			online++
		}
	}
	if online != 2 {
		t.Errorf("%d files of 40 KiB online with a stage of 100 KiB, want 2", online)
	}
	if ok, _ := r.Staged(t.Context(), "f4"); !ok {
		t.Errorf("the newest file is not online")
	}
	// An evicted file is recalled, and becomes the newest online.
	if got := resourcetest.Get(t, r, "f0"); !bytes.Equal(got, resourcetest.Data(0, 40<<10)) {
		t.Errorf("recall of an evicted file differs")
	}
	if ok, _ := r.Staged(t.Context(), "f0"); !ok {
		t.Errorf("f0 not online after its recall")
	}
}

// TestCorruptCartridge checks that bytes that went bad on a cartridge are
// reported as corrupt (resources.ErrCorrupt), which fsck repairs from a
// good replica, and not as unreadable, which it leaves alone.
func TestCorruptCartridge(t *testing.T) {
	dir := t.TempDir()
	r := open(t, tape.Config{Dir: dir, CartridgeSize: 1 << 20})
	data := resourcetest.Data(7, 100<<10)
	resourcetest.Put(t, r, "d/x.bin", data)
	r.Close()
	carts, _ := filepath.Glob(filepath.Join(dir, "cartridges", "*.tar"))
	if len(carts) != 1 {
		t.Fatalf("cartridges: %q", carts)
	}
	f, err := os.OpenFile(carts[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Past the tar header of the one file: in its data.
	if _, err := f.WriteAt([]byte("XXXX"), 512+1000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.RemoveAll(filepath.Join(dir, "stage"))
	r2 := open(t, tape.Config{Dir: dir, CartridgeSize: 1 << 20})
	_, err = r2.Checksum(t.Context(), "d/x.bin")
	if !errors.Is(err, resources.ErrCorrupt) {
		t.Fatalf("Checksum of a corrupt file on tape: %v; want ErrCorrupt", err)
	}
}

// TestFailedRecallIsReported checks that after a recall failed, Staged says
// so (a client polling with --no-wait hears the failure, not "being
// recalled" for ever), and that a new write of the key forgets it.
func TestFailedRecallIsReported(t *testing.T) {
	dir := t.TempDir()
	r := open(t, tape.Config{Dir: dir, CartridgeSize: 1 << 20, DropOnWrite: true})
	resourcetest.Put(t, r, "d/x.bin", resourcetest.Data(1, 10<<10))
	if staged, err := r.Staged(t.Context(), "d/x.bin"); staged || err != nil {
		t.Fatalf("Staged after a write that drops: %v, %v; want false, nil", staged, err)
	}
	carts := filepath.Join(dir, "cartridges")
	if err := os.Rename(carts, carts+".gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Open(t.Context(), "d/x.bin", 0); err == nil {
		t.Fatal("read with the cartridges gone succeeded")
	}
	staged, err := r.Staged(t.Context(), "d/x.bin")
	if staged || err == nil || !strings.Contains(err.Error(), "the last recall failed") {
		t.Fatalf("Staged after a failed recall: %v, %v; want the failure", staged, err)
	}
	if err := os.Rename(carts+".gone", carts); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(t.Context(), "d/x.bin"); err != nil {
		t.Fatal(err)
	}
	resourcetest.Put(t, r, "d/x.bin", resourcetest.Data(2, 10<<10))
	if _, err := r.Staged(t.Context(), "d/x.bin"); err != nil {
		t.Errorf("Staged after a new write of the key: %v; want the old failure forgotten", err)
	}
}
