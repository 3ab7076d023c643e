// Package resourcetest is the conformance suite that every resource driver
// passes. A driver's test runs it in one line:
//
//	func TestSuite(t *testing.T) {
//		resourcetest.Run(t, func(t *testing.T) resources.Resource {
//			r, err := posix.Open(t.TempDir())
//			...
//			return r
//		})
//	}
//
// open must return an empty resource that no other test uses, and arrange
// its own cleanup with t.Cleanup. Behaviour that only some drivers can offer
// (a second Create of a key that is still being written fails, a key cannot
// pass through a file, ...) belongs in the driver's own tests.
package resourcetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/arca-data/arca/resources"
)

// Run runs every conformance test as a subtest, each on a fresh resource
// from open.
func Run(t *testing.T, open func(t *testing.T) resources.Resource) {
	tests := []struct {
		name string
		fn   func(*testing.T, resources.Resource)
	}{
		{"RoundTrip", testRoundTrip},
		{"OffsetReads", testOffsetReads},
		{"CreateExisting", testCreateExisting},
		{"NotFound", testNotFound},
		{"InvalidKeys", testInvalidKeys},
		{"Abort", testAbort},
		{"WriterLifecycle", testWriterLifecycle},
		{"Walk", testWalk},
		{"WalkStops", testWalkStops},
		{"Cancelled", testCancelled},
		{"RemoveAndRecreate", testRemoveAndRecreate},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentCreateRemove", testConcurrentCreateRemove},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// Data returns n pseudo-random bytes determined by seed.
func Data(seed uint64, n int) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	rand.NewChaCha8(s).Read(b)
	return b
}

// Put writes data at key in one Write and commits it, failing the test on
// any error, and checks what Commit returns.
func Put(t testing.TB, r resources.Resource, key string, data []byte) resources.Info {
	t.Helper()
	w, err := r.Create(t.Context(), key)
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		t.Fatalf("Write(%q): %v", key, err)
	}
	info, err := w.Commit()
	if err != nil {
		t.Fatalf("Commit(%q): %v", key, err)
	}
	checkCommitInfo(t, info, key, data)
	return info
}

// Get reads the whole file at key, failing the test on any error.
func Get(t testing.TB, r resources.Resource, key string) []byte {
	t.Helper()
	rc, err := r.Open(t.Context(), key, 0)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	return b
}

