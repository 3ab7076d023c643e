package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/internal/testzone"
)

// rcloneBin finds rclone: ARCA_TEST_RCLONE, the build of
// `GOBIN=~/.cache/arca-tools/rclone-v1.76.0 go install github.com/rclone/rclone@v1.76.0`
// (the benchmark's pacer=0 needs its --webdav-pacer-min-sleep), or the
// rclone on PATH, Debian's, which .ci/services/06-clients.sh installs.
// Without any it skips, and fails in CI.
func rcloneBin(t testing.TB) string {
	if p := os.Getenv("ARCA_TEST_RCLONE"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "arca-tools", "rclone-v1.76.0", "rclone")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath("rclone"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("rclone not found: source .ci/services/06-clients.sh")
	}
	t.Skipf("rclone not found: source .ci/services/06-clients.sh, or GOBIN=%s go install github.com/rclone/rclone@v1.76.0 (or set ARCA_TEST_RCLONE)", filepath.Dir(p))
	return ""
}

// rcloneEnv configures the remote "arca" (webdav) for rods on e's /dav/.
func rcloneEnv(t testing.TB, e *env, bin string) []string {
	out, err := exec.Command(bin, "obscure", testzone.AdminPassword).Output()
	if err != nil {
		t.Fatalf("rclone obscure: %v", err)
	}
	return append(os.Environ(),
		"RCLONE_CONFIG=/dev/null",
		"RCLONE_CONFIG_ARCA_TYPE=webdav",
		"RCLONE_CONFIG_ARCA_URL="+e.base+"/dav/",
		"RCLONE_CONFIG_ARCA_VENDOR=other",
		"RCLONE_CONFIG_ARCA_USER=rods",
		"RCLONE_CONFIG_ARCA_PASS="+strings.TrimSpace(string(out)),
		"RCLONE_CA_CERT="+e.z.CAFile,
	)
}

func rclone(t testing.TB, bin string, env []string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// makeTree writes a tree of n files in nested directories, of sizes from
// 0 to about 300 KiB.
func makeTree(t testing.TB, dir string, n int) {
	for i := range n {
		sub := filepath.Join(dir, fmt.Sprintf("d%d", i%4), fmt.Sprintf("e%d", i%3))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		data := make([]byte, (i*7919)%(300<<10))
		rand.Read(data)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("file %03d.dat", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRcloneWebDAV: rclone's webdav backend lists, copies a tree both ways
// and checks it byte for byte (rclone check --download); a file a rule
// refuses is refused to rclone too.
func TestRcloneWebDAV(t *testing.T) {
	bin := rcloneBin(t)
	e := startEnv(t)
	env := rcloneEnv(t, e, bin)
	src := filepath.Join(t.TempDir(), "tree")
	makeTree(t, src, 60)
	remote := "arca:tempZone/home/rods/synced"

	if out, err := rclone(t, bin, env, "copy", src, remote); err != nil {
		t.Fatalf("rclone copy up: %v\n%s", err, out)
	}
	if out, err := rclone(t, bin, env, "check", "--download", src, remote); err != nil {
		t.Fatalf("rclone check: %v\n%s", err, out)
	}
	out, err := rclone(t, bin, env, "lsf", "-R", "--files-only", remote)
	if err != nil || strings.Count(out, "\n") != 60 {
		t.Errorf("rclone lsf: %v, %d lines\n%s", err, strings.Count(out, "\n"), out)
	}
	back := filepath.Join(t.TempDir(), "back")
	if out, err := rclone(t, bin, env, "copy", remote, back); err != nil {
		t.Fatalf("rclone copy down: %v\n%s", err, out)
	}
	if out, err := rclone(t, bin, env, "check", src, back); err != nil {
		t.Fatalf("rclone check of the copy down against the source: %v\n%s", err, out)
	}
	// A second sync changes nothing; a changed file is sent again.
	os.WriteFile(filepath.Join(src, "d0", "e0", "file 000.dat"), []byte("changed"), 0o644)
	if out, err := rclone(t, bin, env, "sync", src, remote); err != nil {
		t.Fatalf("rclone sync: %v\n%s", err, out)
	}
	if out, err := rclone(t, bin, env, "check", "--download", src, remote); err != nil {
		t.Fatalf("rclone check after sync: %v\n%s", err, out)
	}
	// The rule no-tmp-files refuses a temporary file through WebDAV as
	// through iput.
	tmp := filepath.Join(t.TempDir(), "draft.tmp")
	os.WriteFile(tmp, []byte("scratch"), 0o644)
	if out, err := rclone(t, bin, env, "copyto", "--retries", "1", "--low-level-retries", "1", tmp, remote+"/draft.tmp"); err == nil {
		t.Errorf("rclone copied a file the rule refuses:\n%s", out)
	} else if !strings.Contains(out, "403") {
		t.Errorf("rclone's error does not say 403:\n%s", out)
	}
}

// BenchmarkRcloneUpload1000 uploads 1,000 small files (1 KiB) with rclone's
// webdav backend in one run (--transfers 8); files/s is the issue's
// measure (at least 300):
//
//	go test ./zones/httpapi -run '^$' -bench RcloneUpload1000 -benchtime 3x
//
// rclone spaces the calls of a webdav remote at least pacer_min_sleep
// apart, all transfers together: 10 ms by default, at most 100 requests/s,
// whatever the server. pacer=10ms is rclone as it comes, pacer=0 with
// --webdav-pacer-min-sleep 0, where the server sets the pace.
// ARCA_RCLONE_DEBUG=FILE keeps rclone's log of the requests of a run.
func BenchmarkRcloneUpload1000(b *testing.B) {
	bin := rcloneBin(b)
	for _, bc := range []struct {
		name, minSleep string
	}{
		{"pacer=10ms", ""},
		{"pacer=0", "0"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := startEnv(b)
			env := rcloneEnv(b, e, bin)
			if bc.minSleep != "" {
				env = append(env, "RCLONE_CONFIG_ARCA_PACER_MIN_SLEEP="+bc.minSleep)
			}
			src := filepath.Join(b.TempDir(), "small")
			os.MkdirAll(src, 0o755)
			for i := range 1000 {
				data := make([]byte, 1024)
				rand.Read(data)
				os.WriteFile(filepath.Join(src, fmt.Sprintf("f%04d", i)), data, 0o644)
			}
			b.ResetTimer()
			var total time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				args := []string{"copy", "--transfers", "8", src, fmt.Sprintf("arca:tempZone/home/rods/small%d", i)}
				if os.Getenv("ARCA_RCLONE_DEBUG") != "" {
					args = append(args, "-vv", "--dump", "headers")
				}
				out, err := rclone(b, bin, env, args...)
				if os.Getenv("ARCA_RCLONE_DEBUG") != "" {
					os.WriteFile(os.Getenv("ARCA_RCLONE_DEBUG"), []byte(out), 0o644)
				}
				if err != nil {
					b.Fatalf("rclone copy: %v\n%s", err, out)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(1000*b.N)/total.Seconds(), "files/s")
		})
	}
}
