package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// defaultShutdownGrace is what "arca server" gives in-flight requests after
// SIGTERM (server.ServerConfig.ShutdownGrace; the binary has no flag for it).
const defaultShutdownGrace = 30 * time.Second

// TestSIGTERMDrains sends SIGTERM to a real "arca server" process while
// "arca iput" uploads a 512 MiB file to it, and checks the promise of
// "arca server -h": SIGTERM drains in-flight requests and stops.
//
//	(a) the in-flight iput succeeds;
//	(b) while the server drains, new connections are refused;
//	(c) the server exits with status 0 within the grace period, and logs
//	    that it is shutting down and that it stopped;
//	(d) after a restart on the same data directory the object is there with
//	    one good replica whose bytes have the local file's SHA-256.
func TestSIGTERMDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and uploads 512 MiB")
	}
	start := time.Now()
	tmp := t.TempDir()
	bin, data, work, cli := processSetup(t, tmp)

	const size = 512 << 20
	local := filepath.Join(work, "big.bin")
	wantSum := writeBigFile(t, local, size)
	t.Logf("512 MiB file written, %s (%s)", wantSum, time.Since(start).Round(time.Millisecond))

	srv := startServer(t, bin, data, "127.0.0.1:0")
	cli.mustRun("iinit", "--host", "127.0.0.1", "--port", srv.port, "--ca", filepath.Join(data, "tls", "ca.pem"))

	iput := exec.Command(bin, "iput", "--json", "big.bin")
	iput.Dir, iput.Env = work, cli.env
	var iputOut, iputErr bytes.Buffer
	iput.Stdout, iput.Stderr = &iputOut, &iputErr
	if err := iput.Start(); err != nil {
		t.Fatal(err)
	}
	iputDone := make(chan struct{}) // closed when iput has ended, with iputWait
	var iputWait error
	go func() { iputWait = iput.Wait(); close(iputDone) }()
	t.Cleanup(func() {
		iput.Process.Kill()
		<-iputDone
	})

	// The server has started receiving once the replica's file in the vault
	// holds some bytes.
	vaultDir := filepath.Join(data, "vault", "home", "rods")
	deadline := time.Now().Add(20 * time.Second)
	var received int64
	for received < 1<<20 {
		select {
		case <-iputDone:
			t.Fatalf("iput ended (%v) before the server received 1 MiB of it: the test cannot send SIGTERM mid-transfer\nstderr: %s", iputWait, iputErr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not receive 1 MiB of the upload within 20s (%d bytes in %s)", received, vaultDir)
		}
		received = vaultBytes(t, vaultDir)
		time.Sleep(2 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	termAt := time.Now()
	t.Logf("SIGTERM with %d of %d bytes in the vault (%s)", received, size, time.Since(start).Round(time.Millisecond))

	// (b) New connections are refused while the server is still draining.
	refused, alive := false, false
	for time.Since(termAt) < 5*time.Second {
		c, err := net.DialTimeout("tcp", srv.addr, time.Second)
		if err == nil {
			c.Close()
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if errors.Is(err, syscall.ECONNRESET) {
			// Dialled as the listener closed: the kernel reset the
			// connection from the backlog. Not yet the refusal we wait for.
			continue
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("a connection to %s after SIGTERM: %v; want connection refused", srv.addr, err)
		}
		refused = true
		select {
		case <-srv.done:
		default:
			alive = true
		}
		break
	}
	refusedAfter := time.Since(termAt)
	switch {
	case !refused:
		t.Errorf("the server still accepted connections 5s after SIGTERM")
	case !alive:
		t.Errorf("the server exited before a new connection was refused: could not check that it refuses connections while it drains")
	default:
		t.Logf("new connections refused %s after SIGTERM, while the server drains", refusedAfter.Round(time.Microsecond))
	}
	if res := cli.run("ils", "/tempZone/home/rods"); res.code == 0 {
		t.Errorf("ils after SIGTERM succeeded:\n%s", res.stdout)
	} else {
		t.Logf("ils after SIGTERM: exit %d: %s", res.code, strings.TrimSpace(res.stderr))
	}

	// (a) The in-flight upload completes.
	select {
	case <-iputDone:
		if iputWait != nil {
			t.Errorf("the iput in flight at SIGTERM failed: %v\nstderr: %s", iputWait, iputErr.String())
		} else {
			var l putLine
			if err := json.Unmarshal(iputOut.Bytes(), &l); err != nil {
				t.Errorf("iput --json printed %q: %v", iputOut.String(), err)
			} else if l.Size != size || l.Checksum != wantSum || l.Path != "/tempZone/home/rods/big.bin" {
				t.Errorf("iput reported %+v; want /tempZone/home/rods/big.bin, %d bytes, %s", l, int64(size), wantSum)
			}
		}
	case <-time.After(defaultShutdownGrace + 10*time.Second):
		t.Fatalf("iput still runs %s after SIGTERM", time.Since(termAt).Round(time.Millisecond))
	}
	t.Logf("iput done %s after SIGTERM", time.Since(termAt).Round(time.Millisecond))

	// (c) The server stops, with status 0, within the grace period.
	select {
	case <-srv.done:
	case <-time.After(defaultShutdownGrace + 5*time.Second):
		t.Fatalf("the server still runs %s after SIGTERM (grace %s)", time.Since(termAt).Round(time.Millisecond), defaultShutdownGrace)
	}
	stoppedAfter := time.Since(termAt)
	if stoppedAfter > defaultShutdownGrace {
		t.Errorf("the server took %s to stop after SIGTERM, more than the grace period of %s", stoppedAfter, defaultShutdownGrace)
	}
	if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("the server exited with %s after SIGTERM; want status 0", srv.cmd.ProcessState)
	}
	log := srv.log()
	for _, want := range []string{"shutting down", `msg=stopped`} {
		if !strings.Contains(log, want) {
			t.Errorf("the server's log lacks %q:\n%s", want, tail(log, 20))
		}
	}
	if strings.Contains(log, "grace period over") {
		t.Errorf("the server cancelled requests at shutdown:\n%s", tail(log, 20))
	}
	if i, j := strings.Index(log, "shutting down"), strings.LastIndex(log, "msg=stopped"); i >= 0 && j >= 0 && j < i {
		t.Errorf("the server logged that it stopped before it logged shutting down:\n%s", tail(log, 20))
	}
	t.Logf("server exited with %s %s after SIGTERM", srv.cmd.ProcessState, stoppedAfter.Round(time.Millisecond))

	// (d) Restart: the object is there, good, with the local file's checksum.
	startServer(t, bin, data, srv.addr)
	entries := cli.listAll("/tempZone/home/rods")
	e, ok := entries["/tempZone/home/rods/big.bin"]
	if !ok {
		t.Fatalf("big.bin is not there after the restart; ils lists %v", entries)
	}
	if e.Size != size || e.Checksum != wantSum || len(e.Replicas) != 1 {
		t.Errorf("big.bin after the restart: size %d, %s, replicas %+v; want %d, %s and one replica", e.Size, e.Checksum, e.Replicas, int64(size), wantSum)
	}
	for _, r := range e.Replicas {
		if r.Status != "good" || r.Size != size || r.Checksum != wantSum {
			t.Errorf("big.bin replica %d after the restart: %s, %d bytes, %s; want good, %d, %s", r.Number, r.Status, r.Size, r.Checksum, int64(size), wantSum)
		}
	}
	res := cli.run("ichksum", "-K", "--json", "big.bin")
	if res.code != 0 {
		t.Fatalf("ichksum -K big.bin after the restart: exit %d\n%s", res.code, res.stderr)
	}
	var sum struct {
		Checksum string `json:"checksum"`
		Verified bool   `json:"verified"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil {
		t.Fatalf("ichksum --json printed %q: %v", res.stdout, err)
	}
	if sum.Checksum != wantSum || !sum.Verified {
		t.Errorf("ichksum -K big.bin: %s (verified %v); the local file has %s", sum.Checksum, sum.Verified, wantSum)
	}
	if got := vaultBytes(t, vaultDir); got != size {
		t.Errorf("the vault holds %d bytes for home/rods; want the %d of big.bin alone", got, int64(size))
	}
	t.Logf("done in %s", time.Since(start).Round(time.Millisecond))
}

// writeBigFile writes a file of size bytes, random at the head and the tail
// and sparse (zero) between, and returns its checksum as Arca writes it:
// "sha2:" and the SHA-256 in base64.
func writeBigFile(t *testing.T, path string, size int64) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{7})
	const head, tailLen = 64 << 20, 1 << 20
	if _, err := io.CopyN(f, rng, head); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(size-tailLen, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rng, tailLen); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	if n != size {
		t.Fatalf("%s has %d bytes, want %d", path, n, size)
	}
	return "sha2:" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// vaultBytes is the total size of the regular files below dir, 0 if there
// is no dir yet.
func vaultBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSecondSignalStopsAtOnce sends SIGTERM to a real "arca server" while
// a download is held up by its reader, so that the server drains, and then
// SIGTERM again: the second one ends the process at once, for an operator
// who will not wait for the grace period.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin, data, work, cli := processSetup(t, tmp)
	writeBigFile(t, filepath.Join(work, "big.bin"), 64<<20)
	srv := startServer(t, bin, data, "127.0.0.1:0")
	cli.mustRun("iinit", "--host", "127.0.0.1", "--port", srv.port, "--ca", filepath.Join(data, "tls", "ca.pem"))
	cli.mustRun("iput", "big.bin")

	// iget to a pipe that nobody reads: once the pipe and the connection's
	// buffers are full, the server's Get waits, in flight.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	iget := exec.Command(bin, "iget", "big.bin", "-")
	iget.Dir, iget.Env, iget.Stdout = work, cli.env, w
	if err := iget.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer func() { iget.Process.Kill(); iget.Wait() }()
	time.Sleep(2 * time.Second)

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.done:
		t.Fatalf("the server stopped at the first SIGTERM: the download was not in flight, the test proves nothing\n%s", tail(srv.log(), 10))
	case <-time.After(time.Second):
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("the server still runs 5s after a second SIGTERM\n%s", tail(srv.log(), 10))
	}
	if ws, ok := srv.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("the server ended with %v; want killed by the second SIGTERM", srv.cmd.ProcessState)
	}
}
