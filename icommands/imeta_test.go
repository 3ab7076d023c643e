package icommands

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestImetaIRODSSubcommands: imeta cp, rmi (by the id ls -l shows), addw
// (a path pattern) and lsw (an attribute pattern), as in iRODS.
func TestImetaIRODSSubcommands(t *testing.T) {
	s := newSession(t)
	if err := os.WriteFile(s.local("f.txt"), []byte("bytes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.must(t, "imkdir", "run41", "run42", "other")
	for _, p := range []string{"run41/a.csv", "run42/b.csv", "run42/c.txt", "other/d.csv", "src.txt"} {
		s.must(t, "iput", s.local("f.txt"), p)
	}
	s.must(t, "imeta", "add", "-d", "src.txt", "project", "abc", "")
	s.must(t, "imeta", "add", "-d", "src.txt", "size", "12", "GB")
	s.must(t, "imeta", "add", "-d", "src.txt", "program", "x")

	// ls -l shows ids; rmi removes by one.
	out := s.must(t, "imeta", "ls", "-ld", "src.txt")
	ids := regexp.MustCompile(`(?m)^attribute: size\nvalue: 12\nunits: GB\nid: (\d+)$`).FindStringSubmatch(out)
	if ids == nil {
		t.Fatalf("imeta ls -ld shows no id:\n%s", out)
	}
	if plain := s.must(t, "imeta", "ls", "-d", "src.txt"); strings.Contains(plain, "id:") {
		t.Errorf("imeta ls without -l shows ids:\n%s", plain)
	}
	var avu struct {
		ID        uint64 `json:"id"`
		Attribute string `json:"attribute"`
	}
	if err := json.Unmarshal([]byte(s.must(t, "imeta", "ls", "--json", "-d", "src.txt", "size")), &avu); err != nil || avu.Attribute != "size" {
		t.Fatalf("imeta ls --json: %v %+v", err, avu)
	}
	if got := strings.TrimSpace(ids[1]); got != strings.TrimSpace(jsonNumber(avu.ID)) {
		t.Errorf("ls -l id %s, --json id %d", got, avu.ID)
	}
	if r := s.run(t, "imeta", "rmi", "-d", "src.txt", "12345"); r.code != ExitNotFound {
		t.Errorf("rmi of an id the object lacks: exit %d %s", r.code, r.err)
	}
	if r := s.run(t, "imeta", "rmi", "-d", "src.txt", "size"); r.code != ExitUsage {
		t.Errorf("rmi of a word: exit %d", r.code)
	}
	s.must(t, "imeta", "rmi", "-d", "src.txt", ids[1])
	if out := s.must(t, "imeta", "ls", "-d", "src.txt"); strings.Contains(out, "size") || !strings.Contains(out, "project") {
		t.Errorf("after rmi:\n%s", out)
	}

	// lsw: the attribute as a pattern.
	out = s.must(t, "imeta", "lsw", "-d", "src.txt", "pro%")
	if !strings.Contains(out, "project") || !strings.Contains(out, "program") {
		t.Errorf("lsw pro%%:\n%s", out)
	}
	if out := s.must(t, "imeta", "lsw", "-d", "src.txt", "proj%"); strings.Contains(out, "program") {
		t.Errorf("lsw proj%%:\n%s", out)
	}

	// cp: to a collection, and again (what it has stays, nothing doubles).
	s.must(t, "imeta", "cp", "-d", "-C", "src.txt", "run42")
	s.must(t, "imeta", "cp", "-d", "-C", "src.txt", "run42")
	if out := s.must(t, "imeta", "ls", "-C", "run42"); strings.Count(out, "attribute:") != 2 {
		t.Errorf("imeta cp -d -C:\n%s", out)
	}
	if r := s.run(t, "imeta", "cp", "-d", "src.txt", "run42"); r.code != ExitUsage {
		t.Errorf("cp with one kind: exit %d", r.code)
	}

	// addw: every data object whose path matches.
	out = s.must(t, "imeta", "addw", "-d", "run4%/%.csv", "checked", "yes")
	if !strings.Contains(out, "AVU added to 2 data-objects") {
		t.Errorf("addw: %q", out)
	}
	for p, want := range map[string]bool{"run41/a.csv": true, "run42/b.csv": true, "run42/c.txt": false, "other/d.csv": false} {
		if got := strings.Contains(s.must(t, "imeta", "ls", "-d", p), "checked"); got != want {
			t.Errorf("after addw, %s has the AVU: %v, want %v", p, got, want)
		}
	}
	if r := s.run(t, "imeta", "addw", "-d", "nothing%", "a", "b"); r.code != ExitNotFound {
		t.Errorf("addw matching nothing: exit %d", r.code)
	}
	if r := s.run(t, "imeta", "addw", "-C", "run%", "a", "b"); r.code != ExitUsage {
		t.Errorf("addw -C: exit %d", r.code)
	}
}

func jsonNumber(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
