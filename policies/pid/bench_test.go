package pid_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/policies/pid"
)

// BenchmarkResolver is the resolver's rate: GET /api/handles/PREFIX/SUFFIX
// over HTTPS (keep-alive, 32 clients at once) for 1,000 handles of the
// zone's own registry on SQLite. The figures are lookups/s and the CPU
// time of one lookup, client and server together (they share this
// process):
//
//	go test -run '^$' -bench Resolver -benchtime 20000x ./policies/pid/
func BenchmarkResolver(b *testing.B) {
	ctx := context.Background()
	cat, err := sqlite.Open(ctx, b.TempDir()+"/catalog.db")
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	reg, err := pid.NewRegistry(cat, prefix, rods)
	if err != nil {
		b.Fatal(err)
	}
	k, err := pid.NewKeeper(ctx, cat, reg, "https://pid.example.org", nil)
	if err != nil {
		b.Fatal(err)
	}
	const handles = 1000
	now := time.Now()
	for i := range handles {
		h := pid.Handle{Prefix: prefix, Suffix: fmt.Sprintf("bench-%04d", i)}
		vs := []pid.Value{pid.StringValue(1, pid.TypeURL, "https://pid.example.org/landing/x", now),
			pid.StringValue(2, pid.TypeChecksum, "sha2:abc", now), pid.StringValue(9, pid.TypeProfile, "1", now), pid.AdminValue(prefix, now)}
		if err := reg.Create(ctx, h, vs); err != nil {
			b.Fatal(err)
		}
	}
	srv := httptest.NewTLSServer(pid.NewHandler(k, nil, nil))
	defer srv.Close()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	client := &http.Client{Transport: tr}
	var next, failed atomic.Int64
	b.SetParallelism(16) // 16 × GOMAXPROCS clients
	cpu := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) % handles
			resp, err := client.Get(fmt.Sprintf("%s/api/handles/%s/bench-%04d", srv.URL, prefix, i))
			if err != nil {
				failed.Add(1)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d lookups failed", n)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/lookup")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
