package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/arca-data/arca/icommands"
	"github.com/arca-data/arca/internal/bytesize"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/internal/testldap"
	"github.com/arca-data/arca/internal/testzone"
)

// TestMain makes the test binary answer to "arca" and to every icommand
// name, as the real binary does through install-links: scripts exec the
// real main, in a process of its own.
func TestMain(m *testing.M) {
	cmds := map[string]func(){"arca": main}
	for _, name := range icommands.Names() {
		cmds[name] = main
	}
	testscript.Main(m, cmds)
}

// TestScript runs testdata/script/*.txtar. Every script gets a zone of its
// own, served in this process from $WORK/zone, and these variables:
//
//	ARCA_HOST, ARCA_PORT, ARCA_CA   what iinit takes (--host, --port, --ca)
//	ARCA_DATA                       the zone's data directory
//	ARCA_ADMIN_PASSWORD             the password of rods
//	ARCA_CONFIG_DIR=$WORK/.arca, HOME=$WORK/home
func TestScript(t *testing.T) {
	testscript.Run(t, scriptParams("testdata/script", server.ServerConfig{}, nil))
}

// TestScriptLDAP runs testdata/ldap/*.txtar like TestScript, against a
// zone that logs users in with the test slapd (.ci/services/10-slapd.sh),
// with these variables besides:
//
//	LDAP_PASSWORD_<user>   the directory's password of alice, bob, carol, dave, rods
func TestScriptLDAP(t *testing.T) {
	d := testldap.Get(t)
	testscript.Run(t, scriptParams("testdata/ldap", server.ServerConfig{LDAP: ldapServerConfig(d)}, func(e *testscript.Env) {
		for user, pw := range d.Passwords {
			e.Setenv("LDAP_PASSWORD_"+user, pw)
		}
	}))
}

// scriptParams runs the scripts in dir, each against a zone of its own
// served with cfg; more, if set, adds to each script's environment.
func scriptParams(dir string, cfg server.ServerConfig, more func(*testscript.Env)) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			tb, ok := e.T().(testing.TB)
			if !ok {
				return fmt.Errorf("testscript gave a %T, not a testing.TB", e.T())
			}
			z := testzone.StartZone(tb, filepath.Join(e.WorkDir, "zone"), cfg)
			e.Defer(z.Stop)
			home := filepath.Join(e.WorkDir, "home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			e.Setenv("HOME", home)
			e.Setenv("ARCA_CONFIG_DIR", filepath.Join(e.WorkDir, ".arca"))
			e.Setenv("ARCA_HOST", z.Host)
			e.Setenv("ARCA_PORT", z.Port)
			e.Setenv("ARCA_CA", z.CAFile)
			e.Setenv("ARCA_DATA", z.DataDir)
			e.Setenv("ARCA_ADMIN_PASSWORD", testzone.AdminPassword)
			// The shipped policies' rule sets, as a steward loads them.
			policies, err := filepath.Abs(filepath.Join("..", "..", "policies"))
			if err != nil {
				return err
			}
			e.Setenv("POLICIES", policies)
			if more != nil {
				more(e)
			}
			return setupS3(e)
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "s3":
				// .ci/services/30-minio.sh; with CI=true it must be there.
				if os.Getenv("ARCA_TEST_S3") == "" && os.Getenv("CI") == "true" {
					return false, fmt.Errorf("ARCA_TEST_S3 is not set and CI=true: .ci/services/30-minio.sh did not start MinIO")
				}
				return os.Getenv("ARCA_TEST_S3") != "", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":  cmdExitcode,
			"repeat":    cmdRepeat,
			"jsonlines": cmdJSONLines,
			"cmptree":   cmdCmptree,
			"glob":      cmdGlob,
			"capture":   cmdCapture,
			"waitfor":   cmdWaitfor,
			"mkfile":    cmdMkfile,
		},
	}
}

// setupS3 gives scripts the test MinIO server, when there is one:
// S3_ENDPOINT, S3_BUCKET (new for every script) and $WORK/s3.auth with the
// access and secret keys on two lines, as iadmin mkresc wants them.
func setupS3(e *testscript.Env) error {
	endpoint := os.Getenv("ARCA_TEST_S3")
	if endpoint == "" {
		return nil
	}
	auth := os.Getenv("ARCA_TEST_S3_ACCESS_KEY") + "\n" + os.Getenv("ARCA_TEST_S3_SECRET_KEY") + "\n"
	if err := os.WriteFile(filepath.Join(e.WorkDir, "s3.auth"), []byte(auth), 0o600); err != nil {
		return err
	}
	e.Setenv("S3_ENDPOINT", endpoint)
	e.Setenv("S3_BUCKET", fmt.Sprintf("arca-script-%d", time.Now().UnixNano()))
	return nil
}

// exitcode N program [args...] runs program like exec and requires exit
// status N; stdout and stderr are kept for the next stdout/stderr checks.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// capture VAR sets VAR to the first line of the last command's stdout,
// such as the ticket string iticket create prints.
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: capture VAR")
	}
	line, _, _ := strings.Cut(ts.ReadFile("stdout"), "\n")
	if line == "" {
		ts.Fatalf("capture: stdout is empty")
	}
	ts.Setenv(args[0], line)
}

