package icommands

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arca-data/arca/resources"
)

// TestIgetJSONChecksum checks that iget --json prints the checksum of the
// bytes it received, not the catalog's, and so keeps no file whose bytes
// differ from the catalog's checksum (issue 23 item 4: a corrupt replica
// came with the catalog's checksum and exit 0).
func TestIgetJSONChecksum(t *testing.T) {
	s := newSession(t)
	for _, name := range []string{"good.txt", "bad.txt"} {
		if err := os.WriteFile(s.local(name), []byte("the right bytes\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s.must(t, "iput", s.local(name))
	}
	var e struct {
		Replicas []struct {
			PhysicalPath string `json:"physical_path"`
		}
	}
	if err := json.Unmarshal([]byte(s.must(t, "ils", "--json", "-L", "bad.txt")), &e); err != nil || len(e.Replicas) != 1 {
		t.Fatalf("ils -L: %v %+v", err, e)
	}
	if err := os.WriteFile(e.Replicas[0].PhysicalPath, []byte("the WRONG bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := resources.NewHash()
	h.Write([]byte("the right bytes\n"))
	want := resources.FormatChecksum(h.Sum(nil))

	var got struct{ Checksum string }
	if err := json.Unmarshal([]byte(s.must(t, "iget", "--json", "good.txt", s.local("good.out"))), &got); err != nil || got.Checksum != want {
		t.Errorf("good.txt: checksum %q (%v), want %q", got.Checksum, err, want)
	}
	r := s.run(t, "iget", "--json", "bad.txt", s.local("bad.out"))
	if r.code != 1 || !strings.Contains(r.err, "checksum mismatch") || r.out != "" {
		t.Errorf("corrupt replica: exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err)
	}
	if _, err := os.Stat(s.local("bad.out")); err == nil {
		t.Error("the corrupt bytes were kept")
	}
}

// TestCorruptReplicaNotServed: a replica whose bytes went bad is found by
// ichksum -K, which marks it stale at once, so a plain iget reads the good
// one; and iget -K, which finds a bad replica itself, falls back to a good
// one before it fails.
func TestCorruptReplicaNotServed(t *testing.T) {
	s := newSession(t)
	second := filepath.Join(s.dir, "second")
	s.must(t, "iadmin", "mkresc", "second", "posix", second)
	right := []byte("the right bytes\n")
	for _, name := range []string{"a.txt", "b.txt"} {
		if err := os.WriteFile(s.local(name), right, 0o600); err != nil {
			t.Fatal(err)
		}
		s.must(t, "iput", s.local(name))
		s.must(t, "irepl", "-R", "second", name)
	}
	corrupt := func(name string) {
		var e struct {
			Replicas []struct {
				Resource     string `json:"resource"`
				PhysicalPath string `json:"physical_path"`
			}
		}
		if err := json.Unmarshal([]byte(s.must(t, "ils", "--json", "-L", name)), &e); err != nil || len(e.Replicas) != 2 {
			t.Fatalf("ils -L %s: %v %+v", name, err, e)
		}
		for _, r := range e.Replicas {
			if r.Resource == "demoResc" { // the replica a get reads first
				if err := os.WriteFile(r.PhysicalPath, []byte("the WRONG bytes\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	corrupt("a.txt")
	if r := s.run(t, "ichksum", "-K", "a.txt"); r.code != 1 || !strings.Contains(r.err, "marked stale") {
		t.Fatalf("ichksum -K of a corrupt replica: exit %d, stderr %s", r.code, r.err)
	}
	s.must(t, "iget", "a.txt", s.local("a.out"))
	if got, _ := os.ReadFile(s.local("a.out")); !bytes.Equal(got, right) {
		t.Errorf("iget after ichksum -K found the corrupt replica: got %q", got)
	}
	if out := s.must(t, "ils", "-L", "a.txt"); !strings.Contains(out, " X ") {
		t.Errorf("the corrupt replica is not shown stale:\n%s", out)
	}

	corrupt("b.txt")
	s.must(t, "iget", "-K", "b.txt", s.local("b.out"))
	if got, _ := os.ReadFile(s.local("b.out")); !bytes.Equal(got, right) {
		t.Errorf("iget -K kept %q", got)
	}
}

// TestIgetChoosesReplica: iget -n REPL and -R RESC read that replica and no
// other, as in iRODS; replica 0 can be asked for (numbers start at 0, which
// the protocol once read as "the best one"); a stale replica is read only
// when chosen, and iget says so; a missing one is not found.
func TestIgetChoosesReplica(t *testing.T) {
	s := newSession(t)
	s.must(t, "iadmin", "mkresc", "second", "posix", filepath.Join(s.dir, "second"))
	old, cur := []byte("old bytes\n"), []byte("the current bytes\n")
	if err := os.WriteFile(s.local("old.txt"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.local("cur.txt"), cur, 0o600); err != nil {
		t.Fatal(err)
	}
	// Replica 0 on demoResc and 1 on second; then replica 1 alone is
	// overwritten: 0 is stale, 1 good.
	s.must(t, "iput", s.local("old.txt"), "x.txt")
	s.must(t, "irepl", "-R", "second", "x.txt")
	s.must(t, "iput", "-f", "-R", "second", s.local("cur.txt"), "x.txt")
	if out := s.must(t, "ils", "-l", "x.txt"); !strings.Contains(out, " 0 demoResc") || !strings.Contains(out, " X ") {
		t.Fatalf("setup: %s", out)
	}

	get := func(args ...string) (result, []byte) {
		t.Helper()
		dst := s.local("got")
		os.Remove(dst)
		r := s.run(t, append(append([]string{"iget"}, args...), "x.txt", dst)...)
		got, _ := os.ReadFile(dst)
		return r, got
	}
	if r, got := get(); r.code != 0 || !bytes.Equal(got, cur) {
		t.Errorf("iget: exit %d %q %s", r.code, got, r.err)
	}
	r, got := get("-n", "0")
	if r.code != 0 || !bytes.Equal(got, old) || !strings.Contains(r.err, "replica 0 on demoResc is stale") {
		t.Errorf("iget -n 0: exit %d %q, stderr %q", r.code, got, r.err)
	}
	if r, got := get("-n", "1"); r.code != 0 || !bytes.Equal(got, cur) || r.err != "" {
		t.Errorf("iget -n 1: exit %d %q, stderr %q", r.code, got, r.err)
	}
	if r, got := get("-R", "demoResc"); r.code != 0 || !bytes.Equal(got, old) {
		t.Errorf("iget -R demoResc: exit %d %q", r.code, got)
	}
	if r, got := get("-R", "second", "-K"); r.code != 0 || !bytes.Equal(got, cur) {
		t.Errorf("iget -R second -K: exit %d %q %s", r.code, got, r.err)
	}
	if r, _ := get("-n", "7"); r.code != ExitNotFound || !strings.Contains(r.err, "has no replica 7") || strings.Count(r.err, "x.txt") != 1 {
		t.Errorf("iget -n 7: exit %d, stderr %q", r.code, r.err)
	}
	if r, _ := get("-n", "1", "-R", "demoResc"); r.code != ExitNotFound {
		t.Errorf("iget -n 1 -R demoResc: exit %d, stderr %q", r.code, r.err)
	}
	if r, _ := get("-R", "nowhere"); r.code != ExitNotFound {
		t.Errorf("iget -R nowhere: exit %d, stderr %q", r.code, r.err)
	}
	if r, _ := get("-n", "-1"); r.code != ExitUsage {
		t.Errorf("iget -n -1: exit %d", r.code)
	}
	var j struct {
		Replica  int
		Resource string
		Status   string
	}
	os.Remove(s.local("got"))
	if err := json.Unmarshal([]byte(s.must(t, "iget", "--json", "-n", "0", "x.txt", s.local("got"))), &j); err != nil ||
		j.Replica != 0 || j.Resource != "demoResc" || j.Status != "stale" {
		t.Errorf("iget --json -n 0: %v %+v", err, j)
	}
	// To standard output too.
	if out := s.must(t, "iget", "-n", "0", "x.txt", "-"); out != string(old) {
		t.Errorf("iget -n 0 x.txt -: %q", out)
	}
}
