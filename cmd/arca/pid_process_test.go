package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/arca-data/arca/icommands"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testzone"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/policies/pid"
	"github.com/arca-data/arca/policies/pid/pidtest"
)

var resolverLine = regexp.MustCompile(`PID resolver for \S+ at (https://127\.0\.0\.1:\d+)/api/handles/`)

// startServerLines is startServerWith, also returning the lines the
// server printed before it served (the PID resolver's address).
func startServerLines(t *testing.T, bin, data string, flags ...string) (*serverProc, []string) {
	t.Helper()
	s := &serverProc{t: t, done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"server", "--data", data, "--addr", "127.0.0.1:0", "--lease", "2s"}, flags...)...)
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
	var seen []string
	timeout := time.After(90 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("arca server exited before serving:\n%s", s.log())
			}
			seen = append(seen, line)
			if m := servingLine.FindStringSubmatch(line); m != nil {
				s.addr, s.port = m[1], m[2]
				go func() {
					for range lines {
					}
				}()
				return s, seen
			}
		case <-timeout:
			t.Fatalf("arca server did not say it serves within 90s:\n%s", s.log())
		}
	}
}

func resolverOf(t *testing.T, lines []string) string {
	t.Helper()
	for _, l := range lines {
		if m := resolverLine.FindStringSubmatch(l); m != nil {
			return m[1]
		}
	}
	t.Fatalf("the server names no PID resolver:\n%s", strings.Join(lines, "\n"))
	return ""
}

