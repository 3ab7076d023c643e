package examples

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/resources/s3/s3test"
	"github.com/arca-data/arca/zones"
)

// TestLifecycleTiering is the tiering scenario, POSIX → S3 (MinIO) → tape,
// with the shipped rule set run every second instead of hourly and times
// at rest of two seconds: objects nobody reads move down the tiers
// (verified by checksum on the way to S3), one that is read stays on the
// fast tier, and a read of an object on tape brings it back to the fast
// tier.
func TestLifecycleTiering(t *testing.T) {
	s3cfg := s3test.Config(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	files := map[string][]byte{}
	dir := filepath.Join("..", "policies", "lifecycle", "rules")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = []byte(strings.ReplaceAll(string(b), `"@hourly"`, `"@every 1s"`))
	}
	z := newZoneWith(t, files, policies.Options{})
	rods := zones.As(z.rods)
	auth := filepath.Join(z.dir, "s3.auth")
	if err := os.WriteFile(auth, []byte(s3cfg.AccessKey+"\n"+s3cfg.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := z.MakeResource(ctx, rods, catalog.Resource{Name: "objects", Type: "s3", Location: s3cfg.Bucket + "/" + s3cfg.Prefix,
		Context: "endpoint=" + s3cfg.Endpoint + ";auth_file=" + auth}); err != nil {
		t.Fatal(err)
	}
	if _, err := z.MakeResource(ctx, rods, catalog.Resource{Name: "lib", Type: "tape", Location: filepath.Join(z.dir, "tape"),
		Context: "drives=1;mount_latency=5ms;rewind_latency=2ms;seek_rate=1GiB"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][3]string{
		{zones.DefaultResource, "tier", "archive 0"}, {zones.DefaultResource, "tier_time", "2s"},
		{"objects", "tier", "archive 1"}, {"objects", "tier_time", "2"}, {"objects", "tier_verify", "checksum"},
		{"lib", "tier", "archive 2"},
	} {
		if _, err := z.ModifyResource(ctx, rods, c[0], c[1], c[2]); err != nil {
			t.Fatalf("modresc %v: %v", c, err)
		}
	}
	// A gap is refused.
	if _, err := z.ModifyResource(ctx, rods, "archiveResc", "tier", "archive 4"); err == nil || !strings.Contains(err.Error(), "gap") {
		t.Errorf("a tier group with a gap: %v", err)
	}

	alice := zones.As(z.alice)
	home := "/tempZone/home/alice/"
	const n = 20
	for i := range n {
		if err := z.put(t, z.alice, fmt.Sprintf("%scold%02d.dat", home, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.put(t, z.alice, home+"hot.dat"); err != nil {
		t.Fatal(err)
	}
	read := func(name string) (string, string) {
		t.Helper()
		_, rep, rc, err := z.Open(ctx, alice, catalog.MustPath(home+name), 0)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), rep.Resource
	}
	jobs, stopJobs := context.WithCancel(ctx)
	go z.RunAccessTimes(jobs, 200*time.Millisecond)
	go z.RunJobs(jobs, zones.JobOptions{Poll: 100 * time.Millisecond})
	where := func(name string) string {
		obj, err := z.cat.DataObject(ctx, catalog.MustPath(home+name))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range obj.Replicas {
			out = append(out, r.Resource+":"+r.Status.String())
		}
		return strings.Join(out, ",")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		read("hot.dat")
		onTape := 0
		for i := range n {
			if where(fmt.Sprintf("cold%02d.dat", i)) == "lib:good" {
				onTape++
			}
		}
		if onTape == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s %d of %d objects are on tape (cold00: %s)\naudit:\n%s", onTape, n, where("cold00.dat"), z.audit.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	stopJobs()
	if w := where("hot.dat"); w != zones.DefaultResource+":good" {
		t.Errorf("hot.dat, read all along, is on %s", w)
	}
	if !strings.Contains(z.audit.String(), `"tier.pass"`) || !strings.Contains(z.audit.String(), "moved to the next tier") {
		t.Errorf("no tiering pass audited:\n%s", z.audit.String())
	}
	// Read from tape, the bytes are right, and the object comes back to
	// the fast tier.
	if got, from := read("cold07.dat"); got != "contents of "+home+"cold07.dat" || from != "lib" {
		t.Fatalf("read %q from %s", got, from)
	}
	deadline = time.Now().Add(30 * time.Second)
	for where("cold07.dat") != zones.DefaultResource+":good" {
		if time.Now().After(deadline) {
			t.Fatalf("not restaged: %s", where("cold07.dat"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, from := read("cold07.dat"); got != "contents of "+home+"cold07.dat" || from != zones.DefaultResource {
		t.Errorf("after the restage: read %q from %s", got, from)
	}
}
