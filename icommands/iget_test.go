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
