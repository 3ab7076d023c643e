package icommands

import (
	"encoding/json"
	"os"
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
