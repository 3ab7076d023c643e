package lifecycle

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/policies/qos"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/resources/s3"
	"github.com/arca-data/arca/resources/s3/s3test"
	"github.com/arca-data/arca/zones"
)

// benchZone is a zone on SQLite with a POSIX default resource, for the
// tiering benchmarks.
func benchZone(b *testing.B) (*zones.Zone, zones.Principal, string) {
	return testZone(b)
}

// testZone is a zone on SQLite with a POSIX default resource.
func testZone(b testing.TB) (*zones.Zone, zones.Principal, string) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	if base := os.Getenv("ARCA_BENCH_DIR"); base != "" {
		var err error
		if dir, err = os.MkdirTemp(base, "arca-bench-"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cat.Close() })
	z := zones.New(cat, zones.Options{Drivers: drivers.Default(), Logger: slog.New(slog.DiscardHandler),
		QoS: func(expr string) (zones.QoSExpr, error) { return qos.Parse(expr) }})
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		b.Fatal(err)
	}
	rods, err := cat.User(ctx, catalog.UserID{Name: zones.DefaultAdmin, Zone: zones.DefaultZone})
	if err != nil {
		b.Fatal(err)
	}
	return z, zones.As(rods), dir
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkTierSelection registers 1,000,000 objects (ARCA_TIER_OBJECTS
// sets another multiple of 100,000) on a tiered resource through the bulk
// registration, 1% of them last read 40 days ago and the rest today, and
// times the tiering pass's selection of those at rest (30 days) over the
// whole catalog, batch by batch as a pass takes it; median of three:
//
//	go test -run '^$' -bench TierSelection -benchtime 1x -timeout 60m ./policies/lifecycle/
func BenchmarkTierSelection(b *testing.B) {
	objects := 1_000_000
	if s := os.Getenv("ARCA_TIER_OBJECTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100_000 || n%100_000 != 0 {
			b.Fatalf("ARCA_TIER_OBJECTS=%q: want a multiple of 100000", s)
		}
		objects = n
	}
	ctx := context.Background()
	z, rods, _ := benchZone(b)
	if _, err := z.ModifyResource(ctx, rods, zones.DefaultResource, "tier", "g 0"); err != nil {
		b.Fatal(err)
	}
	if _, err := z.ModifyResource(ctx, rods, zones.DefaultResource, "tier_time", "30d"); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	old, recent := catalog.AccessTimeValue(now.AddDate(0, 0, -40)), catalog.AccessTimeValue(now)
	start := time.Now()
	const batch, collections = 10_000, 1000
	perColl := objects / collections
	for first := 0; first < objects; first += batch {
		objs := make([]catalog.RegisteredObject, 0, batch)
		for id := first; id < first+batch; id++ {
			at := recent
			if id%100 == 42 {
				at = old
			}
			objs = append(objs, catalog.RegisteredObject{
				Path:  catalog.MustPath(fmt.Sprintf("/tempZone/home/rods/t/c%03d/obj%07d", id/perColl, id)),
				Owner: rods.UserID(),
				Replicas: []catalog.RegisteredReplica{{Resource: zones.DefaultResource,
					PhysicalPath: fmt.Sprintf("t/c%03d/obj%07d", id/perColl, id), Size: 100}},
				Metadata: []catalog.AVU{{Attribute: catalog.AccessTimeAttr, Value: at}},
			})
		}
		if err := z.Register(ctx, rods, objs, true, false); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("registered %d objects in %v", objects, time.Since(start).Round(time.Second))
	b.ResetTimer()
	var runs []time.Duration
	for range 3 {
		t0 := time.Now()
		n := 0
		for after := int64(0); ; {
			ids, paths, err := atRest(ctx, z, rods, zones.DefaultResource, now.AddDate(0, 0, -30), after, DefaultTierBatch)
			if err != nil {
				b.Fatal(err)
			}
			n += len(paths)
			if len(ids) < DefaultTierBatch {
				break
			}
			after = ids[len(ids)-1]
		}
		runs = append(runs, time.Since(t0))
		if n != objects/100 {
			b.Fatalf("selected %d objects at rest, want %d", n, objects/100)
		}
	}
	b.ReportMetric(float64(median(runs).Milliseconds()), "select-ms")
	b.Logf("selection of %d at rest among %d: %v (runs %v)", objects/100, objects, median(runs), runs)
}

// BenchmarkTierPass moves ARCA_BENCH_FILES (default 1,000) small objects at
// rest from a POSIX tier to the next tier, an S3 resource on the test
// MinIO (.ci/services/30-minio.sh), and, in the same run, to a second
// POSIX tier, which tells the catalog's part from S3's; each pass is
// timed alone (the puts and the wait are not), three times each, and the
// median reported in objects/s:
//
//	go test -run '^$' -bench TierPass -benchtime 3x ./policies/lifecycle/
func BenchmarkTierPass(b *testing.B) {
	files := 1000
	if s := os.Getenv("ARCA_BENCH_FILES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("ARCA_BENCH_FILES=%q", s)
		}
		files = n
	}
	cfg := s3test.Config(b)
	ctx := context.Background()
	// The floor: the same number of 1 KiB objects written straight to the
	// MinIO bucket by the S3 driver, as many at a time as a pass moves.
	b.Run("s3-driver-alone", func(b *testing.B) {
		c := cfg
		c.Prefix += "-raw-" + s3test.Unique()
		d, err := s3.Open(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		data := bytes.Repeat([]byte("x"), 1024)
		var runs []time.Duration
		for i := range b.N {
			t0 := time.Now()
			var (
				wg   sync.WaitGroup
				work = make(chan int)
				errs = make(chan error, files)
			)
			for range DefaultTierWorkers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for f := range work {
						w, err := d.Create(ctx, fmt.Sprintf("run%d/f%05d", i, f))
						if err == nil {
							if _, err = w.Write(data); err == nil {
								_, err = w.Commit()
							}
						}
						if err != nil {
							errs <- err
						}
					}
				}()
			}
			for f := range files {
				work <- f
			}
			close(work)
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
			runs = append(runs, time.Since(t0))
		}
		m := median(runs)
		b.ReportMetric(float64(files)/m.Seconds(), "objects/s")
		b.Logf("%d objects written to S3 by the driver alone: median %v, %.0f objects/s (runs %v)", files, m, float64(files)/m.Seconds(), runs)
	})
	for _, dest := range []string{"s3", "posix"} {
		b.Run("to-"+dest, func(b *testing.B) {
			z, rods, dir := benchZone(b)
			next := catalog.Resource{Name: "next", Type: "posix", Location: filepath.Join(dir, "next")}
			if dest == "s3" {
				auth := filepath.Join(dir, "s3.auth")
				if err := os.WriteFile(auth, []byte(cfg.AccessKey+"\n"+cfg.SecretKey+"\n"), 0o600); err != nil {
					b.Fatal(err)
				}
				next = catalog.Resource{Name: "next", Type: "s3", Location: cfg.Bucket + "/" + cfg.Prefix + "-" + s3test.Unique(),
					Context: "endpoint=" + cfg.Endpoint + ";auth_file=" + auth}
			}
			if _, err := z.MakeResource(ctx, rods, next); err != nil {
				b.Fatal(err)
			}
			for _, c := range [][3]string{{zones.DefaultResource, "tier", "g 0"}, {zones.DefaultResource, "tier_time", "1"}, {"next", "tier", "g 1"}} {
				if _, err := z.ModifyResource(ctx, rods, c[0], c[1], c[2]); err != nil {
					b.Fatal(err)
				}
			}
			var runs []time.Duration
			for i := range b.N {
				b.StopTimer()
				coll := fmt.Sprintf("/tempZone/home/rods/run%d", i)
				if _, err := z.MakeCollection(ctx, rods, catalog.MustPath(coll), false); err != nil {
					b.Fatal(err)
				}
				data := bytes.Repeat([]byte("x"), 1024)
				for f := range files {
					_, err := z.Put(ctx, rods, zones.PutRequest{Path: catalog.MustPath(fmt.Sprintf("%s/f%05d", coll, f)), Size: int64(len(data))}, bytes.NewReader(data))
					if err != nil {
						b.Fatal(err)
					}
				}
				if err := z.FlushAccessTimes(ctx); err != nil {
					b.Fatal(err)
				}
				time.Sleep(2100 * time.Millisecond)
				b.StartTimer()
				t0 := time.Now()
				res, err := TierPass(ctx, z, rods, "g", 0, 0, time.Now())
				if err != nil || res.Moved != files || res.Failed != 0 {
					b.Fatalf("pass: %+v, %v", res, err)
				}
				runs = append(runs, time.Since(t0))
			}
			m := median(runs)
			b.ReportMetric(float64(files)/m.Seconds(), "objects/s")
			b.Logf("%d objects POSIX → %s: median %v, %.0f objects/s (runs %v)", files, dest, m, float64(files)/m.Seconds(), runs)
		})
	}
}
