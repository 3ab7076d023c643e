package overlap_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/arca-data/arca/internal/overlap"
)

// chunker returns data in chunks of size, reusing two buffers in turn as
// Copy allows, and fails with err after failAfter chunks when err is set.
// With emptyEvery, every so many calls return an empty chunk, which takes
// its turn of the buffers like any other.
func chunker(data []byte, size int, failAfter int, err error, emptyEvery int) func() ([]byte, error) {
	bufs := [2][]byte{make([]byte, size), make([]byte, size)}
	k, calls := 0, 0
	return func() ([]byte, error) {
		if err != nil && k == failAfter {
			return nil, err
		}
		if len(data) == 0 {
			return nil, io.EOF
		}
		buf := bufs[calls%2]
		calls++
		if emptyEvery > 0 && calls%emptyEvery == 0 {
			buf[0] = 0xEE // scribble: the buffer is ours again
			return buf[:0], nil
		}
		n := copy(buf, data)
		data = data[n:]
		k++
		return buf[:n], nil
	}
}

// slowWriter dawdles over each chunk before keeping it, so that a chunk
// overwritten while it is being written shows in what it kept.
type slowWriter struct {
	got     int
	failAt  int // fail on the write that would pass this offset; 0 never
	written bytes.Buffer
}

var errDisk = errors.New("disk full")

func (w *slowWriter) Write(p []byte) (int, error) {
	if w.failAt > 0 && w.got+len(p) > w.failAt {
		return 0, errDisk
	}
	for i := range p {
		if i%512 == 0 {
			// Give the producer every chance to overwrite p.
			for range 3 {
				_ = fmt.Sprint(i)
			}
		}
	}
	w.written.Write(p)
	w.got += len(p)
	return len(p), nil
}

func TestCopy(t *testing.T) {
	data := make([]byte, 1<<20+123)
	for i := range data {
		data[i] = byte(i*7 + i/256)
	}
	errNet := errors.New("connection reset")
	for _, tc := range []struct {
		name      string
		empty     bool
		size      int
		failAfter int
		nextErr   error
		failAt    int
		empty3    bool // an empty chunk every third call
		wantErr   error
		wantN     int
	}{
		{name: "empty", empty: true, size: 10, wantN: 0},
		{name: "one chunk", size: 2 << 20, wantN: len(data)},
		{name: "many chunks, buffers reused", size: 4096, wantN: len(data)},
		{name: "odd chunks", size: 1000, wantN: len(data)},
		{name: "empty chunks between", size: 4096, empty3: true, wantN: len(data)},
		{name: "next fails", size: 4096, failAfter: 10, nextErr: errNet, wantErr: errNet, wantN: 10 * 4096},
		{name: "next fails first", size: 4096, failAfter: 0, nextErr: errNet, wantErr: errNet, wantN: 0},
		{name: "writer fails", size: 4096, failAt: 5*4096 + 1, wantErr: errDisk, wantN: 5 * 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := data
			if tc.empty {
				in = nil
			}
			w := &slowWriter{failAt: tc.failAt}
			emptyEvery := 0
			if tc.empty3 {
				emptyEvery = 3
			}
			n, err := overlap.Copy(w, chunker(in, tc.size, tc.failAfter, tc.nextErr, emptyEvery))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if int(n) != tc.wantN {
				t.Errorf("n = %d, want %d", n, tc.wantN)
			}
			if !bytes.Equal(w.written.Bytes(), data[:w.written.Len()]) {
				t.Errorf("the writer got bytes that differ from the input: a chunk was overwritten while written")
			}
			if int(n) != w.written.Len() {
				t.Errorf("n = %d, but the writer took %d", n, w.written.Len())
			}
		})
	}
}

// TestCopyStopsReadingAfterWriteFailure: once the writer failed, Copy asks
// for at most the chunk it was already handing over.
func TestCopyStopsReadingAfterWriteFailure(t *testing.T) {
	calls := 0
	next := func() ([]byte, error) {
		calls++
		if calls > 1000 {
			return nil, io.EOF
		}
		return []byte("x"), nil
	}
	w := &slowWriter{failAt: 1}
	w.got = 1 // the first write fails
	if _, err := overlap.Copy(w, next); !errors.Is(err, errDisk) {
		t.Fatalf("err = %v, want %v", err, errDisk)
	}
	if calls > 3 {
		t.Errorf("next was called %d times after the writer failed on the first chunk", calls)
	}
}
