package nocache_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/arca-data/arca/internal/nocache"
)

func data(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(b)
	return b
}

// TestRoundTrip writes and reads files around the window sizes, in writes of
// odd sizes, and from offsets: what comes back is what went in.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name        string
		size, chunk int
		readFrom    int64
	}{
		{"empty", 0, 1, 0},
		{"small", 100, 7, 0},
		{"one window", nocache.Window, 1 << 20, 0},
		{"windows and a bit", 3*nocache.Window + 12345, 1<<20 + 3, 0},
		{"dropped on read", nocache.MinDropSize + 5*nocache.Window + 1, 333333, 0},
		{"read from an offset", nocache.MinDropSize + 3*nocache.Window, 1 << 20, nocache.Window + 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := data(tc.size)
			path := filepath.Join(t.TempDir(), "f")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w := nocache.NewWriter(f)
			for rest := want; len(rest) > 0; {
				n := min(tc.chunk, len(rest))
				if m, err := w.Write(rest[:n]); err != nil || m != n {
					t.Fatalf("Write = %d, %v; want %d", m, err, n)
				}
				rest = rest[n:]
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}

			f, err = os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(tc.readFrom, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			r := nocache.NewReader(f, tc.readFrom, int64(tc.size))
			defer r.Close()
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want[tc.readFrom:]) {
				t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(want[tc.readFrom:]))
			}
		})
	}
}

// TestWriteError passes the file's error through.
func TestWriteError(t *testing.T) {
	f, err := os.Open(os.DevNull) // read-only
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := nocache.NewWriter(f).Write([]byte("x")); err == nil {
		t.Fatal("writing a read-only file succeeded")
	}
}
