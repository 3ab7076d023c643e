package sqlite

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// BenchmarkBeginCommitRetention registers new objects from 16 goroutines,
// as BenchmarkBeginCommitParallel does, into a collection without and with
// a default retention (every object then gets its lock, and an entry in
// the index of locked objects): what a default costs the catalog's single
// writer per put, in objects/s and process CPU per object.
func BenchmarkBeginCommitRetention(b *testing.B) {
	for _, withDefault := range []bool{false, true} {
		name := "none"
		if withDefault {
			name = "default"
		}
		b.Run(name, func(b *testing.B) {
			c := benchCatalog(b, b.TempDir())
			defer c.Close()
			ctx := context.Background()
			if withDefault {
				if err := c.SetDefaultRetention(ctx, catalog.MustPath("/tempZone/bench"),
					catalog.DefaultRetention{Mode: catalog.LockCompliance, Period: catalog.Period{Years: 10}}); err != nil {
					b.Fatal(err)
				}
			}
			var seq atomic.Int64
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((16 + procs - 1) / procs)
			cpu := func() time.Duration {
				var ru syscall.Rusage
				syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
				return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			}
			b.ResetTimer()
			start, cpu0 := time.Now(), cpu()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					if err := put(ctx, c, catalog.MustPath(fmt.Sprintf("/tempZone/bench/obj%09d", n)), n); err != nil {
						b.Error(err)
						return
					}
				}
			})
			elapsed, used := time.Since(start), cpu()-cpu0
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "objects/s")
			b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-µs/object")
			if withDefault {
				o, err := c.DataObject(ctx, catalog.MustPath("/tempZone/bench/obj000000001"))
				if err != nil || o.Lock.Mode != catalog.LockCompliance {
					b.Fatalf("an object under the default: %+v, %v", o.Lock, err)
				}
			}
		})
	}
}
