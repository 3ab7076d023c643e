package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/resources"
)

// TestCrashDuringPut kills a real "arca server" process with SIGKILL while
// "arca iput -r -N 16" uploads thousands of files to it, restarts it on
// the same data directory, and checks what a crash must not break:
//
//	(a) every file iput reported as done is there, with its size, checksum
//	    and bytes;
//	(b) once the lease has run out, no replica is left intermediate;
//	(c) no file in the vault is unaccounted for: each one is a replica's,
//	    or the restarted server logged it as an orphan;
//	(d) uploading the whole tree again with -f succeeds, file for file.
func TestCrashDuringPut(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test builds the binary and uploads thousands of files")
	}
	start := time.Now()
	tmp := t.TempDir()
	bin, data, work, cli := processSetup(t, tmp)

	local := makeTree(t, filepath.Join(work, "tree"))
	t.Logf("tree: %d files, %d bytes", len(local), totalSize(local))

	srv := startServer(t, bin, data, "127.0.0.1:0")
	cli.mustRun("iinit", "--host", "127.0.0.1", "--port", srv.port, "--ca", filepath.Join(data, "tls", "ca.pem"))

	// Upload, and kill the server when 40% of the files are acknowledged.
	acked := map[string]putLine{} // by logical path
	killAt := len(local) * 4 / 10
	cmd := exec.Command(bin, "iput", "-r", "--json", "-N", "16", "tree")
	cmd.Dir, cmd.Env = work, cli.env
	var iputErr bytes.Buffer
	cmd.Stderr = &iputErr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		var l putLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("iput --json printed a line that is not JSON: %q: %v", sc.Text(), err)
		}
		if l.Path == "" || l.Local == "" || l.Checksum == "" {
			t.Fatalf("iput --json line lacks fields: %q", sc.Text())
		}
		acked[l.Path] = l
		if !killed && len(acked) >= killAt {
			srv.kill()
			killed = true
			t.Logf("SIGKILL after %d acknowledgements (%s)", len(acked), time.Since(start).Round(time.Millisecond))
		}
	}
	waitErr := cmd.Wait()
	if !killed {
		t.Fatalf("iput finished (%v) before the server was killed: %d acknowledgements", waitErr, len(acked))
	}
	var ee *exec.ExitError
	if !errors.As(waitErr, &ee) || ee.ExitCode() == 0 {
		t.Errorf("iput against a killed server: %v; want a failure exit status", waitErr)
	}
	if !strings.Contains(iputErr.String(), "transfers failed") {
		t.Errorf("iput's stderr does not sum up the failures:\n%s", tail(iputErr.String(), 20))
	}
	t.Logf("iput: %d of %d files acknowledged, exit %v (%s)", len(acked), len(local), waitErr, time.Since(start).Round(time.Millisecond))
	if len(acked) >= len(local) {
		t.Fatalf("every file was acknowledged: the crash came too late to test anything")
	}

	// Restart on the same data directory and port.
	srv2 := startServer(t, bin, data, srv.addr)

	// (b) The leases of the writes that died end; none stays intermediate.
	deadline := time.Now().Add(15 * time.Second)
	var entries map[string]lsEntry
	for first := true; ; first = false {
		entries = cli.listAll("/tempZone")
		inter := intermediates(entries)
		if first {
			t.Logf("after the restart: %d data objects, %d replicas not good", len(entries), len(inter))
		}
		if len(inter) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d replicas still intermediate 15s after the restart (lease 2s), e.g. %v", len(inter), inter[:min(5, len(inter))])
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("no intermediate replica left (%s)", time.Since(start).Round(time.Millisecond))

	// (a) Every acknowledged file is there, intact.
	for p, l := range acked {
		want, ok := local[l.Local]
		if !ok {
			t.Errorf("iput acknowledged %s, which is not a file of the tree", l.Local)
			continue
		}
		if l.Size != want.size || l.Checksum != want.checksum {
			t.Errorf("iput acknowledged %s with size %d and %s; the file has %d and %s", l.Local, l.Size, l.Checksum, want.size, want.checksum)
		}
		e, ok := entries[p]
		if !ok {
			t.Errorf("acknowledged %s (from %s) is gone after the crash", p, l.Local)
			continue
		}
		good := 0
		for _, r := range e.Replicas {
			if r.Status == "good" && r.Size == want.size && r.Checksum == want.checksum {
				good++
			}
		}
		if e.Size != want.size || e.Checksum != want.checksum || good == 0 {
			t.Errorf("acknowledged %s: catalog has size %d, %s, replicas %+v; want %d, %s and a good replica",
				p, e.Size, e.Checksum, e.Replicas, want.size, want.checksum)
		}
	}
	// ... and its bytes are the local file's: download all and compare.
	back := filepath.Join(tmp, "back")
	if err := os.Mkdir(back, 0o755); err != nil {
		t.Fatal(err)
	}
	cli.mustRun("iget", "-r", "-N", "16", "tree", back)
	for _, l := range acked {
		got, err := os.ReadFile(filepath.Join(back, l.Local))
		if err != nil {
			t.Errorf("iget of acknowledged %s: %v", l.Path, err)
			continue
		}
		want, err := os.ReadFile(filepath.Join(work, l.Local))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("acknowledged %s: the bytes differ from %s (%d and %d bytes)", l.Path, l.Local, len(got), len(want))
		}
	}
	t.Logf("%d acknowledged files verified (%s)", len(acked), time.Since(start).Round(time.Millisecond))

	// (c) Every file in the vault is a replica's, or was reported as an orphan
	// by the scan the restarted server runs beside serving.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(srv2.log(), "orphan scan done"); {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted server did not finish its orphan scan; log:\n%s", srv2.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	orphans := checkVault(t, data, entries, srv.log()+srv2.log())
	t.Logf("vault checked: %d orphan files reported", orphans)

	// (d) The whole tree again with -f: every file succeeds.
	res := cli.run("iput", "-r", "-f", "--json", "-N", "16", "tree")
	if res.code != 0 {
		t.Fatalf("iput -r -f after the restart: exit %d\n%s", res.code, tail(res.stderr, 20))
	}
	again := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var l putLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("iput --json line %q: %v", line, err)
		}
		if want := local[l.Local]; l.Checksum != want.checksum || l.Size != want.size {
			t.Errorf("iput -f %s: %d bytes, %s; want %d, %s", l.Local, l.Size, l.Checksum, want.size, want.checksum)
		}
		again[l.Local] = true
	}
	if len(again) != len(local) {
		t.Errorf("iput -r -f acknowledged %d files, the tree has %d", len(again), len(local))
	}
	entries = cli.listAll("/tempZone")
	objects := 0
	for rel, f := range local {
		e, ok := entries["/tempZone/home/rods/"+rel]
		if !ok {
			t.Errorf("%s is missing after iput -r -f", rel)
			continue
		}
		objects++
		if len(e.Replicas) != 1 || e.Replicas[0].Status != "good" || e.Replicas[0].Checksum != f.checksum {
			t.Errorf("%s after iput -r -f: replicas %+v; want one good one with %s", e.Path, e.Replicas, f.checksum)
		}
	}
	// The replaced replicas' files are gone: the vault holds one file per
	// replica, plus the orphans reported at the restart.
	if n := checkVault(t, data, entries, srv.log()+srv2.log()); n != orphans {
		t.Errorf("%d orphan files after iput -r -f, %d before", n, orphans)
	}
	t.Logf("done in %s", time.Since(start).Round(time.Millisecond))
}

