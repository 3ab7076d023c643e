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
