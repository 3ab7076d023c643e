package rules

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time this process has used: on a shared machine the
// wall clock of a benchmark measures the neighbours too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per iteration since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// benchRules makes onPut pre rules on put that read facts the request
// carries (name, size, user), none of which fires, and others rules on
// other operations, which the index skips for free.
func benchRules(onPut, others int) string {
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := 0; i < onPut; i++ {
		fmt.Fprintf(&b, "  - name: put%d\n    on: [put]\n    condition: object.name.endsWith('.tmp%d') || (object.path.under('/tempZone/projects') && op.size > byteSize('%dGiB')) || user.name == 'nobody%d'\n    deny: \"'no'\"\n", i, i, i+1, i)
	}
	for i := 0; i < others; i++ {
		fmt.Fprintf(&b, "  - name: other%d\n    on: [get, 'metadata.*']\n    condition: object.metadata.?x.orValue('') == '%d'\n    deny: \"'no'\"\n", i, i)
	}
	return b.String()
}

// BenchmarkBefore is the cost of the pre rules of one put: with 100 rules
// loaded of which a few are on put it must stay under 50 µs.
func BenchmarkBefore(b *testing.B) {
	for _, n := range []struct{ onPut, others int }{{0, 0}, {0, 100}, {3, 97}, {10, 10}, {20, 0}, {50, 50}} {
		b.Run(fmt.Sprintf("rules=%d/on-put=%d", n.onPut+n.others, n.onPut), func(b *testing.B) {
			te := newTestEngine(b, map[string]string{"f.yaml": benchRules(n.onPut, n.others)})
			ctx := context.Background()
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := te.Before(ctx, put("/tempZone/home/alice/data.csv", 4096)); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkIssueExample is the issue's two rules on one put: pre and post.
func BenchmarkIssueExample(b *testing.B) {
	te := newTestEngine(b, map[string]string{"f.yaml": issueExample})
	ctx := context.Background()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		req := put("/tempZone/home/alice/data.csv", 4096)
		if _, err := te.Before(ctx, req); err != nil {
			b.Fatal(err)
		}
		te.After(ctx, req, nil)
	}
	reportCPU(b, start)
}
