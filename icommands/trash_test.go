package icommands

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestIrmtrashAsIRODS: irmtrash PATH... (relative to the trash), -r for a
// collection, --age (minutes, as in iRODS, or a duration) keeps what is
// younger, -M -u USER empties another user's trash; irm --empty is accepted
// and still goes by way of the trash.
func TestIrmtrashAsIRODS(t *testing.T) {
	s := newSession(t)
	if err := os.WriteFile(s.local("f.txt"), []byte("bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	trash := "/tempZone/trash/home/rods"
	listTrash := func() string {
		t.Helper()
		return s.must(t, "ils", "-r", trash)
	}

	// --age: what was last modified long enough ago goes, with the
	// collections that leaves empty; what is younger stays.
	s.must(t, "imkdir", "old")
	s.must(t, "iput", s.local("f.txt"), "old/a.txt")
	s.must(t, "iput", s.local("f.txt"), "b.txt")
	time.Sleep(2500 * time.Millisecond)
	s.must(t, "imkdir", "mixed")
	s.must(t, "iput", s.local("f.txt"), "mixed/young.txt")
	s.must(t, "iput", s.local("f.txt"), "young.txt")
	s.must(t, "irm", "-r", "old", "mixed")
	s.must(t, "irm", "b.txt", "young.txt")
	s.must(t, "irmtrash", "--age", "60")
	if out := listTrash(); !strings.Contains(out, "a.txt") || !strings.Contains(out, "b.txt") {
		t.Fatalf("--age 60 (minutes) removed what is seconds old:\n%s", out)
	}
	s.must(t, "irmtrash", "--age", "2s")
	out := listTrash()
	for _, gone := range []string{"a.txt", "b.txt", trash + "/old"} {
		if strings.Contains(out, gone) {
			t.Errorf("irmtrash --age 2s left %s:\n%s", gone, out)
		}
	}
	for _, kept := range []string{"young.txt", trash + "/mixed"} {
		if !strings.Contains(out, kept) {
			t.Errorf("irmtrash --age 2s removed %s:\n%s", kept, out)
		}
	}

	// PATH, relative to the trash; a collection needs -r.
	if r := s.run(t, "irmtrash", "mixed"); r.code == 0 || !strings.Contains(r.err, "use -r") {
		t.Errorf("irmtrash of a collection without -r: exit %d, %s", r.code, r.err)
	}
	s.must(t, "irmtrash", "young.txt")
	s.must(t, "irmtrash", "-r", "mixed")
	if out := listTrash(); strings.Contains(out, "young.txt") || strings.Contains(out, "mixed") {
		t.Errorf("irmtrash PATH left:\n%s", out)
	}
	if r := s.run(t, "irmtrash", "nothing.txt"); r.code != ExitNotFound {
		t.Errorf("irmtrash of nothing: exit %d", r.code)
	}
	if r := s.run(t, "irmtrash", "/tempZone/home/rods/f.txt"); r.code == 0 || !strings.Contains(r.err, "not in a trash") {
		t.Errorf("irmtrash outside the trash: exit %d, %s", r.code, r.err)
	}
	for _, bad := range []string{"soon", "-5x", "1.5"} {
		if r := s.run(t, "irmtrash", "--age", bad); r.code != ExitUsage {
			t.Errorf("--age %s: exit %d", bad, r.code)
		}
	}

	// irm --empty: accepted, and the object goes to the trash as without it.
	s.must(t, "iput", s.local("f.txt"), "e.txt")
	s.must(t, "irm", "--empty", "e.txt")
	if out := listTrash(); !strings.Contains(out, "e.txt") {
		t.Errorf("irm --empty did not go by way of the trash:\n%s", out)
	}

	// Another user's trash: -M -u USER, for administrators.
	s.must(t, "iadmin", "mkuser", "alice", "rodsuser", "alice pw")
	alice, r := s.as(t, "alice", "alice pw")
	if r.code != 0 {
		t.Fatal(r.err)
	}
	alice.must(t, "iput", s.local("f.txt"), "hers.txt")
	alice.must(t, "irm", "hers.txt")
	if r := alice.run(t, "irmtrash", "-u", "rods"); r.code != ExitPermission {
		t.Errorf("alice empties rods's trash: exit %d", r.code)
	}
	s.must(t, "irmtrash", "-M", "-u", "alice", "hers.txt")
	if out := alice.must(t, "ils", "/tempZone/trash/home/alice"); strings.Contains(out, "hers.txt") {
		t.Errorf("irmtrash -M -u alice hers.txt left it:\n%s", out)
	}
	if out := listTrash(); !strings.Contains(out, "e.txt") {
		t.Errorf("irmtrash -M -u alice touched rods's trash:\n%s", out)
	}
}
