// Package overlap copies a stream of chunks with its two ends working at the
// same time: the next chunk is received (or read, decrypted, hashed) while
// the one before is written (to disk, or sent). A transfer then takes about
// as long as its slower end instead of the sum of both.
package overlap

import (
	"io"
	"sync"
)

// Copy writes to w every chunk that next returns until next returns io.EOF,
// and returns how much w wrote. next runs on the calling goroutine and
// w.Write on another, one chunk behind.
//
// A chunk belongs to Copy until next is called twice more: next may reuse
// the memory of any chunk but the last one it returned, so two buffers used
// in turn are enough. That holds for empty chunks too: each one counts.
//
// If w fails, Copy stops calling next and returns w's error. If next fails,
// Copy lets w finish the chunk it has and returns next's error.
func Copy(w io.Writer, next func() ([]byte, error)) (int64, error) {
	// Unbuffered: handing over chunk k waits until w is done with chunk k-1,
	// which is what lets next reuse it.
	chunks := make(chan []byte)
	failed := make(chan struct{}) // closed when w fails
	var written int64
	var werr error
	var wg sync.WaitGroup
	wg.Go(func() {
		for p := range chunks {
			if len(p) == 0 {
				continue
			}
			n, err := w.Write(p)
			written += int64(n)
			if err != nil {
				werr = err
				close(failed)
				return
			}
		}
	})
	rerr := feed(chunks, failed, next)
	close(chunks)
	wg.Wait()
	if werr != nil {
		return written, werr
	}
	return written, rerr
}

// feed hands every chunk to chunks until the end, an error, or failed.
func feed(chunks chan<- []byte, failed <-chan struct{}, next func() ([]byte, error)) error {
	for {
		p, err := next()
		// Empty chunks are handed over too: taking one means w is done
		// with the chunk before, which next may then reuse.
		if err == nil || len(p) > 0 {
			select {
			case chunks <- p:
			case <-failed:
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