// putLine is one line of iput --json.
type putLine struct {
	Local    string `json:"local"`
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	Checksum string `json:"checksum"`
}

// lsEntry is one line of ils --json -L.
type lsEntry struct {
	Kind     string `json:"kind"`
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	Checksum string `json:"checksum"`
	Replicas []struct {
		Number       int    `json:"number"`
		Resource     string `json:"resource"`
		PhysicalPath string `json:"physical_path"`
		Size         int64  `json:"size"`
		Checksum     string `json:"checksum"`
		Status       string `json:"status"`
	} `json:"replicas"`
}

func intermediates(entries map[string]lsEntry) []string {
	var out []string
	for _, e := range entries {
		for _, r := range e.Replicas {
			if r.Status != "good" {
				out = append(out, fmt.Sprintf("%s#%d:%s", e.Path, r.Number, r.Status))
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkVault requires every regular file in the vault to be the physical
// path of a replica in entries, or to be named as an orphan in the server's
// log. It returns how many were orphans.
func checkVault(t *testing.T, data string, entries map[string]lsEntry, serverLog string) int {
	t.Helper()
	vault := filepath.Join(data, "vault")
	known := map[string]bool{}
	for _, e := range entries {
		for _, r := range e.Replicas {
			if !filepath.IsAbs(r.PhysicalPath) {
				t.Errorf("%s: physical path %q is not absolute", e.Path, r.PhysicalPath)
			}
			known[r.PhysicalPath] = true
		}
	}
	reported := map[string]bool{}
	re := regexp.MustCompile(`orphan file.* physical_path=("(?:[^"\\]|\\.)*"|\S+)`)
	for _, m := range re.FindAllStringSubmatch(serverLog, -1) {
		key := m[1]
		if strings.HasPrefix(key, `"`) {
			if err := json.Unmarshal([]byte(key), &key); err != nil {
				t.Fatalf("orphan line with a bad key %s: %v", m[1], err)
			}
		}
		reported[filepath.Join(vault, filepath.FromSlash(key))] = true
	}
	orphans := 0
	err := filepath.WalkDir(vault, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		switch {
		case known[path]:
		case reported[path]:
			orphans++
			t.Logf("orphan file, reported by the server: %s", path)
		default:
			t.Errorf("a file in the vault is neither a replica's nor reported as an orphan: %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range known {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a replica's file is missing: %v", err)
		}
	}
	return orphans
}

// localFile is what a file of the tree should look like in the zone.
type localFile struct {
	size     int64
	checksum string
}

func totalSize(files map[string]localFile) int64 {
	var n int64
	for _, f := range files {
		n += f.size
	}
	return n
}

// makeTree writes 3000 small files in nested directories, and six files of
// 1 to 8 MiB among them near where the crash will come, and returns them by
// path relative to the parent of dir ("tree/d07/e2/f013.dat").
func makeTree(t *testing.T, dir string) map[string]localFile {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, 1))
	files := map[string]localFile{}
	write := func(rel string, size int) {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		path := filepath.Join(filepath.Dir(dir), filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		h := resources.NewHash()
		h.Write(b)
		files[rel] = localFile{size: int64(size), checksum: resources.FormatChecksum(h.Sum(nil))}
	}
	base := filepath.Base(dir)
	for d := range 30 {
		for e := range 5 {
			for f := range 20 {
				write(fmt.Sprintf("%s/d%02d/e%d/f%03d.dat", base, d, e, f), rng.IntN(4096))
			}
		}
	}
	for i, mib := range []int{1, 8, 2, 5, 3, 4} {
		write(fmt.Sprintf("%s/d%02d/big%d.bin", base, 10+i, i), mib<<20+rng.IntN(4096))
	}
	return files
}

// buildArca builds ./cmd/arca into dir.
func buildArca(t *testing.T, dir string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building arca needs the go command on PATH: %v", err)
	}
	bin := filepath.Join(dir, "arca")
	out, err := exec.Command(goCmd, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serverProc is an "arca server" process.
type serverProc struct {
	t          *testing.T
	cmd        *exec.Cmd
	addr, port string
	mu         sync.Mutex
	stderr     bytes.Buffer
	done       chan struct{}
}

func (s *serverProc) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.Write(p)
}

func (s *serverProc) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// kill sends SIGKILL and waits for the process to end.
func (s *serverProc) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

var servingLine = regexp.MustCompile(`serving on (127\.0\.0\.1:(\d+));`)

// startServer starts "arca server" with a 2s lease and waits for its
// "serving on" line.
func startServer(t *testing.T, bin, data, addr string) *serverProc {
	t.Helper()
	return startServerWith(t, bin, data, addr)
}

// startServerWith is startServer with more flags for "arca server".
func startServerWith(t *testing.T, bin, data, addr string, flags ...string) *serverProc {
	t.Helper()
	s := &serverProc{t: t, done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"server", "--data", data, "--addr", addr, "--lease", "2s"}, flags...)...)
	s.cmd.Env = append(os.Environ(), "ARCA_ADMIN_PASSWORD=crash-test-password")
	s.cmd.Stderr = s
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("log of the server on %s:\n%s", s.addr, tail(s.log(), 40))
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
	}()
	// A server on Dgraph alters the schema first; on a loaded machine that
	// takes a while.
	timeout := time.After(90 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("arca server exited before serving:\n%s", s.log())
			}
			if m := servingLine.FindStringSubmatch(line); m != nil {
				s.addr, s.port = m[1], m[2]
				go func() {
					for range lines {
					}
				}()
				return s
			}
		case <-timeout:
			t.Fatalf("arca server did not say it serves within 90s:\n%s", s.log())
		}
	}
}

