package zones_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arca-data/arca/icommands"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
)

// benchDir is where a benchmark keeps its zone and files: a fresh temporary
// directory, below $ARCA_BENCH_DIR when set (to compare file systems).
func benchDir(b *testing.B) string {
	base := os.Getenv("ARCA_BENCH_DIR")
	if base == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(base, "arca-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// benchZone is a real zone server (TLS, SQLite, POSIX vault) in this process
// and a client configuration logged in as rods.
type benchZone struct {
	dir, cfg string
	stop     func()
}

func startBenchZone(b *testing.B, dir string) *benchZone {
	b.Helper()
	return startBenchZoneOn(b, dir, benchCatalog(b))
}

// startBenchZoneOn is startBenchZone with the catalog URL given.
func startBenchZoneOn(b *testing.B, dir, catalogURL string) *benchZone {
	b.Helper()
	b.Setenv("ARCA_ADMIN_PASSWORD", "benchpw")
	// The server runs in this process: give it the Ps arca server takes.
	if os.Getenv("GOMAXPROCS") == "" {
		prev := runtime.GOMAXPROCS(server.ServerProcs(runtime.GOMAXPROCS(0)))
		b.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		// ARCA_BENCH_PROVENANCE=off leaves provenance unrecorded, to
		// measure what recording it costs.
		done <- server.Run(ctx, server.ServerConfig{DataDir: dir, Catalog: catalogURL, Addr: "127.0.0.1:0", Out: io.Discard,
			Logger: discardLogger(), Ready: func(a net.Addr) { ready <- a }, NoProvenance: os.Getenv("ARCA_BENCH_PROVENANCE") == "off"})
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

// benchCatalog is the catalog URL of a benchmark zone: the default
// (SQLite in the zone's directory), or with ARCA_BENCH_CATALOG=dgraph a
// catalog of its own on the Dgraph at $ARCA_TEST_DGRAPH, to compare the
// backends in one run.
func benchCatalog(b *testing.B) string {
	switch os.Getenv("ARCA_BENCH_CATALOG") {
	case "", "sqlite":
		return ""
	case "dgraph":
		addr := os.Getenv("ARCA_TEST_DGRAPH")
		if addr == "" {
			b.Fatal("ARCA_BENCH_CATALOG=dgraph needs ARCA_TEST_DGRAPH (source .ci/services/20-dgraph.sh)")
		}
		return fmt.Sprintf("dgraph://%s?prefix=bench%d", addr, time.Now().UnixNano())
	default:
		b.Fatalf("ARCA_BENCH_CATALOG=%s: want sqlite or dgraph", os.Getenv("ARCA_BENCH_CATALOG"))
	}
	return ""
}

// benchFiles is n, or $ARCA_BENCH_FILES when set (a slower catalog may
// want a smaller tree).
func benchFiles(b *testing.B, n int) int {
	if s := os.Getenv("ARCA_BENCH_FILES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("ARCA_BENCH_FILES=%q", s)
		}
		return v
	}
	return n
}

// run executes one icommand in-process, as the arca binary would.
func (z *benchZone) run(b *testing.B, out io.Writer, name string, args ...string) {
	b.Helper()
	if out == nil {
		out = io.Discard
	}
	var errBuf bytes.Buffer
	s := &icommands.Streams{In: bytes.NewReader(nil), Out: out, Err: &errBuf, Getenv: func(k string) string {
		switch k {
		case "ARCA_CONFIG_DIR":
			return z.cfg
		case "ARCA_PASSWORD":
			return "benchpw"
		}
		return os.Getenv(k)
	}}
	// ARCA_BENCH_ADMIN_MODE=1: rods acts in admin mode (-M), as before
	// admin mode existed, when a rodsadmin's operations skipped the ACLs.
	if os.Getenv("ARCA_BENCH_ADMIN_MODE") == "1" && (name == "iput" || name == "iget" || name == "irm") {
		args = append([]string{"-M"}, args...)
	}
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

// makeTree writes dir/tree with files of size random bytes each.
func makeTree(b *testing.B, dir string, files, size int) string {
	b.Helper()
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, size)
	for i := range files {
		rand.Read(buf)
		if err := os.WriteFile(filepath.Join(tree, fmt.Sprintf("f%05d.dat", i)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return tree
}

// BenchmarkIgetTree10k downloads with iget -r a collection of 10,000 data
// objects of 4 KiB: the way back of IputTree10k.
func BenchmarkIgetTree10k(b *testing.B) {
	files, size := benchFiles(b, 10_000), 4<<10
	dir := benchDir(b)
	tree := makeTree(b, dir, files, size)
	z := startBenchZone(b, filepath.Join(dir, "zone"))
	defer z.stop()
	z.run(b, nil, "iput", "-r", tree, "tree")
	b.ResetTimer()
	defer reportCPU(b, processCPU(), processCPU)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dst := filepath.Join(dir, "back")
		os.RemoveAll(dst)
		syscall.Sync()
		b.StartTimer()
		z.run(b, nil, "iget", "-r", "tree", dst)
	}
	b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkIputTreeMiB uploads and downloads a tree of 1,000 files of
// 1 MiB, the size between one message and the data channel, beside cp -r
// of the same tree.
func BenchmarkIputTreeMiB(b *testing.B) {
	files, size := benchFiles(b, 1000), 1<<20
	dir := benchDir(b)
	tree := makeTree(b, dir, files, size)
	z := startBenchZone(b, filepath.Join(dir, "zone"))
	defer z.stop()
	total := int64(files) * int64(size)
	run := 0
	b.Run("cp", func(b *testing.B) {
		b.SetBytes(total)
		defer reportCPU(b, childrenCPU(), childrenCPU)
		for i := 0; i < b.N; i++ {
			dst := filepath.Join(dir, "cp-copy")
			os.RemoveAll(dst)
			if out, err := exec.Command("cp", "-r", tree, dst).CombinedOutput(); err != nil {
				b.Fatalf("cp -r: %v: %s", err, out)
			}
		}
	})
	b.Run("iput", func(b *testing.B) {
		b.SetBytes(total)
		defer reportCPU(b, processCPU(), processCPU)
		for i := 0; i < b.N; i++ {
			run++
			z.run(b, nil, "iput", "-r", tree, "mib"+strconv.Itoa(run))
		}
		b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
	})
	b.Run("iget", func(b *testing.B) {
		b.SetBytes(total)
		defer reportCPU(b, processCPU(), processCPU)
		for i := 0; i < b.N; i++ {
			dst := filepath.Join(dir, "back")
			os.RemoveAll(dst)
			z.run(b, nil, "iget", "-r", "mib1", dst)
		}
		b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
	})
}

// BenchmarkIputTree10k uploads 10,000 files of 4 KiB with iput -r into an
// empty collection; the figure that matters is files/s. On ext4 without a
// journal, a run within a minute of deleting a large tree (the clean-up of
// the run before) is a third slower: the kernel will not reuse the freed
// inodes yet, and scans past them for every file created (see README).
//
// With ARCA_BENCH_RETENTION="MODE PERIOD" (e.g. "compliance 10y") the home
// the runs go into has that default retention, which every run's
// collection copies: every object put is locked, as under an archive's
// default.
func BenchmarkIputTree10k(b *testing.B) {
	files, size := benchFiles(b, 10_000), 4<<10
	dir := benchDir(b)
	tree := makeTree(b, dir, files, size)
	z := startBenchZone(b, filepath.Join(dir, "zone"))
	defer z.stop()
	if r := os.Getenv("ARCA_BENCH_RETENTION"); r != "" {
		mode, period, _ := strings.Cut(r, " ")
		z.run(b, nil, "iretention", "set", "--default", "--mode", mode, "--for", period, "/tempZone/home/rods")
	}
	run := 0
	for _, threads := range []string{"16", "32", "64"} {
		b.Run("N="+threads, func(b *testing.B) {
			defer reportCPU(b, processCPU(), processCPU)
			var written int64
			for i := 0; i < b.N; i++ {
				// What the tree's creation or the last run left dirty in the
				// page cache is written back now, not during this run.
				b.StopTimer()
				syscall.Sync()
				before := diskWritten()
				b.StartTimer()
				run++
				z.run(b, nil, "iput", "-r", "-N", threads, tree, "run"+strconv.Itoa(run))
				b.StopTimer()
				syscall.Sync()
				written += diskWritten() - before
				b.StartTimer()
			}
			reportDiskWrites(b, files, written)
			b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}

// BenchmarkIputTwoServers uploads a tree of 4 KiB files (10,000, or
// $ARCA_BENCH_FILES) through one server, then the same number through two
// servers of one zone on one Dgraph catalog, each taking half, at once:
// the figure is files/s of each setup.
//
//	ARCA_BENCH_FILES=1000 go test -run '^$' -bench IputTwoServers -benchtime 1x ./zones/
func BenchmarkIputTwoServers(b *testing.B) {
	addr := os.Getenv("ARCA_TEST_DGRAPH")
	if addr == "" {
		b.Skip("needs Dgraph: source .ci/services/20-dgraph.sh")
	}
	files, size := benchFiles(b, 10_000), 4<<10
	dir := benchDir(b)
	buf := make([]byte, size)
	for _, half := range []string{"a", "b"} {
		tree := filepath.Join(dir, "tree", half)
		os.MkdirAll(tree, 0o755)
		for i := range files / 2 {
			rand.Read(buf)
			if err := os.WriteFile(filepath.Join(tree, fmt.Sprintf("f%05d.dat", i)), buf, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	url := fmt.Sprintf("dgraph://%s?prefix=two%d", addr, time.Now().UnixNano())
	z1 := startBenchZoneOn(b, filepath.Join(dir, "zone1"), url)
	defer z1.stop()
	z2 := startBenchZoneOn(b, filepath.Join(dir, "zone2"), url)
	defer z2.stop()
	run := 0
	b.Run("one-server", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			run++
			z1.run(b, nil, "iput", "-r", "-N", "32", filepath.Join(dir, "tree"), "one"+strconv.Itoa(run))
		}
		b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
	})
	b.Run("two-servers", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			run++
			coll := "two" + strconv.Itoa(run)
			z1.run(b, nil, "imkdir", coll)
			done := make(chan struct{})
			go func() {
				defer close(done)
				z2.run(b, nil, "iput", "-r", "-N", "32", filepath.Join(dir, "tree", "b"), coll+"/b")
			}()
			z1.run(b, nil, "iput", "-r", "-N", "32", filepath.Join(dir, "tree", "a"), coll+"/a")
			<-done
		}
		b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
	})
}

func makeBigFile(b *testing.B, path string, size int64) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

const bigSize = 1 << 30

// BenchmarkTransfer1GiB compares iput and iget of one 1 GiB file with cp of
// the same file on the same disk, in the same run. Checksums are included:
// the server computes SHA-256 on every put; -K adds the client's check.
func BenchmarkTransfer1GiB(b *testing.B) {
	dir := benchDir(b)
	src := filepath.Join(dir, "big.bin")
	makeBigFile(b, src, bigSize)
	z := startBenchZone(b, filepath.Join(dir, "zone"))
	defer z.stop()

	// Each transfer reports its rate as a percentage of cp's in the same
	// run (%cp), the measure, when cp ran.
	var cpNsPerOp float64
	ofCP := func(b *testing.B) {
		if cpNsPerOp > 0 {
			b.ReportMetric(100*cpNsPerOp/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "%cp")
		}
	}
	b.Run("cp", func(b *testing.B) {
		b.SetBytes(bigSize)
		defer reportCPU(b, childrenCPU(), childrenCPU)
		for i := 0; i < b.N; i++ {
			dst := filepath.Join(dir, "cp-copy")
			os.Remove(dst)
			if out, err := exec.Command("cp", src, dst).CombinedOutput(); err != nil {
				b.Fatalf("cp: %v: %s", err, out)
			}
		}
		cpNsPerOp = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	// cp leaves the copy in the page cache; iput returns only after fsync.
	// cp+sync is the durable equivalent.
	b.Run("cp+sync", func(b *testing.B) {
		b.SetBytes(bigSize)
		defer ofCP(b)
		defer reportCPU(b, childrenCPU(), childrenCPU)
		for i := 0; i < b.N; i++ {
			dst := filepath.Join(dir, "cp-copy")
			os.Remove(dst)
			if out, err := exec.Command("sh", "-c", `cp "$1" "$2" && sync "$2"`, "sh", src, dst).CombinedOutput(); err != nil {
				b.Fatalf("cp+sync: %v: %s", err, out)
			}
		}
	})
	// Every put computes the SHA-256 of its bytes on the server in one
	// sequential pass: hashing the file here, with the same implementation
	// (SHA-NI where the CPU has it), is the ceiling of any put on this
	// machine, whatever the transport.
	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(bigSize)
		defer ofCP(b)
		defer reportCPU(b, processCPU(), processCPU)
		for i := 0; i < b.N; i++ {
			f, err := os.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			h := resources.NewHash()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("iput", func(b *testing.B) {
		b.SetBytes(bigSize)
		defer ofCP(b)
		defer reportCPU(b, processCPU(), processCPU)
		for i := 0; i < b.N; i++ {
			z.run(b, nil, "iput", "-f", src, "big.bin")
		}
	})
	b.Run("iput-K", func(b *testing.B) {
		b.SetBytes(bigSize)
		defer ofCP(b)
		defer reportCPU(b, processCPU(), processCPU)
		for i := 0; i < b.N; i++ {
			z.run(b, nil, "iput", "-f", "-K", src, "big.bin")
		}
	})
	b.Run("iget", func(b *testing.B) {
		b.SetBytes(bigSize)
		defer ofCP(b)
		defer reportCPU(b, processCPU(), processCPU)
		for i := 0; i < b.N; i++ {
			z.run(b, nil, "iget", "-f", "big.bin", filepath.Join(dir, "got.bin"))
		}
	})
	b.Run("iget-K", func(b *testing.B) {
		b.SetBytes(bigSize)
		defer ofCP(b)
		defer reportCPU(b, processCPU(), processCPU)
		for i := 0; i < b.N; i++ {
			z.run(b, nil, "iget", "-f", "-K", "big.bin", filepath.Join(dir, "got.bin"))
		}
	})
}

// firstLineWriter notes when the first line arrives.
type firstLineWriter struct {
	mu    sync.Mutex
	start time.Time
	first time.Duration
	lines int
}

func (w *firstLineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := bytes.Count(p, []byte("\n"))
	if w.lines == 0 && n > 0 {
		w.first = time.Since(w.start)
	}
	w.lines += n
	return len(p), nil
}

// BenchmarkIlsLong100k lists a collection of 100,000 data objects with
// ils -l: the time to the first line and to the whole listing.
func BenchmarkIlsLong100k(b *testing.B) {
	const objects = 100_000
	dir := benchDir(b)
	z := startBenchZone(b, filepath.Join(dir, "zone"))
	defer z.stop()
	// Fill the collection through the API in parallel: small files, as a user would.
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(tree, 0o755)
	for i := range objects {
		if err := os.WriteFile(filepath.Join(tree, fmt.Sprintf("obj%06d", i)), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	z.run(b, nil, "iput", "-r", "-N", "16", tree, "big")
	b.ResetTimer()
	var first time.Duration
	for i := 0; i < b.N; i++ {
		w := &firstLineWriter{start: time.Now()}
		z.run(b, w, "ils", "-l", "big")
		if w.lines < objects {
			b.Fatalf("listed %d lines, want at least %d", w.lines, objects)
		}
		first += w.first
	}
	b.ReportMetric(float64(first.Microseconds())/1000/float64(b.N), "ms-first-line")
}

// BenchmarkIputRules is the rule engine's overhead on ingest: iput -r of
// 1,000 files of 4 KiB (ARCA_BENCH_FILES) into a zone with no rules, with 20 pre rules on put
// (each reading the name, path, size and user; none fires), and with the
// six steward examples of examples/rules (which deny nothing here but
// stamp two AVUs and schedule a job on every put).
func BenchmarkIputRules(b *testing.B) {
	files, size := 1000, 4<<10
	if n, err := strconv.Atoi(os.Getenv("ARCA_BENCH_FILES")); err == nil && n > 0 {
		files = n // the 10,000-file ingest: ARCA_BENCH_FILES=10000
	}
	dir := benchDir(b)
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(tree, 0o755)
	buf := make([]byte, size)
	for i := range files {
		rand.Read(buf)
		if err := os.WriteFile(filepath.Join(tree, fmt.Sprintf("f%05d.dat", i)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var twenty strings.Builder
	twenty.WriteString("rules:\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&twenty, "  - name: put%d\n    on: [put]\n    condition: object.name.endsWith('.tmp%d') || (object.path.under('/tempZone/projects') && op.size > byteSize('%dGiB')) || user.name == 'nobody%d'\n    deny: \"'no'\"\n", i, i, i+1, i)
	}
	examples, err := filepath.Glob(filepath.Join("..", "examples", "rules", "*.yaml"))
	if err != nil || len(examples) == 0 {
		b.Fatalf("examples: %v %v", examples, err)
	}
	zones := 0
	for _, variant := range []string{"none", "20-rules", "examples"} {
		b.Run("rules="+variant, func(b *testing.B) {
			// testing calls this once per b.N it tries: a fresh zone each time.
			zones++
			zdir := filepath.Join(dir, fmt.Sprintf("zone-%s-%d", variant, zones))
			rdir := filepath.Join(zdir, "rules")
			os.MkdirAll(rdir, 0o755)
			switch variant {
			case "20-rules":
				os.WriteFile(filepath.Join(rdir, "twenty.yaml"), []byte(twenty.String()), 0o644)
			case "examples":
				for _, e := range examples {
					if !rules.IsRuleFile(e) {
						continue
					}
					data, _ := os.ReadFile(e)
					os.WriteFile(filepath.Join(rdir, filepath.Base(e)), data, 0o644)
				}
			}
			z := startBenchZone(b, zdir)
			defer z.stop()
			b.ResetTimer()
			start := processCPU()
			for i := 0; i < b.N; i++ {
				z.run(b, nil, "iput", "-r", tree, "run"+strconv.Itoa(i))
			}
			b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
			// Client and server share this process: its CPU time per
			// file is the work, whatever else the machine runs.
			b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(files*b.N), "cpu-µs/file")
		})
	}
}

// diskWritten is what the machine's disks have written so far, in bytes,
// from /proc/diskstats (whole disks only, not their partitions); 0 where
// there is no such file.
func diskWritten() int64 {
	data, err := os.ReadFile("/proc/diskstats")
	if err != nil {
		return 0
	}
	var total int64
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		if _, err := os.Stat("/sys/block/" + f[2]); err != nil {
			continue // a partition, counted in its disk
		}
		sectors, _ := strconv.ParseInt(f[9], 10, 64)
		total += sectors * 512
	}
	return total
}

// reportDiskWrites reports the bytes the disks wrote per file, everything
// included: data, file system journal, catalog WAL and checkpoints. On a
// disk with a write budget (a cloud volume, a VM's rate limiter) this bounds
// the sustained rate.
func reportDiskWrites(b *testing.B, files int, written int64) {
	if written > 0 {
		b.ReportMetric(float64(written)/1024/float64(files*b.N), "disk-KiB/file")
	}
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// childrenCPU is the CPU time of this process's waited-for children (cp).
func childrenCPU() time.Duration { return rusage(syscall.RUSAGE_CHILDREN) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start: on a shared
// machine the wall clock measures the other load as much as Arca, while
// the CPU time is the work itself.
func reportCPU(b *testing.B, start time.Duration, now func() time.Duration) {
	b.ReportMetric(float64((now()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkIrmRules is what rules cost a recursive removal, which checks
// them on every object inside before it removes anything: irm -r -f of a
// collection of 10,000 files (ARCA_BENCH_FILES) with no rules and with 20
// pre rules on remove (each reading the name, path and user; none fires).
func BenchmarkIrmRules(b *testing.B) {
	files := 10000
	if n, err := strconv.Atoi(os.Getenv("ARCA_BENCH_FILES")); err == nil && n > 0 {
		files = n
	}
	dir := benchDir(b)
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(tree, 0o755)
	for i := range files {
		sub := filepath.Join(tree, fmt.Sprintf("d%02d", i%50))
		os.MkdirAll(sub, 0o755)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%05d.dat", i)), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var twenty strings.Builder
	twenty.WriteString("rules:\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&twenty, "  - name: rm%d\n    on: [remove]\n    condition: object.name.endsWith('.keep%d') || object.path.under('/tempZone/archive%d') || user.name == 'nobody%d'\n    deny: \"'no'\"\n", i, i, i, i)
	}
	zones := 0
	for _, variant := range []string{"none", "20-rules"} {
		b.Run("rules="+variant, func(b *testing.B) {
			zones++
			zdir := filepath.Join(dir, fmt.Sprintf("zone-%s-%d", variant, zones))
			rdir := filepath.Join(zdir, "rules")
			os.MkdirAll(rdir, 0o755)
			if variant == "20-rules" {
				os.WriteFile(filepath.Join(rdir, "twenty.yaml"), []byte(twenty.String()), 0o644)
			}
			z := startBenchZone(b, zdir)
			defer z.stop()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				z.run(b, nil, "iput", "-r", tree, "run"+strconv.Itoa(i))
				b.StartTimer()
				z.run(b, nil, "irm", "-r", "-f", "run"+strconv.Itoa(i))
			}
			b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
