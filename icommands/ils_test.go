package icommands

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestIlsLongEveryReplica: ils -l shows one line per replica, as iRODS
// does (replica number, resource, size, date, status mark), not only the
// newest; ils -d lists a collection itself.
func TestIlsLongEveryReplica(t *testing.T) {
	s := newSession(t)
	s.must(t, "iadmin", "mkresc", "second", "posix", filepath.Join(s.dir, "second"))
	if err := os.WriteFile(s.local("a.txt"), []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.must(t, "iput", s.local("a.txt"))
	s.must(t, "irepl", "-R", "second", "a.txt")
	// Overwriting replica 0 alone leaves replica 1 stale.
	if err := os.WriteFile(s.local("b.txt"), []byte("longer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.must(t, "iput", "-f", "-R", "demoResc", s.local("b.txt"), "a.txt")

	out := s.must(t, "ils", "-l", "a.txt")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^\s+rods\s+0 demoResc\s+7 \d{4}-\d\d-\d\d\.\d\d:\d\d & /tempZone/home/rods/a\.txt$`),
		regexp.MustCompile(`^\s+rods\s+1 second\s+4 \d{4}-\d\d-\d\d\.\d\d:\d\d X /tempZone/home/rods/a\.txt$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("ils -l: want a line per replica, got:\n%s", out)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("ils -l line %d: %q does not match %s", i, lines[i], re)
		}
	}
	// In a collection listing too.
	if out := s.must(t, "ils", "-l"); strings.Count(out, " a.txt\n") != 2 {
		t.Errorf("ils -l of the collection: want both replicas of a.txt:\n%s", out)
	}
	var e struct {
		Replicas []struct {
			Number int    `json:"number"`
			Status string `json:"status"`
		}
	}
	if err := json.Unmarshal([]byte(s.must(t, "ils", "--json", "a.txt")), &e); err != nil || len(e.Replicas) != 2 ||
		e.Replicas[0].Number != 0 || e.Replicas[1].Status != "stale" {
		t.Errorf("ils --json: %v %+v", err, e)
	}

	// A replica in a tree shows its hierarchy, root;leaf, as in iRODS.
	s.must(t, "iadmin", "mkresc", "rep", "replication")
	for _, leaf := range []string{"a", "b"} {
		s.must(t, "iadmin", "mkresc", leaf, "posix", filepath.Join(s.dir, leaf))
		s.must(t, "iadmin", "addchildtoresc", "rep", leaf)
	}
	s.must(t, "iput", "-R", "rep", s.local("a.txt"), "y.txt")
	out = s.must(t, "ils", "-l", "y.txt")
	if !regexp.MustCompile(`(?m)^\s+rods\s+0 rep;[ab] `).MatchString(out) || !strings.Contains(out, " rep;a ") || !strings.Contains(out, " rep;b ") {
		t.Errorf("ils -l of a replicated object:\n%s", out)
	}
	var h struct {
		Replicas []struct {
			Hierarchy    string `json:"hierarchy"`
			PhysicalPath string `json:"physical_path"`
		}
	}
	if err := json.Unmarshal([]byte(s.must(t, "ils", "--json", "y.txt")), &h); err != nil || len(h.Replicas) != 2 ||
		!strings.HasPrefix(h.Replicas[0].Hierarchy, "rep;") || h.Replicas[0].PhysicalPath != "" {
		t.Errorf("ils --json of a replicated object: %v %+v", err, h)
	}

	// ils -d: the collection itself, not its contents.
	out = s.must(t, "ils", "-d", "/tempZone/home/rods")
	if out != "  C- /tempZone/home/rods\n" {
		t.Errorf("ils -d: %q", out)
	}
	out = s.must(t, "ils", "-d", "-A", "/tempZone/home/rods")
	if !strings.Contains(out, "ACL - rods#tempZone:own") || strings.Contains(out, "a.txt") {
		t.Errorf("ils -d -A: %q", out)
	}
	var c struct{ Kind, Path string }
	if err := json.Unmarshal([]byte(s.must(t, "ils", "-d", "--json", ".")), &c); err != nil || c.Kind != "collection" || c.Path != "/tempZone/home/rods" {
		t.Errorf("ils -d --json: %v %+v", err, c)
	}
	if r := s.run(t, "ils", "-d", "-r", "."); r.code != ExitUsage {
		t.Errorf("ils -d -r: exit %d", r.code)
	}
	if r := s.run(t, "ils", "-d", "nothing"); r.code != ExitNotFound {
		t.Errorf("ils -d of nothing: exit %d", r.code)
	}
}
