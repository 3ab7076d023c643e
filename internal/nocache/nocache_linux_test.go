package nocache_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/arca-data/arca/internal/nocache"
)

// resident is how many bytes of f's first n are in the page cache.
func resident(t *testing.T, f *os.File, n int) int {
	t.Helper()
	m, err := unix.Mmap(int(f.Fd()), 0, n, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (n+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal("mincore:", errno)
	}
	in := 0
	for _, v := range vec {
		if v&1 != 0 {
			in += page
		}
	}
	return in
}

// TestPagesLeave checks the point of the package: a file written or read
// through it leaves at most a few windows in the page cache, where a plain
// write leaves all of it.
func TestPagesLeave(t *testing.T) {
	const size = 8 * nocache.Window
	buf := data(1 << 20)
	dir := t.TempDir()

	write := func(name string, wrap func(*os.File) io.Writer) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		w := wrap(f)
		for range size / len(buf) {
			if _, err := w.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		return f
	}

	plain := write("plain", func(f *os.File) io.Writer { return f })
	if got := resident(t, plain, size); got < size/2 {
		t.Skipf("a plain write left only %d of %d bytes cached: this file system or machine does not keep pages", got, size)
	}
	if err := unix.Fadvise(int(plain.Fd()), 0, size, unix.FADV_DONTNEED); err != nil || resident(t, plain, size) > size/2 {
		t.Skip("this file system does not drop pages on request")
	}

	through := write("through", func(f *os.File) io.Writer { return nocache.NewWriter(f) })
	if got := resident(t, through, size); got > 2*nocache.Window {
		t.Errorf("after writing %d bytes through a Writer, %d are cached; want at most 2 windows (%d)", size, got, 2*nocache.Window)
	}

	// A file smaller than a window leaves the cache once it is synced.
	small, err := os.Create(filepath.Join(dir, "small"))
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	sw := nocache.NewWriter(small)
	if _, err := sw.Write(buf); err != nil {
		t.Fatal(err)
	}
	if err := small.Sync(); err != nil {
		t.Fatal(err)
	}
	sw.Synced()
	if got := resident(t, small, len(buf)); got > 0 {
		t.Errorf("a synced file of %d bytes still has %d cached", len(buf), got)
	}

	// Read the plain file back through a Reader: it comes into the cache
	// and leaves it behind the reader.
	if _, err := plain.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	r := nocache.NewReader(plain, 0, size)
	if n, err := io.Copy(io.Discard, r); err != nil || n != size {
		t.Fatalf("read %d bytes, %v; want %d", n, err, size)
	}
	if got := resident(t, plain, size); got > 2*nocache.Window+nocache.Window {
		t.Errorf("after reading %d bytes through a Reader, %d are cached; want at most 3 windows", size, got)
	}
}
