package posix_test

// The benchmarks write to a temporary directory, or under $ARCA_BENCH_DIR
// when it is set: point it at the file system you want to measure (the
// default temporary directory may be a tmpfs).
//
//	go test ./resources/posix -run '^$' -bench Write -benchtime 2048x   # 2 GiB of large writes
//	ARCA_BENCH_DIR=/srv/vault go test ./resources/posix -run '^$' -bench Small -benchtime 3s

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/posix"
	"github.com/arca-data/arca/resources/resourcetest"
)

func benchDir(b *testing.B) string {
	b.Helper()
	base := os.Getenv("ARCA_BENCH_DIR")
	if base == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(base, "arca-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func benchVault(b *testing.B) *posix.Resource {
	b.Helper()
	r, err := posix.Open(filepath.Join(benchDir(b), "vault"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

const (
	chunkSize    = 1 << 20
	bigFileSize  = 256 << 20
	chunksInFile = bigFileSize / chunkSize
)

// BenchmarkWrite writes b.N chunks of 1 MiB as files of 256 MiB: Create,
// Write, Commit (fsync). "os" is the floor: the same writes and fsync on a
// plain *os.File, without hashing.
func BenchmarkWrite(b *testing.B) {
	chunk := resourcetest.Data(1, chunkSize)
	b.Run("arca", func(b *testing.B) {
		r := benchVault(b)
		ctx := b.Context()
		b.SetBytes(chunkSize)
		b.ResetTimer()
		var w resources.Writer
		file := 0
		for i := range b.N {
			if w == nil {
				var err error
				if w, err = r.Create(ctx, fmt.Sprintf("big/%d", file)); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
			if (i+1)%chunksInFile == 0 || i == b.N-1 {
				if _, err := w.Commit(); err != nil {
					b.Fatal(err)
				}
				w = nil
				b.StopTimer()
				if err := r.Remove(ctx, fmt.Sprintf("big/%d", file)); err != nil {
					b.Fatal(err)
				}
				file++
				b.StartTimer()
			}
		}
	})
	b.Run("os", func(b *testing.B) {
		dir := benchDir(b)
		b.SetBytes(chunkSize)
		b.ResetTimer()
		var f *os.File
		for i := range b.N {
			if f == nil {
				var err error
				if f, err = os.OpenFile(filepath.Join(dir, "big"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := f.Write(chunk); err != nil {
				b.Fatal(err)
			}
			if (i+1)%chunksInFile == 0 || i == b.N-1 {
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				if err := f.Close(); err != nil {
					b.Fatal(err)
				}
				f = nil
				b.StopTimer()
				os.Remove(filepath.Join(dir, "big"))
				b.StartTimer()
			}
		}
	})
}

// BenchmarkSmallFile creates, writes and commits files of 4 KiB: the cost of
// the fsyncs per small file. "same-dir" puts them all in one directory (one
// file and one directory fsync each); "new-dir" gives each a new directory
// (one more directory fsync). For comparison, "os-fsync" fsyncs the file but
// not its directory, and "os-nosync" is os.WriteFile with no fsync at all.
func BenchmarkSmallFile(b *testing.B) {
	data := resourcetest.Data(2, 4<<10)
	for _, bc := range []struct {
		name string
		key  func(i int) string
	}{
		{"same-dir", func(i int) string { return fmt.Sprintf("small/%d", i) }},
		{"new-dir", func(i int) string { return fmt.Sprintf("small/%d/f", i) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := benchVault(b)
			ctx := b.Context()
			b.SetBytes(int64(len(data)))
			for i := 0; b.Loop(); i++ {
				w, err := r.Create(ctx, bc.key(i))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.Write(data); err != nil {
					b.Fatal(err)
				}
				if _, err := w.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
	b.Run("os-fsync", func(b *testing.B) {
		dir := benchDir(b)
		b.SetBytes(int64(len(data)))
		for i := 0; b.Loop(); i++ {
			f, err := os.OpenFile(filepath.Join(dir, fmt.Sprint(i)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.Write(data); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
	})
	b.Run("os-nosync", func(b *testing.B) {
		dir := benchDir(b)
		b.SetBytes(int64(len(data)))
		for i := 0; b.Loop(); i++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), data, 0o600); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
	})
}

// BenchmarkRead measures Open and Checksum of a 256 MiB file (from the page
// cache, after the first round).
func BenchmarkRead(b *testing.B) {
	r := benchVault(b)
	ctx := b.Context()
	w, err := r.Create(ctx, "big")
	if err != nil {
		b.Fatal(err)
	}
	chunk := resourcetest.Data(3, chunkSize)
	for range chunksInFile {
		if _, err := w.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Commit(); err != nil {
		b.Fatal(err)
	}
	b.Run("Open", func(b *testing.B) {
		b.SetBytes(bigFileSize)
		for b.Loop() {
			rc, err := r.Open(ctx, "big", 0)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, rc); err != nil {
				b.Fatal(err)
			}
			rc.Close()
		}
	})
	b.Run("Checksum", func(b *testing.B) {
		b.SetBytes(bigFileSize)
		for b.Loop() {
			if _, err := r.Checksum(ctx, "big"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