// waitfor SECONDS REGEXP program [args...] runs program until it exits 0
// with stdout matching REGEXP, for up to SECONDS: for what a server does in
// the background (reloading rules, running jobs). The last run's stdout and
// stderr are kept for the next checks.
func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: waitfor SECONDS REGEXP program [args...]")
	}
	secs, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("waitfor: %q is not a number of seconds", args[0])
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	for {
		err := ts.Exec(args[2], args[3:]...)
		if err == nil && re.MatchString(ts.ReadFile("stdout")) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfor: %s did not succeed with stdout matching %q within %ds (last: %v)", args[2], args[1], secs, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// repeat VAR N TEXT sets VAR to TEXT repeated N times.
func cmdRepeat(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: repeat VAR N TEXT")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("repeat: %q is not a number", args[1])
	}
	ts.Setenv(args[0], strings.Repeat(args[2], n))
}

// jsonlines [-count=N] [-from=stdout|stderr] KEY... requires the output
// (stdout by default) to be lines of JSON objects, each holding every KEY,
// and with -count exactly N of them.
func cmdJSONLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("jsonlines does not support !")
	}
	count, from := -1, "stdout"
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch k, v, _ := strings.Cut(args[0], "="); k {
		case "-count":
			n, err := strconv.Atoi(v)
			if err != nil {
				ts.Fatalf("jsonlines: bad %s", args[0])
			}
			count = n
		case "-from":
			from = v
		default:
			ts.Fatalf("jsonlines: unknown flag %s", args[0])
		}
		args = args[1:]
	}
	text := ts.ReadFile(from)
	if text != "" && !strings.HasSuffix(text, "\n") {
		ts.Fatalf("jsonlines: %s does not end in a newline", from)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	for i, line := range lines {
		var obj map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		if err := dec.Decode(&obj); err != nil {
			ts.Fatalf("jsonlines: %s line %d is not a JSON object: %v: %s", from, i+1, err, line)
		}
		if dec.More() {
			ts.Fatalf("jsonlines: %s line %d holds more than one JSON value: %s", from, i+1, line)
		}
		for _, k := range args {
			if _, ok := obj[k]; !ok {
				ts.Fatalf("jsonlines: %s line %d has no %q: %s", from, i+1, k, line)
			}
		}
	}
	if count >= 0 && len(lines) != count {
		ts.Fatalf("jsonlines: %s has %d lines, want %d", from, len(lines), count)
	}
}

// mkfile PATH SIZE writes a file of SIZE bytes (a number, or one that
// internal/bytesize reads, such as 4MiB+3 for 4 MiB and 3 bytes), whose
// contents depend on its path, so that two files of a tree never match by
// chance.
func cmdMkfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkfile PATH SIZE")
	}
	var size int64
	for _, part := range strings.Split(args[1], "+") {
		n, err := bytesize.Parse(part)
		if err != nil {
			ts.Fatalf("mkfile: %v", err)
		}
		size += n
	}
	seed := sha256.Sum256([]byte(args[0]))
	data := make([]byte, size)
	rand.NewChaCha8(seed).Read(data)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), data, 0o644))
}

// cmptree DIR1 DIR2 requires two local trees to hold the same directories
// and regular files with the same contents.
func cmdCmptree(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: cmptree DIR1 DIR2")
	}
	a, b := ts.MkAbs(args[0]), ts.MkAbs(args[1])
	ta, err := readTree(a)
	ts.Check(err)
	tb, err := readTree(b)
	ts.Check(err)
	diff := diffTrees(ta, tb)
	switch {
	case neg && diff == "":
		ts.Fatalf("%s and %s are the same", args[0], args[1])
	case !neg && diff != "":
		ts.Fatalf("%s and %s differ:\n%s", args[0], args[1], diff)
	}
}

// readTree maps the relative path of every directory (with a trailing /)
// and regular file (to its content) below dir.
func readTree(dir string) (map[string][]byte, error) {
	tree := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		switch {
		case d.IsDir():
			tree[filepath.ToSlash(rel)+"/"] = nil
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			tree[filepath.ToSlash(rel)] = b
		default:
			return fmt.Errorf("%s is neither a directory nor a regular file", path)
		}
		return nil
	})
	return tree, err
}

func diffTrees(a, b map[string][]byte) string {
	var out []string
	for k, va := range a {
		vb, ok := b[k]
		switch {
		case !ok:
			out = append(out, "only in the first: "+k)
		case !bytes.Equal(va, vb):
			out = append(out, fmt.Sprintf("content differs: %s (%d and %d bytes)", k, len(va), len(vb)))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "only in the second: "+k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// glob [-count=N] PATTERN requires local files to match PATTERN: with
// -count exactly N, otherwise at least one (with ! none).
func cmdGlob(ts *testscript.TestScript, neg bool, args []string) {
	count := -1
	if len(args) == 2 && strings.HasPrefix(args[0], "-count=") {
		n, err := strconv.Atoi(strings.TrimPrefix(args[0], "-count="))
		if err != nil || neg {
			ts.Fatalf("glob: bad %s", args[0])
		}
		count, args = n, args[1:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: glob [-count=N] PATTERN")
	}
	matches, err := filepath.Glob(ts.MkAbs(args[0]))
	ts.Check(err)
	switch {
	case count >= 0 && len(matches) != count:
		ts.Fatalf("%d files match %s, want %d: %q", len(matches), args[0], count, matches)
	case count < 0 && neg && len(matches) > 0:
		ts.Fatalf("files match %s: %q", args[0], matches)
	case count < 0 && !neg && len(matches) == 0:
		ts.Fatalf("no file matches %s", args[0])
	}
}
