package rules

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

const twoRules = `rules:
  - name: retention
    on: [remove]
    deny: "'retained'"
  - name: no-tmp
    on: [put]
    condition: object.name.endsWith(".tmp")
    deny: "'no tmp'"
`

func TestReadSetDirs(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	write := func(dir, name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "r.yaml", twoRules)
	write(a, "r.test.yaml", "tests: []\n")
	write(a, ".swp.yaml", "x")
	write(a, "notes.txt", "x")
	write(b, "s.yml", "rules: []\n")
	files, err := ReadSetDirs(a, b, filepath.Join(a, "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || string(files["r.yaml"]) != twoRules || files["r.test.yaml"] == nil || files["s.yml"] == nil {
		t.Errorf("files %q", files)
	}
	write(b, "r.yaml", "rules: []\n")
	if _, err := ReadSetDirs(a, b); err == nil || !strings.Contains(err.Error(), "unique") {
		t.Errorf("two r.yaml: %v", err)
	}
}

// TestWatchPartialWrite: a rule file written in place, caught with only a
// valid prefix written (its first rule), loads nothing until its writer
// closes it; then the whole file loads once.
func TestWatchPartialWrite(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("telling a write in progress needs inotify")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(path, []byte(twoRules), 0o644); err != nil {
		t.Fatal(err)
	}
	te := newTestEngine(t, map[string]string{"r.yaml": twoRules})
	loads := make(chan map[string][]byte, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := te.Watch(ctx, func(files map[string][]byte) error {
		set, err := te.Compile(files)
		if err != nil {
			return err
		}
		te.Load(set)
		loads <- files
		return nil
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	prefix, rest := twoRules[:strings.Index(twoRules, "  - name: no-tmp")], twoRules[strings.Index(twoRules, "  - name: no-tmp"):]
	if _, err := f.WriteString(prefix); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-loads:
		t.Fatalf("loaded a file still being written: %q", got)
	case <-time.After(time.Second):
	}
	if len(te.Current().Rules) != 2 {
		t.Fatalf("rules in use: %d", len(te.Current().Rules))
	}
	if _, err := f.WriteString(rest); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// The file is what it was: nothing new to load.
	select {
	case got := <-loads:
		t.Fatalf("loaded unchanged files: %q", got)
	case <-time.After(500 * time.Millisecond):
	}

	// A change written whole loads, once.
	changed := twoRules + "  - name: third\n    on: [get]\n    deny: \"'no'\"\n"
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-loads:
		if string(got["r.yaml"]) != changed {
			t.Errorf("loaded %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a change written whole did not load")
	}
	if n := len(te.Current().Rules); n != 3 {
		t.Errorf("%d rules in use, want 3", n)
	}
	if te.Current().Digest != catalog.RuleSetDigest(map[string][]byte{"r.yaml": []byte(changed)}) {
		t.Errorf("digest %s", te.Current().Digest)
	}
}