// arcaCLI runs icommands through the built binary.
type arcaCLI struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

type result struct {
	stdout, stderr string
	code           int
}

func (c *arcaCLI) run(args ...string) result {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Dir, cmd.Env = c.dir, c.env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		c.t.Fatalf("arca %s: %v", strings.Join(args, " "), err)
	}
	return r
}

func (c *arcaCLI) mustRun(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("arca %s: exit %d\n%s", strings.Join(args, " "), r.code, tail(r.stderr, 20))
	}
	return r.stdout
}

// listAll returns every data object below coll, with replicas, by path.
func (c *arcaCLI) listAll(coll string) map[string]lsEntry {
	c.t.Helper()
	out := c.mustRun("ils", "-r", "-L", "--json", coll)
	entries := map[string]lsEntry{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e lsEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			c.t.Fatalf("ils --json line %q: %v", line, err)
		}
		if e.Kind == "data_object" {
			entries[e.Path] = e
		}
	}
	return entries
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// processSetup builds the arca binary under tmp and returns it, the data
// directory for its server, the client's working directory and a CLI that
// runs the binary there with its own configuration.
func processSetup(t *testing.T, tmp string) (bin, data, work string, cli *arcaCLI) {
	t.Helper()
	bin = buildArca(t, tmp)
	data = filepath.Join(tmp, "zone")
	work = filepath.Join(tmp, "work")
	cli = &arcaCLI{t: t, bin: bin, dir: work, env: append(os.Environ(),
		"ARCA_CONFIG_DIR="+filepath.Join(work, ".arca"), "HOME="+work, "ARCA_PASSWORD=crash-test-password")}
	return bin, data, work, cli
}
