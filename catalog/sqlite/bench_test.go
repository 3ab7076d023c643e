package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

var benchOwner = catalog.UserID{Name: "bench", Zone: "tempZone"}

func benchCatalog(b *testing.B, dir string) *Catalog {
	b.Helper()
	c, err := Open(context.Background(), filepath.Join(dir, "catalog.db"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Resource(ctx, "demoResc"); err == nil {
		return c
	}
	for _, p := range []string{"/tempZone", "/tempZone/bench"} {
		if _, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath(p), Owner: benchOwner}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.CreateResource(ctx, catalog.Resource{Name: "demoResc", Type: "posix"}); err != nil {
		b.Fatal(err)
	}
	return c
}

// put registers and commits a new data object: the two write transactions
// of an iput.
func put(ctx context.Context, c *Catalog, p catalog.Path, n int64) error {
	_, r, err := c.BeginReplica(ctx, catalog.NewReplica{Path: p, Owner: benchOwner, Resource: "demoResc",
		PhysicalPath: p.String(), Holder: "bench", LeaseExpiry: time.Now().Add(time.Hour)})
	if err != nil {
		return err
	}
	_, err = c.CommitReplica(ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "bench",
		Size: n, Checksum: "sha2:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="})
	return err
}

// BenchmarkBeginCommitParallel registers new objects in one collection from
// 1, 16 and 64 goroutines, each object a BeginReplica and a CommitReplica
// (two durable transactions: each answered after the WAL fsync).
func BenchmarkBeginCommitParallel(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			c := benchCatalog(b, b.TempDir())
			defer c.Close()
			ctx := context.Background()
			var seq atomic.Int64
			var commits atomic.Int64
			c.onCommit = func(int) { commits.Add(1) }
			one := func() error {
				n := seq.Add(1)
				return put(ctx, c, catalog.MustPath(fmt.Sprintf("/tempZone/bench/obj%09d", n)), n)
			}
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((writers + procs - 1) / procs)
			b.ResetTimer()
			start := time.Now()
			if writers == 1 {
				for range b.N {
					if err := one(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := one(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "objects/s")
			b.ReportMetric(float64(2*b.N)/elapsed.Seconds(), "tx/s")
			if n := commits.Load(); n > 0 {
				b.ReportMetric(float64(2*b.N)/float64(n), "tx/commit")
			}
		})
	}
}

// BenchmarkListObjects100k lists a collection of 100,000 data objects: the
// first page of 1000, and every page in turn.
func BenchmarkListObjects100k(b *testing.B) {
	const total, page = 100_000, 1000
	c := listFixture(b, total)
	ctx := context.Background()
	coll := catalog.MustPath("/tempZone/bench")
	b.Run("first-page", func(b *testing.B) {
		for b.Loop() {
			objs, err := c.ListObjects(ctx, coll, "", page)
			if err != nil {
				b.Fatal(err)
			}
			if len(objs) != page || len(objs[0].Replicas) != 1 {
				b.Fatalf("got %d objects", len(objs))
			}
		}
	})
	b.Run("all-pages", func(b *testing.B) {
		for b.Loop() {
			n, after := 0, ""
			for {
				objs, err := c.ListObjects(ctx, coll, after, page)
				if err != nil {
					b.Fatal(err)
				}
				n += len(objs)
				if len(objs) < page {
					break
				}
				after = objs[len(objs)-1].Path.Name()
			}
			if n != total {
				b.Fatalf("listed %d objects, want %d", n, total)
			}
		}
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
}

var (
	listOnce sync.Once
	listDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if listDir != "" {
		os.RemoveAll(listDir)
	}
	os.Exit(code)
}

// listFixture makes, once per process, a catalog whose /tempZone/bench
// holds total objects with one good replica each.
func listFixture(b *testing.B, total int) *Catalog {
	listOnce.Do(func() {
		dir, err := os.MkdirTemp("", "arca-bench-list-")
		if err != nil {
			b.Fatal(err)
		}
		c := benchCatalog(b, dir)
		ctx := context.Background()
		var wg sync.WaitGroup
		var next atomic.Int64
		errs := make(chan error, 64)
		for range 64 {
			wg.Go(func() {
				for {
					n := next.Add(1)
					if n > int64(total) {
						return
					}
					if err := put(ctx, c, catalog.MustPath(fmt.Sprintf("/tempZone/bench/obj%09d", n)), n); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		c.Close()
		listDir = dir
	})
	c := benchCatalog(b, listDir)
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkAddAVUsBulk attaches 3 AVUs to each of 1000 data objects per
// AddMetadataBulk call (3000 AVUs, one transaction), the bulk path of an
// ingest tool; "parallel" instead makes one AddMetadata call of 3 AVUs per
// object from 64 goroutines, which group commit batches.
func BenchmarkAddAVUsBulk(b *testing.B) {
	const objects, perCall = 10_000, 1000
	c := benchCatalog(b, b.TempDir())
	defer c.Close()
	ctx := context.Background()
	paths := make([]catalog.Path, objects)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 64 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= objects {
					return
				}
				paths[i] = catalog.MustPath(fmt.Sprintf("/tempZone/bench/obj%09d", i))
				if err := put(ctx, c, paths[i], i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	// Every AVU added is new: iteration n uses attribute values of its own.
	avusFor := func(n int64, i int) []catalog.AVU {
		v := fmt.Sprintf("%d-%d", n, i)
		return []catalog.AVU{
			{Attribute: "project", Value: "p" + v},
			{Attribute: "sample", Value: "s" + v, Unit: "id"},
			{Attribute: "size", Value: v, Unit: "GB"},
		}
	}
	// The counters outlive the rounds of b.N, which must not repeat AVUs.
	var n int64
	var seq atomic.Int64
	b.Run("bulk", func(b *testing.B) {
		for b.Loop() {
			n++
			start := int(n*perCall) % objects
			batch := make([]catalog.AVUBatch, perCall)
			for i := range batch {
				batch[i] = catalog.AVUBatch{Target: catalog.ObjectTarget(paths[(start+i)%objects]), AVUs: avusFor(n, i)}
			}
			if err := c.AddMetadataBulk(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(3*perCall*b.N)/b.Elapsed().Seconds(), "AVUs/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				if err := c.AddMetadata(ctx, catalog.ObjectTarget(paths[n%objects]), avusFor(-n, 0)...); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(3*b.N)/time.Since(start).Seconds(), "AVUs/s")
	})
}
