package tape

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/arca-data/arca/resources"
)

// writer spools a file, then appends it to a cartridge at Commit.
type writer struct {
	r     *Resource
	ctx   context.Context
	key   string
	f     *os.File
	spool string
	hash  hash.Hash
	size  int64
	done  bool
	err   error
}

var errFinished = errors.New("writer already committed or aborted")

func (w *writer) Write(p []byte) (int, error) {
	if err := w.usable("write"); err != nil {
		return 0, err
	}
	n, err := w.f.Write(p)
	w.hash.Write(p[:n])
	w.size += int64(n)
	if err != nil {
		w.fail("write", err)
		return n, w.err
	}
	return n, nil
}

func (w *writer) usable(op string) error {
	switch {
	case w.err != nil:
		return w.err
	case w.done:
		return w.r.errorf(op, w.key, errFinished)
	}
	if err := w.ctx.Err(); err != nil {
		w.fail(op, err)
		return w.err
	}
	return nil
}

func (w *writer) fail(op string, err error) {
	w.err = w.r.errorf(op, w.key, err)
	w.discard()
}

func (w *writer) discard() {
	if !w.done {
		w.done = true
		w.f.Close()
		os.Remove(w.spool)
		w.r.release(w.key)
	}
}

// Commit appends the spooled file to a cartridge, fsyncs it, and records it
// in the index.
func (w *writer) Commit() (resources.Info, error) {
	if err := w.usable("commit"); err != nil {
		return resources.Info{}, err
	}
	info, err := w.commit()
	if err != nil {
		w.fail("commit", err)
		return resources.Info{}, w.err
	}
	w.done = true
	w.r.release(w.key)
	return info, nil
}

func (w *writer) commit() (resources.Info, error) {
	r := w.r
	mod := time.Now().UTC().Truncate(time.Second)
	sum := resources.FormatChecksum(w.hash.Sum(nil))
	r.mu.Lock()
	cart, pos, err := r.reserve(entrySize(w.key, w.size))
	r.mu.Unlock()
	if err != nil {
		return resources.Info{}, err
	}
	var off int64
	j := &job{ctx: w.ctx, cart: cart, pos: pos, done: make(chan error, 1)}
	j.run = func(path string) (int64, error) {
		var end int64
		var err error
		off, end, err = appendFile(path, w.key, w.size, mod, w.f)
		if err == nil {
			r.lib.count(func(s *Stats) { s.Appends++ })
		}
		return end, err
	}
	r.lib.submit(j)
	if err := <-j.done; err != nil {
		return resources.Info{}, fmt.Errorf("append to cartridge %d: %w", cart, err)
	}
	e := entry{Op: "put", Key: w.key, Cart: cart, Off: off, Size: w.size, Checksum: sum, ModTime: mod}
	r.mu.Lock()
	err = r.record(e)
	if err == nil {
		r.index[w.key] = e
	}
	r.mu.Unlock()
	if err != nil {
		return resources.Info{}, fmt.Errorf("index: %w", err)
	}
	w.f.Close()
	if !r.cfg.DropOnWrite {
		// The spooled copy stays online, as an HSM's disk copy does.
		r.mu.Lock()
		if os.Rename(w.spool, r.stagePath(w.key)) != nil {
			os.Remove(w.spool)
		} else {
			r.noteStaged(w.key, w.size)
		}
		r.mu.Unlock()
	} else {
		os.Remove(w.spool)
	}
	return resources.Info{Key: w.key, Size: w.size, ModTime: mod, Checksum: sum}, nil
}

// appendFile appends one tar entry with the size bytes of src to the
// cartridge at path and fsyncs it. On a failure a regular file is cut back
// to where it was, so the tar stream stays whole.
func appendFile(path, name string, size int64, mod time.Time, src *os.File) (dataOff, end int64, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	start := int64(0)
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	if fi.Mode().IsRegular() {
		start = fi.Size()
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	dataOff, end, err = appendEntry(f, start, name, size, mod, src)
	if err == nil {
		err = f.Sync()
	}
	if err != nil && fi.Mode().IsRegular() {
		f.Truncate(start)
	}
	return dataOff, end, err
}

// Abort discards the spooled file; after Commit it does nothing.
func (w *writer) Abort() error {
	w.discard()
	return nil
}
