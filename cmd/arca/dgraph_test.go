package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arca-data/arca/resources"
)

// dgraphAddr is the Dgraph alpha of the tests (.ci/services/20-dgraph.sh).
func dgraphAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("ARCA_TEST_DGRAPH")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ARCA_TEST_DGRAPH is not set: .ci/services/20-dgraph.sh must start Dgraph")
		}
		t.Skip("ARCA_TEST_DGRAPH is not set; start Dgraph with: source .ci/services/20-dgraph.sh")
	}
	return addr
}

// TestTwoServersOneDgraphCatalog runs two real "arca server" processes,
// each with its own data directory, on one Dgraph catalog: they serve one
// zone, and what is written through one is seen through the other at once.
func TestTwoServersOneDgraphCatalog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two servers")
	}
	url := fmt.Sprintf("dgraph://%s?prefix=two%d", dgraphAddr(t), time.Now().UnixNano())
	tmp := t.TempDir()
	bin, dataA, work, cliA := processSetup(t, tmp)
	dataB := filepath.Join(tmp, "zoneB")
	workB := filepath.Join(tmp, "workB")
	if err := errors.Join(os.MkdirAll(work, 0o755), os.MkdirAll(workB, 0o755)); err != nil {
		t.Fatal(err)
	}
	cliB := &arcaCLI{t: t, bin: bin, dir: workB, env: append(os.Environ(),
		"ARCA_CONFIG_DIR="+filepath.Join(workB, ".arca"), "HOME="+workB, "ARCA_PASSWORD=crash-test-password")}

	a := startServerWith(t, bin, dataA, "127.0.0.1:0", "--catalog", url)
	b := startServerWith(t, bin, dataB, "127.0.0.1:0", "--catalog", url)
	cliA.mustRun("iinit", "--host", "127.0.0.1", "--port", a.port, "--ca", filepath.Join(dataA, "tls", "ca.pem"))
	cliB.mustRun("iinit", "--host", "127.0.0.1", "--port", b.port, "--ca", filepath.Join(dataB, "tls", "ca.pem"))

	if err := os.WriteFile(filepath.Join(work, "hello.txt"), []byte("hello from A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cliA.mustRun("imkdir", "shared")
	cliA.mustRun("iput", "-K", "hello.txt", "shared/")

	// Seen through B at once, with its bytes.
	if out := cliB.mustRun("ils", "shared"); !strings.Contains(out, "hello.txt") {
		t.Fatalf("ils through B does not list what A wrote:\n%s", out)
	}
	cliB.mustRun("iget", "-K", "shared/hello.txt", filepath.Join(workB, "got.txt"))
	if got, err := os.ReadFile(filepath.Join(workB, "got.txt")); err != nil || string(got) != "hello from A\n" {
		t.Fatalf("iget through B: %q, %v", got, err)
	}

	// And the other way round: metadata set through B, queried through A.
	cliB.mustRun("imeta", "add", "-d", "shared/hello.txt", "origin", "serverA")
	out := cliA.mustRun("iquest", "%s", "select DATA_NAME where META_DATA_ATTR_NAME = 'origin' and META_DATA_ATTR_VALUE = 'serverA'")
	if !strings.Contains(out, "hello.txt") {
		t.Fatalf("iquest through A does not find the AVU set through B:\n%s", out)
	}

	// A removal through B is a removal for A.
	cliB.mustRun("irm", "shared/hello.txt")
	if r := cliA.run("ils", "shared/hello.txt"); r.code != 3 {
		t.Fatalf("ils through A after irm through B: exit %d, want 3 (not found)\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestMigrateThenServe fills a zone on SQLite through a real server, stops
// it, migrates its catalog to Dgraph with "arca catalog migrate", and
// serves the zone from Dgraph: the files are there, with their bytes.
func TestMigrateThenServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs servers")
	}
	url := fmt.Sprintf("dgraph://%s?prefix=mig%d", dgraphAddr(t), time.Now().UnixNano())
	tmp := t.TempDir()
	bin, data, work, cli := processSetup(t, tmp)
	if err := os.MkdirAll(filepath.Join(work, "tree", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := os.WriteFile(filepath.Join(work, "tree", "sub", fmt.Sprintf("f%d", i)), []byte(strings.Repeat("x", i*100)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, bin, data, "127.0.0.1:0")
	cli.mustRun("iinit", "--host", "127.0.0.1", "--port", s.port, "--ca", filepath.Join(data, "tls", "ca.pem"))
	cli.mustRun("iput", "-r", "-K", "tree")
	cli.mustRun("imeta", "add", "-d", "tree/sub/f3", "stage", "raw")
	// Names only: create and modify times are the target's own.
	before := cli.mustRun("ils", "-r", "tree")
	s.kill()

	out := cli.mustRun("catalog", "migrate", "--from", "sqlite://"+filepath.Join(data, "catalog.db"), "--to", url)
	if !strings.Contains(out, "the copy matches the source") {
		t.Fatalf("migrate:\n%s", out)
	}
	s2 := startServerWith(t, bin, data, "127.0.0.1:0", "--catalog", url)
	cli.mustRun("iinit", "--host", "127.0.0.1", "--port", s2.port, "--ca", filepath.Join(data, "tls", "ca.pem"))
	after := cli.mustRun("ils", "-r", "tree")
	if before != after {
		t.Errorf("ils -r differs after the migration:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	cli.mustRun("iget", "-K", "tree/sub/f4", filepath.Join(work, "f4.back"))
	if b, err := os.ReadFile(filepath.Join(work, "f4.back")); err != nil || len(b) != 400 {
		t.Fatalf("iget after migration: %d bytes, %v", len(b), err)
	}
	if out := cli.mustRun("iquest", "%s", "select DATA_NAME where META_DATA_ATTR_NAME = 'stage'"); strings.TrimSpace(out) != "f3" {
		t.Errorf("iquest after migration: %q", out)
	}
}

// dgraphCluster is a zero and an alpha of the test's own, which it may kill.
type dgraphCluster struct {
	t          *testing.T
	bin, dir   string
	off        int
	zero, alph *exec.Cmd
}

func startDgraphCluster(t *testing.T) *dgraphCluster {
	t.Helper()
	bin := os.Getenv("ARCA_DGRAPH_BIN")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ARCA_DGRAPH_BIN is not set: .ci/services/20-dgraph.sh must build Dgraph")
		}
		t.Skip("ARCA_DGRAPH_BIN is not set; build and start Dgraph with: source .ci/services/20-dgraph.sh")
	}
	d := &dgraphCluster{t: t, bin: bin, dir: t.TempDir(), off: 20000 + rand.IntN(3000)*10}
	d.zero = exec.Command(bin, "zero", "--my", fmt.Sprintf("127.0.0.1:%d", 5080+d.off), "--port_offset", fmt.Sprint(d.off),
		"--bindall=false", "--wal", filepath.Join(d.dir, "zw"))
	d.zero.Dir = d.dir
	if err := d.zero.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.zero.Process.Kill(); d.zero.Wait() })
	d.startAlpha()
	return d
}

func (d *dgraphCluster) addr() string { return fmt.Sprintf("127.0.0.1:%d", 9080+d.off) }

func (d *dgraphCluster) startAlpha() {
	d.t.Helper()
	d.alph = exec.Command(d.bin, "alpha", "--my", fmt.Sprintf("127.0.0.1:%d", 7080+d.off),
		"--zero", fmt.Sprintf("127.0.0.1:%d", 5080+d.off), "--port_offset", fmt.Sprint(d.off), "--bindall=false",
		"--postings", filepath.Join(d.dir, "p"), "--wal", filepath.Join(d.dir, "w"), "--tmp", filepath.Join(d.dir, "t"),
		"--security", "whitelist=127.0.0.1/8")
	d.alph.Dir = d.dir
	if err := d.alph.Start(); err != nil {
		d.t.Fatal(err)
	}
	a := d.alph
	d.t.Cleanup(func() { a.Process.Kill(); a.Wait() })
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", 8080+d.off))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `"status":"healthy"`) {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	d.t.Fatal("the test's Dgraph alpha did not become healthy in 90s")
}

func (d *dgraphCluster) killAlpha() {
	d.alph.Process.Signal(syscall.SIGKILL)
	d.alph.Wait()
}

// TestDgraphAlphaKilledDuringIngest kills the Dgraph alpha under an arca
// server with SIGKILL while "iput -r" uploads, and restarts it: the
// server's catalog operations retry until it is back, and no file iput
// acknowledged is lost.
func TestDgraphAlphaKilledDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs its own Dgraph and an ingest")
	}
	dg := startDgraphCluster(t)
	tmp := t.TempDir()
	bin, data, work, cli := processSetup(t, tmp)
	const n = 150
	sums := map[string]string{}
	for i := range n {
		rel := fmt.Sprintf("tree/d%d/f%03d", i%5, i)
		b := []byte(strings.Repeat(fmt.Sprintf("file %d\n", i), 50+i))
		p := filepath.Join(work, filepath.FromSlash(rel))
		if err := errors.Join(os.MkdirAll(filepath.Dir(p), 0o755), os.WriteFile(p, b, 0o644)); err != nil {
			t.Fatal(err)
		}
		h := resources.NewHash()
		h.Write(b)
		sums["/tempZone/home/rods/"+rel] = resources.FormatChecksum(h.Sum(nil))
	}
	srv := startServerWith(t, bin, data, "127.0.0.1:0", "--catalog", "dgraph://"+dg.addr())
	cli.mustRun("iinit", "--host", "127.0.0.1", "--port", srv.port, "--ca", filepath.Join(data, "tls", "ca.pem"))

	cmd := exec.Command(bin, "iput", "-r", "--json", "-N", "8", "tree")
	cmd.Dir, cmd.Env = work, cli.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]putLine{}
	killed := false
	restarted := make(chan struct{})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var l putLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("iput --json line %q: %v", sc.Text(), err)
		}
		acked[l.Path] = l
		if !killed && len(acked) >= n*3/10 {
			killed = true
			dg.killAlpha()
			t.Logf("SIGKILL to the Dgraph alpha after %d acknowledgements", len(acked))
			go func() {
				time.Sleep(2 * time.Second)
				dg.startAlpha()
				close(restarted)
			}()
		}
	}
	waitErr := cmd.Wait()
	if !killed {
		t.Fatalf("iput finished before the alpha was killed (%v)", waitErr)
	}
	<-restarted
	t.Logf("iput: %d of %d acknowledged, exit %v; stderr:\n%s", len(acked), n, waitErr, tail(stderr.String(), 10))
	if waitErr != nil && !strings.Contains(stderr.String(), "transfers failed") {
		t.Errorf("iput failed without summing up its failures:\n%s", tail(stderr.String(), 20))
	}

	// Every acknowledged file is in the catalog, good, with its checksum.
	deadline := time.Now().Add(30 * time.Second)
	for {
		entries := cli.listAll("/tempZone/home/rods/tree")
		inter := intermediates(entries)
		missing := 0
		for p, l := range acked {
			e, ok := entries[p]
			if !ok || e.Checksum != l.Checksum || l.Checksum != sums[p] {
				missing++
				if time.Now().After(deadline) {
					t.Errorf("acknowledged %s: catalog has %+v, iput said %s, file is %s", p, e, l.Checksum, sums[p])
				}
			}
		}
		if missing == 0 && len(inter) == 0 {
			t.Logf("%d objects, all %d acknowledged ones intact, none intermediate", len(entries), len(acked))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged objects missing or wrong, %d intermediate", missing, len(inter))
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Putting the tree again completes it.
	cli.mustRun("iput", "-r", "-f", "tree")
	if got := len(cli.listAll("/tempZone/home/rods/tree")); got != n {
		t.Errorf("%d objects after iput -f, want %d", got, n)
	}
}

// TestTwoServersRunEachJobOnce runs two real "arca server" processes on one
// Dgraph catalog with a rule that schedules a job for every put: each job
// runs exactly once, on one server or the other, as the two audit logs
// (one per server) show.
func TestTwoServersRunEachJobOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two servers")
	}
	url := fmt.Sprintf("dgraph://%s?prefix=jobs%d", dgraphAddr(t), time.Now().UnixNano())
	tmp := t.TempDir()
	bin, dataA, work, cliA := processSetup(t, tmp)
	dataB := filepath.Join(tmp, "zoneB")
	const rule = `rules:
  - name: job-once
    on: [put]
    when: post
    then:
      - schedule:
          after: 0s
          do:
            - audit: {message: "'job for ' + object.path"}
`
	for _, d := range []string{dataA, dataB} {
		if err := os.MkdirAll(filepath.Join(d, "rules"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "rules", "job-once.yaml"), []byte(rule), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const perServer = 12
	for _, side := range []string{"a", "b"} {
		dir := filepath.Join(work, "tree-"+side)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perServer {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", i)), []byte(side), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := startServerWith(t, bin, dataA, "127.0.0.1:0", "--catalog", url)
	b := startServerWith(t, bin, dataB, "127.0.0.1:0", "--catalog", url)
	cliB := &arcaCLI{t: t, bin: bin, dir: work, env: append(os.Environ(),
		"ARCA_CONFIG_DIR="+filepath.Join(work, ".arcaB"), "HOME="+work, "ARCA_PASSWORD=crash-test-password")}
	cliA.mustRun("iinit", "--host", "127.0.0.1", "--port", a.port, "--ca", filepath.Join(dataA, "tls", "ca.pem"))
	cliB.mustRun("iinit", "--host", "127.0.0.1", "--port", b.port, "--ca", filepath.Join(dataB, "tls", "ca.pem"))
	cliA.mustRun("iput", "-r", "tree-a")
	cliB.mustRun("iput", "-r", "tree-b")

	// runs counts the job records of both servers' audit logs by path.
	runs := func() (map[string][]string, int) {
		byPath := map[string][]string{}
		total := 0
		for server, d := range map[string]string{"A": dataA, "B": dataB} {
			f, err := os.Open(filepath.Join(d, "audit.log"))
			if errors.Is(err, os.ErrNotExist) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var r struct{ Message string }
				if json.Unmarshal(sc.Bytes(), &r) == nil && strings.HasPrefix(r.Message, "job for ") {
					p := strings.TrimPrefix(r.Message, "job for ")
					byPath[p] = append(byPath[p], server)
					total++
				}
			}
			f.Close()
		}
		return byPath, total
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, n := runs(); n >= 2*perServer {
			break
		}
		if time.Now().After(deadline) {
			byPath, n := runs()
			t.Fatalf("%d job runs of %d after 90 s: %v", n, 2*perServer, byPath)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Both servers poll every second: give a second run of any job the
	// time to show before counting.
	time.Sleep(2500 * time.Millisecond)
	byPath, n := runs()
	perSide := map[string]int{}
	for p, servers := range byPath {
		if len(servers) != 1 {
			t.Errorf("the job for %s ran %d times: on %v", p, len(servers), servers)
		}
		perSide[servers[0]]++
	}
	if len(byPath) != 2*perServer || n != 2*perServer {
		t.Errorf("%d job runs for %d paths, want %d each: %v", n, len(byPath), 2*perServer, byPath)
	}
	t.Logf("job runs per server: %v", perSide)
}
