package icommands

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestIrsyncResumes: irsync -r of a tree is interrupted after three files;
// run again, it sends only what is missing, and then only what differs
// (a checksum with the same size, a size), local -> zone, zone -> local and
// zone -> zone; -l sends nothing; --json says what it did to each file.
func TestIrsyncResumes(t *testing.T) {
	s := newSession(t)
	tree := s.local("tree")
	for i := range 10 {
		dir := tree
		if i >= 5 {
			dir = filepath.Join(tree, "sub")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.txt", i)), []byte(fmt.Sprintf("file %d\n", i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	type line struct{ Source, Target, Action, Reason string }
	actions := func(out string) map[string]int {
		t.Helper()
		n := map[string]int{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			var x line
			if err := json.Unmarshal([]byte(l), &x); err != nil {
				t.Fatalf("not a JSON line: %q: %v", l, err)
			}
			n[x.Action]++
			if x.Reason != "" {
				n[x.Action+":"+x.Reason]++
			}
		}
		return n
	}

	// Interrupted after three files.
	ctx, cancel := context.WithCancel(context.Background())
	var sent atomic.Int32
	irsyncSent = func() {
		if sent.Add(1) == 3 {
			cancel()
		}
	}
	r := s.runCtx(t, ctx, "irsync", "-r", "-N", "1", "--json", tree, "i:coll")
	irsyncSent = nil
	cancel()
	if r.code == 0 || actions(r.out)["sent"] != 3 {
		t.Fatalf("interrupted irsync: exit %d, stdout %s, stderr %s", r.code, r.out, r.err)
	}
	// Resumed: what is missing goes, the three there do not. (The fourth,
	// in flight when the client gave up, may have been committed: then it
	// is there too.)
	n := actions(s.must(t, "irsync", "-r", "--json", tree, "i:coll"))
	if n["sent"]+n["unchanged"] != 10 || n["sent"] != n["sent:missing"] || n["unchanged"] < 3 || n["sent"] < 6 {
		t.Fatalf("resumed irsync: %v", n)
	}
	if n := actions(s.must(t, "irsync", "-r", "--json", tree, "i:coll")); n["sent"] != 0 || n["unchanged"] != 10 {
		t.Fatalf("irsync of what is in sync: %v", n)
	}

	// Same size, other bytes: found by checksum (not with -s); another size.
	if err := os.WriteFile(filepath.Join(tree, "f1.txt"), []byte("FILE 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "sub", "f7.txt"), []byte("file seven, longer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := actions(s.must(t, "irsync", "-r", "-s", "-l", "--json", tree, "i:coll")); n["would_send"] != 1 || n["would_send:size"] != 1 {
		t.Errorf("irsync -s -l: %v", n)
	}
	if out := s.must(t, "irsync", "-r", "-l", tree, "i:coll"); strings.Count(out, "\n") != 2 || !strings.Contains(out, "checksum") {
		t.Errorf("irsync -l:\n%s", out)
	}
	n = actions(s.must(t, "irsync", "-r", "--json", tree, "i:coll"))
	if n["sent"] != 2 || n["sent:checksum"] != 1 || n["sent:size"] != 1 {
		t.Errorf("irsync after two changes: %v", n)
	}
	if got := s.must(t, "iget", "coll/f1.txt", "-"); got != "FILE 1\n" {
		t.Errorf("coll/f1.txt: %q", got)
	}

	// Zone -> local, and a change in the zone.
	back := s.local("back")
	if n := actions(s.must(t, "irsync", "-r", "--json", "i:coll", back)); n["sent"] != 10 {
		t.Errorf("zone -> local: %v", n)
	}
	sameTree(t, tree, back)
	if err := os.WriteFile(s.local("new.txt"), []byte("changed in the zone\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.must(t, "iput", "-f", s.local("new.txt"), "coll/sub/f6.txt")
	if n := actions(s.must(t, "irsync", "-r", "--json", "i:coll", back)); n["sent"] != 1 || n["sent:size"] != 1 {
		t.Errorf("zone -> local after a change: %v", n)
	}
	if got, _ := os.ReadFile(filepath.Join(back, "sub", "f6.txt")); string(got) != "changed in the zone\n" {
		t.Errorf("back/sub/f6.txt: %q", got)
	}

	// Zone -> zone.
	if n := actions(s.must(t, "irsync", "-r", "--json", "i:coll", "i:coll2")); n["sent"] != 10 {
		t.Errorf("zone -> zone: %v", n)
	}
	if n := actions(s.must(t, "irsync", "-r", "--json", "i:coll", "i:coll2")); n["sent"] != 0 || n["unchanged"] != 10 {
		t.Errorf("zone -> zone again: %v", n)
	}
	// One file into a collection, under its name.
	s.must(t, "irsync", s.local("new.txt"), "i:coll2")
	if got := s.must(t, "iget", "coll2/new.txt", "-"); got != "changed in the zone\n" {
		t.Errorf("coll2/new.txt: %q", got)
	}

	// Usage errors.
	for _, args := range [][]string{
		{"irsync", tree, back},             // both local
		{"irsync", tree, "i:coll3"},        // a directory without -r
		{"irsync", "i:coll", "i:nowhere/"}, // a collection without -r
		{"irsync", "tree"},                 // no target
	} {
		if r := s.run(t, args...); r.code != ExitUsage {
			t.Errorf("%s: exit %d, %s", strings.Join(args, " "), r.code, r.err)
		}
	}
	if r := s.run(t, "irsync", s.local("nothing"), "i:coll"); r.code != ExitNotFound {
		t.Errorf("irsync of nothing: exit %d", r.code)
	}
}

// runCtx is run with ctx.
func (s *session) runCtx(t testing.TB, ctx context.Context, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	streams := &Streams{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return s.env[k] }}
	for _, c := range Commands(streams) {
		if c.Name() == args[0] {
			code := Run(ctx, c, args[1:], streams)
			return result{out.String(), errb.String(), code}
		}
	}
	t.Fatalf("no command %s", args[0])
	return result{}
}

// sameTree checks that the regular files below a and b are the same.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	files := func(root string) map[string]string {
		m := map[string]string{}
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				data, _ := os.ReadFile(p)
				m[rel] = string(data)
			}
			return nil
		})
		return m
	}
	fa, fb := files(a), files(b)
	if len(fa) != len(fb) {
		t.Errorf("%s has %d files, %s %d", a, len(fa), b, len(fb))
	}
	for k, v := range fa {
		if fb[k] != v {
			t.Errorf("%s: %q in %s, %q in %s", k, v, a, fb[k], b)
		}
	}
}
