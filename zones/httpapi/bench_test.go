package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/arca-data/arca/icommands"
	"github.com/arca-data/arca/internal/testzone"
)

// benchBigSize is the size of the object BenchmarkGet1GiB reads: 1 GiB, or
// ARCA_BENCH_GET_MIB MiB.
func benchBigSize(b *testing.B) int64 {
	if s := os.Getenv("ARCA_BENCH_GET_MIB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("ARCA_BENCH_GET_MIB=%q", s)
		}
		return int64(n) << 20
	}
	return 1 << 30
}

// icommand runs one icommand in-process, as the arca binary would, with
// its configuration in cfg.
func icommand(b *testing.B, cfg string, name string, args ...string) {
	b.Helper()
	var errBuf bytes.Buffer
	s := &icommands.Streams{In: bytes.NewReader(nil), Out: io.Discard, Err: &errBuf, Getenv: func(k string) string {
		switch k {
		case "ARCA_CONFIG_DIR":
			return cfg
		case "ARCA_PASSWORD":
			return testzone.AdminPassword
		}
		return os.Getenv(k)
	}}
	for _, c := range icommands.Commands(s) {
		if c.Name() == name {
			if code := icommands.Run(context.Background(), c, args, s); code != 0 {
				b.Fatalf("%s %v: exit %d: %s", name, args, code, errBuf.String())
			}
			return
		}
	}
	b.Fatalf("no icommand %s", name)
}

// BenchmarkGet1GiB compares an HTTP GET of one 1 GiB data object (to a
// file, through the API, HTTPS) with iget of the same object (gRPC and
// the data channel), in the same run; %iget is the GET's rate as a
// percentage of iget's (the issue asks at least 80):
//
//	go test ./zones/httpapi -run '^$' -bench Get1GiB -benchtime 3x
func BenchmarkGet1GiB(b *testing.B) {
	size := benchBigSize(b)
	e := startEnv(b)
	dir := b.TempDir()
	src := filepath.Join(dir, "big.bin")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	f.Close()
	cfg := filepath.Join(dir, "arca-config")
	icommand(b, cfg, "iinit", "--host", e.z.Host, "--port", e.z.Port, "--ca", e.z.CAFile)
	icommand(b, cfg, "iput", "-f", src, "big.bin")

	var igetNs float64
	b.Run("iget", func(b *testing.B) {
		b.SetBytes(size)
		defer reportCPU(b, processCPU())
		for i := 0; i < b.N; i++ {
			icommand(b, cfg, "iget", "-f", "big.bin", filepath.Join(dir, "got-iget.bin"))
		}
		igetNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("http-get", func(b *testing.B) {
		b.SetBytes(size)
		defer reportCPU(b, processCPU())
		for i := 0; i < b.N; i++ {
			req, _ := http.NewRequest("GET", e.base+"/api/v1/objects/tempZone/home/rods/big.bin", nil)
			req.Header.Set("Authorization", "Bearer "+e.token)
			resp, err := e.client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("GET: %v %v", resp, err)
			}
			out, err := os.Create(filepath.Join(dir, "got-http.bin"))
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(out, resp.Body)
			resp.Body.Close()
			out.Close()
			if err != nil || n != size {
				b.Fatalf("GET: %d bytes, %v", n, err)
			}
		}
		if igetNs > 0 {
			b.ReportMetric(100*igetNs/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "%iget")
		}
	})
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}
