package zones_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/arca-data/arca/internal/server"
)

// BenchmarkIputPIDRule is what minting a PID for every put costs ingest:
// iput -r of 1,000 files of 4 KiB into a zone that mints PIDs (its own
// registry), without a rule, with a post rule running pid.mint on every
// put (the B2SAFE policy without its replica), and with one that has a job
// do it in the background (schedule async).
//
//	go test -run '^$' -bench 'IputPIDRule' -benchtime 3x ./zones/
func BenchmarkIputPIDRule(b *testing.B) {
	files := benchFiles(b, 1000)
	dir := benchDir(b)
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(tree, 0o755)
	buf := make([]byte, 4<<10)
	for i := range files {
		rand.Read(buf)
		if err := os.WriteFile(filepath.Join(tree, fmt.Sprintf("f%05d.dat", i)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	zonesMade := 0
	for _, variant := range []string{"none", "pid.mint", "pid.mint-async"} {
		b.Run("rule="+variant, func(b *testing.B) {
			zonesMade++
			zdir := filepath.Join(dir, fmt.Sprintf("zone-%d", zonesMade))
			os.MkdirAll(filepath.Join(zdir, "rules"), 0o755)
			switch variant {
			case "pid.mint":
				os.WriteFile(filepath.Join(zdir, "rules", "pids.yaml"), []byte(`rules:
  - name: pid-every-put
    on: [put]
    when: post
    then:
      - pid.mint: {}
`), 0o644)
			case "pid.mint-async":
				os.WriteFile(filepath.Join(zdir, "rules", "pids.yaml"), []byte(`rules:
  - name: pid-every-put
    on: [put]
    when: post
    then:
      - schedule:
          async: true
          do:
            - pid.mint: {}
`), 0o644)
			}
			z := startPIDBenchZone(b, zdir)
			defer z.stop()
			b.ResetTimer()
			start := processCPU()
			for i := 0; i < b.N; i++ {
				z.run(b, nil, "iput", "-r", tree, "run"+strconv.Itoa(i))
			}
			b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
			b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(files*b.N), "cpu-µs/file")
		})
	}
}

// startPIDBenchZone is startBenchZone for a zone that mints PIDs under
// 21.T12995.
func startPIDBenchZone(b *testing.B, dir string) *benchZone {
	b.Helper()
	b.Setenv("ARCA_ADMIN_PASSWORD", "benchpw")
	if os.Getenv("GOMAXPROCS") == "" {
		prev := runtime.GOMAXPROCS(server.ServerProcs(runtime.GOMAXPROCS(0)))
		b.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, server.ServerConfig{DataDir: dir, Addr: "127.0.0.1:0", Out: io.Discard, Logger: discardLogger(),
			Ready: func(a net.Addr) { ready <- a }, PID: server.PIDConfig{Prefix: "21.T12995", URL: "https://pid.example.org"}})
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		b.Fatalf("server: %v", err)
	}
	z := &benchZone{dir: dir, cfg: filepath.Join(dir, "client"), stop: func() { cancel(); <-done }}
	_, port, _ := net.SplitHostPort(addr.String())
	z.run(b, nil, "iinit", "--host", "127.0.0.1", "--port", port, "--ca", filepath.Join(dir, "tls", "ca.pem"))
	return z
}
