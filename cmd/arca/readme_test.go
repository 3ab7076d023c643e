package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The README's walk-through runs as written, in order: TestReadmeWalkthrough
// takes the shell blocks of README.md marked "<!-- walk-through -->" and runs
// them as one bash script (set -euo pipefail), on a fresh directory and HOME,
// in a network namespace of its own so that the server listens on port 1247
// as the README says, whatever else runs on this machine. Every indented
// block between "## A first walk-through" and "## Benchmarks" is either
// marked so or "<!-- not run: WHY -->" (rule files, YAML, need no mark): a
// new example cannot slip past the test.
//
// Two things differ from a reader's shell, and only these:
//   - "go build -o arca ./cmd/arca" copies this test binary to ./arca
//     instead, which is the same program (TestMain answers to "arca" and to
//     every icommand name, as the real binary does);
//   - after the line that starts the server in the background, the script
//     waits until it serves (a reader types slower than a script), and at
//     the end it stops it.

const (
	readmeWalkMark   = "<!-- walk-through -->"
	readmeNotRunMark = "<!-- not run:"
	readmeBuildLine  = "go build -o arca ./cmd/arca"
)

// readmeBlock is one indented code block of the README.
type readmeBlock struct {
	line  int // of its first line, 1-based
	mark  string
	lines []string
}

// readmeBlocks returns the indented code blocks of the README between the
// walk-through's heading and the benchmarks', with the mark that precedes
// each (the last HTML comment before it, if no text came between).
func readmeBlocks(r io.Reader) ([]readmeBlock, error) {
	var (
		blocks  []readmeBlock
		in      bool
		mark    string
		cur     *readmeBlock
		lineNo  int
		started bool
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## A first walk-through"):
			in, started = true, true
			continue
		case strings.HasPrefix(line, "## Benchmarks"):
			in = false
		}
		if !in {
			continue
		}
		if code, ok := strings.CutPrefix(line, "    "); ok && (cur != nil || strings.TrimSpace(code) != "") {
			if cur == nil {
				blocks = append(blocks, readmeBlock{line: lineNo, mark: mark})
				cur = &blocks[len(blocks)-1]
			}
			cur.lines = append(cur.lines, code)
			continue
		}
		if strings.TrimSpace(line) == "" {
			if cur != nil {
				cur.lines = append(cur.lines, "")
			}
			continue
		}
		cur = nil
		if strings.HasPrefix(line, "<!--") {
			mark = line
		} else {
			mark = ""
		}
	}
	if !started {
		return nil, fmt.Errorf("no \"## A first walk-through\" section")
	}
	return blocks, sc.Err()
}

// walkScript turns the marked blocks into the script TestReadmeWalkthrough
// runs, and checks that every block is marked.
func walkScript(blocks []readmeBlock) (string, error) {
	var b strings.Builder
	b.WriteString("set -euo pipefail\n")
	b.WriteString("trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n")
	built, served := false, false
	for _, blk := range blocks {
		first := strings.TrimSpace(blk.lines[0])
		switch {
		case strings.HasPrefix(blk.mark, readmeNotRunMark):
			continue
		case strings.HasPrefix(first, "rules:"), strings.HasPrefix(first, "tests:"):
			continue // a rule file, shown
		case blk.mark != readmeWalkMark:
			return "", fmt.Errorf("README.md:%d: a block with neither %q nor %q before it: %q", blk.line, readmeWalkMark, readmeNotRunMark+" WHY -->", first)
		}
		fmt.Fprintf(&b, "\n# README.md:%d\n", blk.line)
		for _, l := range blk.lines {
			switch t := strings.TrimSpace(l); {
			case t == readmeBuildLine:
				b.WriteString("cp \"$ARCA_README_BINARY\" arca  # " + l + "\n")
				built = true
				continue
			case strings.Contains(t, "arca server") && strings.HasSuffix(t, "&"):
				b.WriteString(l + "\n")
				b.WriteString(`for i in $(seq 600); do [ -e arca-data/tls/ca.pem ] && (exec 3<>/dev/tcp/127.0.0.1/1247) 2>/dev/null && break; sleep 0.1; done` + "\n")
				served = true
				continue
			}
			b.WriteString(l + "\n")
		}
	}
	if !built || !served {
		return "", fmt.Errorf("the walk-through neither builds (%q) nor starts a server in the background", readmeBuildLine)
	}
	return b.String(), nil
}

func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("the README's walk-through takes a minute")
	}
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks, err := readmeBlocks(f)
	if err != nil {
		t.Fatal(err)
	}
	script, err := walkScript(blocks)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(script, "\n# README.md:"); n < 10 {
		t.Fatalf("only %d blocks of the README's walk-through found: is the mark %q gone?", n, readmeWalkMark)
	}
	// A private network namespace, so that port 1247 is free.
	if err := exec.Command("unshare", "-rn", "true").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("unshare -rn (a user and network namespace) fails and CI=true: %v", err)
		}
		t.Skipf("unshare -rn (a user and network namespace) is not available here: %v", err)
	}

	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	// The walk-through runs in the checkout: what it reads of it is there.
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(examples, filepath.Join(dir, "examples")); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "walk.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "-rn", "bash", "-c", "ip link set lo up && exec bash -x walk.sh")
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "ARCA_README_BINARY=" + self, "LANG=C.UTF-8"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's walk-through failed: %v\n%s", err, lastLines(string(out), 120))
	}
	t.Logf("the README's walk-through ran (%d blocks)", strings.Count(script, "\n# README.md:"))
	if os.Getenv("ARCA_README_TRACE") != "" {
		t.Log(string(out))
	}
}

// lastLines is the end of s, n lines at most.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("(%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
