// Package nocache streams large files through a few windows of the page
// cache instead of leaving them all there, like dd's oflag=nocache and
// iflag=nocache.
//
// A data server moves files that nobody is about to read again: keeping
// their pages evicts the catalog and the files that are hot, and lets dirty
// pages pile up until the kernel throttles every writer at once. Writing a
// window behind also lets the disk work while the network still delivers,
// so the final fsync has little left to flush. On virtual machines whose
// free memory goes back to the host, fresh pages are expensive too: a 1 GiB
// write that kept its pages cost 2 CPU-seconds of page faults in write(2),
// one that recycled a few windows 0.4.
//
// Everything here is advisory. Durability still comes from fsync: a Writer
// only starts writeback early.
package nocache

import (
	"io"
	"os"
)

// Window is how much data moves through the page cache at a time: the
// writeback of one window is started when it is full, and it is dropped when
// the next one is.
const Window = 8 << 20

// Writer writes a file sequentially, starting the writeback of each full
// window and dropping the window before it once it is on disk. Files smaller
// than a window are written as by the file itself.
type Writer struct {
	f       *os.File
	n       int64 // bytes written
	started int64 // writeback was started for [0, started)
	dropped int64 // [0, dropped) was written back and dropped
}

// NewWriter returns a Writer that appends to f from its current offset,
// which must be 0.
func NewWriter(f *os.File) *Writer {
	return &Writer{f: f}
}

// Write writes p to the file.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	if w.n-w.started >= Window {
		// The window before has had a window's time to reach the disk; wait
		// for what is left of it before starting the next, so that a disk
		// slower than the network slows the writer down instead of piling
		// up dirty pages.
		dropWritten(w.f, w.dropped, w.started-w.dropped)
		w.dropped = w.started
		startWriteback(w.f, w.started, w.n-w.started)
		w.started = w.n
	}
	return n, err
}

// Synced tells the Writer that the file was fsynced: all of it is on disk,
// and its pages, clean now, leave the page cache too. Many files smaller
// than a window then cycle through the same pages as one large file does.
func (w *Writer) Synced() {
	drop(w.f, w.dropped, w.n-w.dropped)
	w.dropped = w.n
}

// Reader reads a file sequentially and drops from the page cache the
// windows it has read. The pages of a file that another reader is reading
// at the same time may have to be read again; only files of at least
// MinDropSize are worth that.
type Reader struct {
	f       *os.File
	off     int64 // offset of the next byte read
	dropped int64 // drop-behind has reached here
}

// MinDropSize is the smallest file whose pages a Reader drops: smaller files
// are the ones worth keeping cached.
const MinDropSize = 4 * Window

// NewReader returns a reader of f from offset off, which must be f's current
// offset; size is the file's length. Only a file of at least MinDropSize
// has what it read dropped: a smaller one is f itself.
func NewReader(f *os.File, off, size int64) io.ReadCloser {
	if size < MinDropSize {
		return f
	}
	adviseSequential(f)
	return &Reader{f: f, off: off, dropped: off}
}

// Read reads from the file.
func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.off += int64(n)
	if r.off-r.dropped >= 2*Window {
		// Keep the last window: a reader that is slow to use its buffer
		// does not lose pages it is about to need.
		end := r.off - Window
		drop(r.f, r.dropped, end-r.dropped)
		r.dropped = end
	}
	return n, err
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }
