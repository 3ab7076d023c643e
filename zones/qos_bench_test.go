package zones

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/resources/drivers"
)

// qosBenchZone is a zone on SQLite with the QoS parser and two POSIX
// resources with disk attributes, d1 and d2.
func qosBenchZone(b *testing.B) (*Zone, Principal) {
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
	z := New(cat, Options{Drivers: drivers.Default(), QoS: qosParser, Logger: slog.New(slog.DiscardHandler)})
	if err := z.Bootstrap(ctx, BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		b.Fatal(err)
	}
	u, err := cat.User(ctx, catalog.UserID{Name: DefaultAdmin, Zone: DefaultZone})
	if err != nil {
		b.Fatal(err)
	}
	rods := As(u)
	for _, r := range []string{"d1", "d2"} {
		if _, err := z.MakeResource(ctx, rods, catalog.Resource{Name: r, Type: "posix", Location: filepath.Join(dir, r)}); err != nil {
			b.Fatal(err)
		}
		if _, err := z.ModifyResource(ctx, rods, r, "qos", "type=disk,geo=DE"); err != nil {
			b.Fatal(err)
		}
	}
	return z, rods
}

func benchMedian(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkQoSStatus1M registers 1,000,000 objects (ARCA_QOS_OBJECTS sets
// another multiple of 100,000) in 1,000 collections below one with a
// requirement (type=disk x1, fulfilled by every object's replica on d1)
// and times the evaluation of its status over all of them (iqos ls),
// median of three:
//
//	go test -run '^$' -bench QoSStatus1M -benchtime 1x -timeout 60m ./zones/
func BenchmarkQoSStatus1M(b *testing.B) {
	objects := 1_000_000
	if s := os.Getenv("ARCA_QOS_OBJECTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100_000 || n%100_000 != 0 {
			b.Fatalf("ARCA_QOS_OBJECTS=%q: want a multiple of 100000", s)
		}
		objects = n
	}
	ctx := context.Background()
	z, rods := qosBenchZone(b)
	top := catalog.MustPath("/tempZone/home/rods/q")
	start := time.Now()
	const batch, collections = 10_000, 1000
	per := objects / collections
	for first := 0; first < objects; first += batch {
		objs := make([]catalog.RegisteredObject, 0, batch)
		for id := first; id < first+batch; id++ {
			objs = append(objs, catalog.RegisteredObject{
				Path:  catalog.MustPath(fmt.Sprintf("%s/c%03d/o%07d", top, id/per, id)),
				Owner: rods.UserID(),
				Replicas: []catalog.RegisteredReplica{{Resource: "d1",
					PhysicalPath: fmt.Sprintf("q/c%03d/o%07d", id/per, id), Size: 100}},
			})
		}
		if err := z.Register(ctx, rods, objs, true, false); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("registered %d objects in %v", objects, time.Since(start).Round(time.Second))
	if _, err := z.cat.AddQoSRequirement(ctx, catalog.QoSRequirement{Path: top, Expr: "type=disk", Replicas: 1, Creator: rods.UserID()}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var runs []time.Duration
	for range 3 {
		t0 := time.Now()
		sts, err := z.ListQoS(ctx, rods, top, false)
		if err != nil || len(sts) != 1 || sts[0].Objects != objects || sts[0].Status != QoSFulfilled {
			b.Fatalf("status: %+v, %v", sts, err)
		}
		runs = append(runs, time.Since(t0))
	}
	b.ReportMetric(float64(benchMedian(runs).Milliseconds()), "status-ms")
	b.Logf("status of a requirement over %d objects: median %v (runs %v)", objects, benchMedian(runs), runs)
}

// BenchmarkQoSConverge puts ARCA_BENCH_FILES (default 10,000) objects of
// 1 KiB on d1, adds a requirement of two replicas on type=disk to their
// collection and times the convergence that makes the 10,000 copies on d2
// (iqos converge), median of three, in objects/s:
//
//	go test -run '^$' -bench QoSConverge -benchtime 3x ./zones/
func BenchmarkQoSConverge(b *testing.B) {
	files := 10_000
	if s := os.Getenv("ARCA_BENCH_FILES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("ARCA_BENCH_FILES=%q", s)
		}
		files = n
	}
	ctx := context.Background()
	z, rods := qosBenchZone(b)
	data := bytes.Repeat([]byte("q"), 1024)
	var runs []time.Duration
	for i := range b.N {
		b.StopTimer()
		coll := catalog.MustPath(fmt.Sprintf("/tempZone/home/rods/run%d", i))
		if _, err := z.MakeCollection(ctx, rods, coll, false); err != nil {
			b.Fatal(err)
		}
		for f := range files {
			p := catalog.MustPath(fmt.Sprintf("%s/f%05d", coll, f))
			if _, err := z.Put(ctx, rods, PutRequest{Path: p, Size: int64(len(data)), Resource: "d1"}, bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := z.cat.AddQoSRequirement(ctx, catalog.QoSRequirement{Path: coll, Expr: "type=disk", Replicas: 2, Creator: rods.UserID()}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		changes, err := z.ConvergeQoS(ctx, coll)
		if err != nil {
			b.Fatal(err)
		}
		runs = append(runs, time.Since(t0))
		made := 0
		for _, c := range changes {
			if c.Err != nil {
				b.Fatalf("convergence: %+v", c)
			}
			made++
		}
		if made < files {
			b.Fatalf("%d replicas made for %d objects", made, files)
		}
	}
	m := benchMedian(runs)
	b.ReportMetric(float64(files)/m.Seconds(), "objects/s")
	b.Logf("converged %d objects to two replicas: median %v, %.0f objects/s (runs %v)", files, m, float64(files)/m.Seconds(), runs)
}
