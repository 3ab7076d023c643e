package certificate

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkVerifyData compares icert verify --data (SHA-256 and SHA-512
// in one read pass) with sha512sum alone over the same files, in the same
// run: the figure asked for is at least 80% of sha512sum's speed. It
// reports both rates and their ratio.
func BenchmarkVerifyData(b *testing.B) {
	sum, err := exec.LookPath("sha512sum")
	if err != nil {
		b.Skip("sha512sum is not on PATH (coreutils)")
	}
	dir := b.TempDir()
	const files, size = 8, 16 << 20
	buf := make([]byte, size)
	var entries []Entry
	var names []string
	for i := range files {
		if _, err := rand.Read(buf); err != nil {
			b.Fatal(err)
		}
		name := filepath.Join(dir, "f"+string(rune('a'+i)))
		if err := os.WriteFile(name, buf, 0o644); err != nil {
			b.Fatal(err)
		}
		names = append(names, name)
		entries = append(entries, entryOf("data/f"+string(rune('a'+i)), buf))
	}
	m512, _ := WriteManifest(ManifestSHA512, entries)
	m256, _ := WriteManifest(ManifestSHA256, entries)
	m, err := parseManifests(m512, m256)
	if err != nil {
		b.Fatal(err)
	}
	var ours, theirs time.Duration
	b.SetBytes(files * size)
	for b.Loop() {
		start := time.Now()
		r, err := VerifyData(context.Background(), m, dir, true)
		if err != nil || !r.OK() {
			b.Fatalf("%+v %v", r, err)
		}
		ours += time.Since(start)
		start = time.Now()
		if out, err := exec.Command(sum, names...).CombinedOutput(); err != nil {
			b.Fatalf("sha512sum: %v %s", err, out)
		}
		theirs += time.Since(start)
	}
	mb := float64(files*size) / (1 << 20)
	n := float64(b.N)
	b.ReportMetric(mb*n/ours.Seconds(), "verify-MB/s")
	b.ReportMetric(mb*n/theirs.Seconds(), "sha512sum-MB/s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "ratio")
}
