package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