// Keys returns the keys that Walk reports, in its order.
func Keys(t testing.TB, r resources.Resource) []string {
	t.Helper()
	var keys []string
	err := r.Walk(t.Context(), func(i resources.Info) error {
		keys = append(keys, i.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return keys
}

func checksum(t testing.TB, data []byte) string {
	t.Helper()
	sum, _, err := resources.ChecksumOf(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func checkCommitInfo(t testing.TB, info resources.Info, key string, data []byte) {
	t.Helper()
	if info.Key != key || info.Size != int64(len(data)) || info.ModTime.IsZero() {
		t.Errorf("Commit(%q) = %+v, want key %q, size %d and a modification time", key, info, key, len(data))
	}
	if want := checksum(t, data); info.Checksum != want {
		t.Errorf("Commit(%q) checksum = %q, want %q", key, info.Checksum, want)
	}
}

// checkFile checks that key holds data through Stat, Open and Checksum.
func checkFile(t testing.TB, r resources.Resource, key string, data []byte) {
	t.Helper()
	ctx := t.Context()
	want := checksum(t, data)
	info, err := r.Stat(ctx, key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	if info.Key != key || info.Size != int64(len(data)) || info.ModTime.IsZero() {
		t.Errorf("Stat(%q) = %+v, want key %q, size %d and a modification time", key, info, key, len(data))
	}
	if info.Checksum != "" && info.Checksum != want {
		t.Errorf("Stat(%q) checksum = %q, want %q or empty", key, info.Checksum, want)
	}
	if got := Get(t, r, key); !bytes.Equal(got, data) {
		t.Errorf("Open(%q) read %d bytes, want the %d written", key, len(got), len(data))
	}
	sum, err := r.Checksum(ctx, key)
	if err != nil {
		t.Fatalf("Checksum(%q): %v", key, err)
	}
	if sum != want {
		t.Errorf("Checksum(%q) = %q, want %q", key, sum, want)
	}
}

// checkGone checks that nothing is visible at key.
func checkGone(t testing.TB, r resources.Resource, key string) {
	t.Helper()
	ctx := t.Context()
	if _, err := r.Stat(ctx, key); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("Stat(%q) error = %v, want ErrNotFound", key, err)
	}
	if rc, err := r.Open(ctx, key, 0); !errors.Is(err, resources.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Open(%q) error = %v, want ErrNotFound", key, err)
	}
	if _, err := r.Checksum(ctx, key); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("Checksum(%q) error = %v, want ErrNotFound", key, err)
	}
	if keys := Keys(t, r); slices.Contains(keys, key) {
		t.Errorf("Walk lists %q", key)
	}
}

// onlyReader hides the WriterTo of a reader, so that io.Copy uses the
// ReaderFrom of the writer if it has one.
type onlyReader struct{ io.Reader }

func testRoundTrip(t *testing.T, r resources.Resource) {
	ctx := t.Context()
	writes := map[string]func(w io.Writer, data []byte) error{
		"one write": func(w io.Writer, data []byte) error {
			_, err := w.Write(data)
			return err
		},
		"uneven chunks": func(w io.Writer, data []byte) error {
			for i, size := 0, 1; len(data) > 0; i++ {
				n := min(size, len(data))
				if _, err := w.Write(data[:n]); err != nil {
					return err
				}
				data = data[n:]
				size = size*7 + 13 // 1, 20, 153, 1084, ... 1.1 MiB
			}
			return nil
		},
		"io.Copy": func(w io.Writer, data []byte) error {
			_, err := io.Copy(w, onlyReader{bytes.NewReader(data)})
			return err
		},
	}
	sizes := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"small", 5},
		{"64KiB+1", 64<<10 + 1},
		{"multi-MiB", 5<<20 + 3},
	}
	seed := uint64(0)
	for _, sz := range sizes {
		for wname, write := range writes {
			seed++
			key := fmt.Sprintf("round/%s/%s.bin", sz.name, strings.ReplaceAll(wname, " ", "-"))
			t.Run(sz.name+"/"+wname, func(t *testing.T) {
				data := Data(seed, sz.size)
				w, err := r.Create(ctx, key)
				if err != nil {
					t.Fatalf("Create(%q): %v", key, err)
				}
				if err := write(w, data); err != nil {
					w.Abort()
					t.Fatalf("writing %q: %v", key, err)
				}
				info, err := w.Commit()
				if err != nil {
					t.Fatalf("Commit(%q): %v", key, err)
				}
				checkCommitInfo(t, info, key, data)
				checkFile(t, r, key, data)
				if keys := Keys(t, r); !slices.Contains(keys, key) {
					t.Errorf("Walk = %q, missing %q", keys, key)
				}
				if err := r.Remove(ctx, key); err != nil {
					t.Fatalf("Remove(%q): %v", key, err)
				}
				checkGone(t, r, key)
				if err := r.Remove(ctx, key); !errors.Is(err, resources.ErrNotFound) {
					t.Errorf("second Remove(%q) error = %v, want ErrNotFound", key, err)
				}
			})
		}
	}
	if keys := Keys(t, r); len(keys) != 0 {
		t.Errorf("after removing everything, Walk = %q", keys)
	}
}

func testOffsetReads(t *testing.T, r resources.Resource) {
	ctx := t.Context()
	data := Data(1, 1<<20+17)
	Put(t, r, "offsets", data)
	n := int64(len(data))
	for _, off := range []int64{0, 1, 4095, 4096, n / 2, n - 1, n} {
		t.Run(strconv.FormatInt(off, 10), func(t *testing.T) {
			rc, err := r.Open(ctx, "offsets", off)
			if err != nil {
				t.Fatalf("Open at %d: %v", off, err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("reading at %d: %v", off, err)
			}
			if !bytes.Equal(got, data[off:]) {
				t.Errorf("read %d bytes at offset %d, want the last %d bytes", len(got), off, n-off)
			}
		})
	}
	// Past the end: an error, or nothing to read.
	for _, off := range []int64{n + 1, n + 1<<20} {
		rc, err := r.Open(ctx, "offsets", off)
		if err != nil {
			continue
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err == nil && len(got) > 0 {
			t.Errorf("Open at %d past the end of %d bytes read %d bytes", off, n, len(got))
		}
	}
	if rc, err := r.Open(ctx, "offsets", -1); err == nil {
		rc.Close()
		t.Errorf("Open at offset -1 succeeded")
	}
}

func testCreateExisting(t *testing.T, r resources.Resource) {
	ctx := t.Context()
	for _, key := range []string{"dup", "a/b/dup"} {
		first := []byte("first " + key)
		Put(t, r, key, first)
		w, err := r.Create(ctx, key)
		if !errors.Is(err, resources.ErrExists) {
			if err == nil {
				w.Abort()
			}
			t.Errorf("second Create(%q) error = %v, want ErrExists", key, err)
		}
		checkFile(t, r, key, first)
	}
}

func testNotFound(t *testing.T, r resources.Resource) {
	ctx := t.Context()
	Put(t, r, "d/f", []byte("f"))
	// "d" is a prefix of a key, not a file; "d/f/g" runs on past a file.
	for _, key := range []string{"missing", "no/such/file", "d", "d/f/g"} {
		checkGone(t, r, key)
		if err := r.Remove(ctx, key); !errors.Is(err, resources.ErrNotFound) {
			t.Errorf("Remove(%q) error = %v, want ErrNotFound", key, err)
		}
	}
	checkFile(t, r, "d/f", []byte("f"))
}

// InvalidKeys are keys that every driver refuses with ErrInvalidKey.
var InvalidKeys = []string{
	"", ".", "..", "../x", "a/../../b", "a/..", "/abs", "/", "a//b", "a/", "./a", "a/./b", "a\x00b",
}

func testInvalidKeys(t *testing.T, r resources.Resource) {
	ctx := t.Context()
	Put(t, r, "a/b", []byte("b"))
	check := func(op, key string, err error) {
		t.Helper()
		if !errors.Is(err, resources.ErrInvalidKey) {
			t.Errorf("%s(%q) error = %v, want ErrInvalidKey", op, key, err)
			return
		}
		if msg := err.Error(); !strings.Contains(msg, strconv.Quote(key)) {
			t.Errorf("%s(%q) error %q does not name the key", op, key, msg)
		}
	}
	for _, key := range InvalidKeys {
		w, err := r.Create(ctx, key)
		if err == nil {
			w.Abort()
		}
		check("Create", key, err)
		rc, err := r.Open(ctx, key, 0)
		if err == nil {
			rc.Close()
		}
		check("Open", key, err)
		_, err = r.Stat(ctx, key)
		check("Stat", key, err)
		check("Remove", key, r.Remove(ctx, key))
		_, err = r.Checksum(ctx, key)
		check("Checksum", key, err)
	}
	if keys := Keys(t, r); !slices.Equal(keys, []string{"a/b"}) {
		t.Errorf("Walk = %q, want only a/b", keys)
	}
}

func testAbort(t *testing.T, r resources.Resource) {
	ctx := t.Context()
	for _, key := range []string{"aborted", "x/y/aborted"} {
		w, err := r.Create(ctx, key)
		if err != nil {
			t.Fatalf("Create(%q): %v", key, err)
		}
		if _, err := w.Write(Data(2, 100<<10)); err != nil {
			t.Fatalf("Write(%q): %v", key, err)
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("Abort(%q): %v", key, err)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("second Abort(%q): %v", key, err)
		}
		checkGone(t, r, key)
		if err := r.Remove(ctx, key); !errors.Is(err, resources.ErrNotFound) {
			t.Errorf("Remove(%q) after Abort error = %v, want ErrNotFound", key, err)
		}
		// The key is free again.
		Put(t, r, key, []byte("again"))
		checkFile(t, r, key, []byte("again"))
	}
	if keys := Keys(t, r); !slices.Equal(keys, []string{"aborted", "x/y/aborted"}) {
		t.Errorf("Walk = %q", keys)
	}
}

func testWriterLifecycle(t *testing.T, r resources.Resource) {
	ctx := t.Context()
	data := []byte("committed")

	// Abort after Commit does nothing; so do more Writes and Commits, which fail.
	w, err := r.Create(ctx, "done")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	info, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	checkCommitInfo(t, info, "done", data)
	if _, err := w.Write([]byte("more")); err == nil {
		t.Errorf("Write after Commit succeeded")
	}
	if _, err := w.Commit(); err == nil {
		t.Errorf("second Commit succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	checkFile(t, r, "done", data)

	// Nothing written or committed after Abort.
	w, err = r.Create(ctx, "dropped")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err == nil {
		t.Errorf("Write after Abort succeeded")
	}
	if _, err := w.Commit(); err == nil {
		t.Errorf("Commit after Abort succeeded")
	}
	checkGone(t, r, "dropped")
}

// walkKeys are keys whose byte order differs from a depth-first walk that
// sorts each directory by name: '-' and '.' sort before '/'.
var walkKeys = []string{
	"a/b", "a.txt", "a-1", "ab", "a/b.c", "a/b-c/d", "a/b-c.txt", "a/b/c", "b/c/d/e", "z", "A", "a b", "é",
}

func testWalk(t *testing.T, r resources.Resource) {
	if keys := Keys(t, r); len(keys) != 0 {
		t.Fatalf("Walk of an empty resource = %q", keys)
	}
	// "a/b" is both a file and a prefix on S3 but not on a file system:
	// leave out whichever conflicts.
	want := map[string][]byte{}
	for i, key := range walkKeys {
		conflict := false
		for k := range want {
			if strings.HasPrefix(key, k+"/") || strings.HasPrefix(k, key+"/") {
				conflict = true
			}
		}
		if !conflict {
			want[key] = Data(uint64(i), i*10)
			Put(t, r, key, want[key])
		}
	}
	var got []resources.Info
	err := r.Walk(t.Context(), func(i resources.Info) error {
		got = append(got, i)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	wantKeys := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	})
	var gotKeys []string
	for _, i := range got {
		gotKeys = append(gotKeys, i.Key)
		if data, ok := want[i.Key]; ok {
			if i.Size != int64(len(data)) || i.ModTime.IsZero() {
				t.Errorf("Walk: %+v, want size %d and a modification time", i, len(data))
			}
			if i.Checksum != "" && i.Checksum != checksum(t, data) {
				t.Errorf("Walk: %+v has the wrong checksum", i)
			}
		}
	}
	if !slices.Equal(gotKeys, wantKeys) {
		t.Errorf("Walk keys =\n%q\nwant\n%q", gotKeys, wantKeys)
	}
}

func testWalkStops(t *testing.T, r resources.Resource) {
	for _, key := range []string{"1", "2", "3/4", "5"} {
		Put(t, r, key, []byte(key))
	}
	stop := errors.New("stop")
	var seen []string
	err := r.Walk(t.Context(), func(i resources.Info) error {
		seen = append(seen, i.Key)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || len(seen) != 2 {
		t.Errorf("Walk returned %v after %q, want fn's error after 2 files", err, seen)
	}
}

func testCancelled(t *testing.T, r resources.Resource) {
	Put(t, r, "big", Data(3, 4<<20))
	Put(t, r, "dir/small", []byte("s"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := r.Walk(ctx, func(resources.Info) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Walk with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := r.Checksum(ctx, "big"); !errors.Is(err, context.Canceled) {
		t.Errorf("Checksum with a cancelled context: %v, want context.Canceled", err)
	}
	// Cancelling while Walk runs stops it too.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	err = r.Walk(ctx, func(resources.Info) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("Walk cancelled in fn: %v after %d calls, want context.Canceled after 1", err, calls)
	}
}

func testRemoveAndRecreate(t *testing.T, r resources.Resource) {
	ctx := t.Context()
	Put(t, r, "p/q/r", []byte("one"))
	Put(t, r, "p/keep", []byte("keep"))
	if err := r.Remove(ctx, "p/q/r"); err != nil {
		t.Fatal(err)
	}
	checkGone(t, r, "p/q/r")
	checkFile(t, r, "p/keep", []byte("keep"))
	Put(t, r, "p/q/r", []byte("two"))
	checkFile(t, r, "p/q/r", []byte("two"))
	if keys := Keys(t, r); !slices.Equal(keys, []string{"p/keep", "p/q/r"}) {
		t.Errorf("Walk = %q", keys)
	}
}

func testConcurrentWriters(t *testing.T, r resources.Resource) {
	ctx := t.Context()
	const writers, chunks, chunkSize = 16, 32, 16 << 10
	key := func(i int) string {
		if i%2 == 0 {
			return fmt.Sprintf("conc/%02d", i)
		}
		return fmt.Sprintf("conc/deep/%02d/f", i)
	}
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			data := Data(uint64(100+i), chunks*chunkSize)
			w, err := r.Create(ctx, key(i))
			if err != nil {
				t.Errorf("Create(%q): %v", key(i), err)
				return
			}
			for c := range chunks {
				if _, err := w.Write(data[c*chunkSize : (c+1)*chunkSize]); err != nil {
					t.Errorf("Write(%q): %v", key(i), err)
					w.Abort()
					return
				}
				runtime.Gosched()
			}
			info, err := w.Commit()
			if err != nil {
				t.Errorf("Commit(%q): %v", key(i), err)
				return
			}
			checkCommitInfo(t, info, key(i), data)
		})
	}
	wg.Wait()
	var want []string
	for i := range writers {
		checkFile(t, r, key(i), Data(uint64(100+i), chunks*chunkSize))
		want = append(want, key(i))
	}
	slices.Sort(want)
	if keys := Keys(t, r); !slices.Equal(keys, want) {
		t.Errorf("Walk = %q, want %q", keys, want)
	}
}

// testConcurrentCreateRemove races writers that create files in shared new
// parent "directories" with Removes that may prune them.
func testConcurrentCreateRemove(t *testing.T, r resources.Resource) {
	ctx := t.Context()
	const workers, rounds = 8, 40
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for j := range rounds {
				key := fmt.Sprintf("churn/a/b/%d-%d", i, j)
				data := []byte(key)
				w, err := r.Create(ctx, key)
				if err != nil {
					t.Errorf("Create(%q): %v", key, err)
					return
				}
				if _, err := w.Write(data); err != nil {
					t.Errorf("Write(%q): %v", key, err)
					w.Abort()
					return
				}
				if j%3 == 2 {
					if err := w.Abort(); err != nil {
						t.Errorf("Abort(%q): %v", key, err)
					}
					continue
				}
				if _, err := w.Commit(); err != nil {
					t.Errorf("Commit(%q): %v", key, err)
					return
				}
				if err := r.Remove(ctx, key); err != nil {
					t.Errorf("Remove(%q): %v", key, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if keys := Keys(t, r); len(keys) != 0 {
		t.Errorf("Walk after the churn = %q", keys)
	}
}