// TestHandleServiceProcess: zone A keeps its PIDs with a Handle service,
// zone B, a second "arca server" process serving its own registry over
// the Handle REST API. The Handle REST client passes the providers'
// conformance suite against B; A's PIDs are minted at B, follow A's data
// there, and resolve there (the record, and the redirect to A's landing
// page).
func TestHandleServiceProcess(t *testing.T) {
	dir := t.TempDir()
	bin := buildArca(t, dir)
	dataB := filepath.Join(dir, "b")
	_, lines := startServerLines(t, bin, dataB, "--pid-prefix", pidtest.Prefix, "--http", "127.0.0.1:0")
	resolverB := resolverOf(t, lines)
	caB := filepath.Join(dataB, "tls", "ca.pem")
	clientTLS, err := tlsca.ClientTLS(caB, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Conformance", func(t *testing.T) {
		pidtest.Run(t, func(t *testing.T) pid.Provider {
			c, err := pid.NewRESTClient(pid.RESTConfig{URL: resolverB, Prefix: pidtest.Prefix, User: "300:" + pidtest.Prefix + "/rods",
				Password: "crash-test-password", TLS: clientTLS.Clone()})
			if err != nil {
				t.Fatal(err)
			}
			return c
		})
	})

	// Zone A, configured in its arca.yaml to mint at B.
	dataA := filepath.Join(dir, "a")
	if err := os.MkdirAll(dataA, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dataA, "handle-password"), []byte("crash-test-password\n"), 0o600)
	conf := fmt.Sprintf(`pid:
  prefix: %s
  url: https://a.example.org
  handle_rest:
    url: %s
    user: "300:%s/rods"
    password_file: handle-password
    ca: %s
`, pidtest.Prefix, resolverB, pidtest.Prefix, caB)
	if err := os.WriteFile(filepath.Join(dataA, "arca.yaml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startServerWith(t, bin, dataA, "127.0.0.1:0")
	cli := &arcaCLI{t: t, bin: bin, dir: dir, env: append(os.Environ(), "ARCA_CONFIG_DIR="+filepath.Join(dir, "cfg"), "ARCA_PASSWORD=crash-test-password")}
	cli.mustRun("iinit", "--host", "127.0.0.1", "--port", a.port, "--ca", filepath.Join(dataA, "tls", "ca.pem"))
	os.WriteFile(filepath.Join(dir, "data.txt"), []byte("version one\n"), 0o644)
	cli.mustRun("iput", "data.txt")
	out := cli.mustRun("ipid", "mint", "--json", "data.txt")
	var minted struct{ PID, Path string }
	if err := json.Unmarshal([]byte(out), &minted); err != nil || !strings.HasPrefix(minted.PID, pidtest.Prefix+"/") {
		t.Fatalf("ipid mint: %q %v", out, err)
	}

	httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS.Clone()},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resolve := func() pid.Response {
		t.Helper()
		resp, err := httpc.Get(resolverB + "/api/handles/" + minted.PID)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r pid.Response
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.ResponseCode != 1 {
			t.Fatalf("B resolves %s: HTTP %d, %+v, %v", minted.PID, resp.StatusCode, r, err)
		}
		return r
	}
	value := func(r pid.Response, typ string) string {
		for _, v := range r.Values {
			if v.Type == typ {
				return v.String()
			}
		}
		return ""
	}
	r := resolve()
	if value(r, pid.TypeURL) != "https://a.example.org/landing/tempZone/home/rods/data.txt" || value(r, pid.TypeROR) != minted.PID ||
		!strings.HasPrefix(value(r, pid.TypeChecksum), "sha2:") {
		t.Errorf("the record at B: %+v", r.Values)
	}
	// A's ipid show asks B.
	if out := cli.mustRun("ipid", "show", minted.PID); !strings.Contains(out, "https://a.example.org/landing/tempZone/home/rods/data.txt") {
		t.Errorf("ipid show at A:\n%s", out)
	}
	// The record follows A's data: a new checksum, then the removal.
	sum := value(r, pid.TypeChecksum)
	os.WriteFile(filepath.Join(dir, "data.txt"), []byte("version two\n"), 0o644)
	cli.mustRun("iput", "-f", "data.txt")
	if got := value(resolve(), pid.TypeChecksum); got == sum || got == "" {
		t.Errorf("B's record after an overwrite at A: checksum %q, was %q", got, sum)
	}
	resp, err := httpc.Get(resolverB + "/" + minted.PID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://a.example.org/landing/tempZone/home/rods/data.txt" {
		t.Errorf("B's redirect: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cli.mustRun("irm", "-f", "data.txt")
	if st := value(resolve(), pid.TypeStatus); !strings.HasPrefix(st, "removed ") {
		t.Errorf("B's record after the removal at A: status %q", st)
	}
	// B never gives the handle out again, and refuses what is not a
	// handle of its prefix.
	for path, want := range map[string]int{
		minted.PID + "?type=ARCA/STATUS": 1, pidtest.Prefix + "/nothing": 100, "10.5555/x": 301, pidtest.Prefix + "/a%20b": 102,
	} {
		resp, err := httpc.Get(resolverB + "/api/handles/" + path)
		if err != nil {
			t.Fatal(err)
		}
		var r pid.Response
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if r.ResponseCode != want {
			t.Errorf("GET %s at B: responseCode %d, want %d", path, r.ResponseCode, want)
		}
	}
}

// runIcommand runs one icommand in this process with the configuration
// directory cfg, and returns its exit status and output.
func runIcommand(t *testing.T, cfg, password string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	s := &icommands.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(k string) string {
		switch k {
		case "ARCA_CONFIG_DIR":
			return cfg
		case "ARCA_PASSWORD":
			return password
		}
		return os.Getenv(k)
	}}
	for _, c := range icommands.Commands(s) {
		if c.Name() == args[0] {
			code := icommands.Run(context.Background(), c, args[1:], s)
			return code, out.String() + errOut.String()
		}
	}
	t.Fatalf("no icommand %s", args[0])
	return 0, ""
}

// TestProvenanceTamperDetected: whoever gets at the catalog's file and
// removes or edits a provenance record (past the triggers that refuse
// it) is found out by iprov verify.
func TestProvenanceTamperDetected(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "zone")
	z := testzone.StartZone(t, data, server.ServerConfig{})
	cfg := filepath.Join(dir, "cfg")
	run := func(want int, args ...string) string {
		t.Helper()
		code, out := runIcommand(t, cfg, testzone.AdminPassword, args...)
		if code != want {
			t.Fatalf("%s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
		}
		return out
	}
	run(0, "iinit", "--host", z.Host, "--port", z.Port, "--ca", z.CAFile)
	local := filepath.Join(dir, "f.txt")
	os.WriteFile(local, []byte("bytes\n"), 0o644)
	run(0, "iput", local, "f.txt")
	for _, v := range []string{"a", "b", "c"} {
		run(0, "imeta", "add", "-d", "f.txt", "step", v)
	}
	if out := run(0, "iprov", "verify", "f.txt"); !strings.Contains(out, "4 records in 1 chains checked, 0 problems") {
		t.Fatalf("verify before: %s", out)
	}
	z.Stop()

	tamper := func(stmts ...string) {
		t.Helper()
		db, err := sql.Open("sqlite", filepath.Join(data, "catalog.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	tamper(`DROP TRIGGER prov_records_append_only_delete`, `DELETE FROM prov_records WHERE subject_kind = 'object' AND seq = 2`)
	z = testzone.StartZone(t, data, server.ServerConfig{})
	run(0, "iinit", "--host", z.Host, "--port", z.Port, "--ca", z.CAFile)
	out := run(1, "iprov", "verify", "f.txt")
	if !strings.Contains(out, "BROKEN /tempZone/home/rods/f.txt, record 3: records 2 to 2 are missing (removed)") {
		t.Errorf("verify after a removal:\n%s", out)
	}
	z.Stop()

	tamper(`DROP TRIGGER prov_records_append_only_update`,
		`UPDATE prov_records SET doc = CAST(replace(CAST(doc AS TEXT), 'step=c', 'step=x') AS BLOB) WHERE subject_kind = 'object' AND seq = 4`)
	z = testzone.StartZone(t, data, server.ServerConfig{})
	run(0, "iinit", "--host", z.Host, "--port", z.Port, "--ca", z.CAFile)
	out = run(1, "iprov", "verify", "--json", "f.txt")
	if !strings.Contains(out, `"ok":false`) || !strings.Contains(out, "does not match its digest (edited)") {
		t.Errorf("verify after an edit:\n%s", out)
	}
}
