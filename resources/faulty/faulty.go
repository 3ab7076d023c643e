// Package faulty wraps a resource to make chosen calls fail, for tests of
// what sits above a resource (the write protocol, replication, retries).
//
//	r := faulty.Wrap(vault, faulty.Faults{FailCommitAt: 2, Err: syscall.EIO})
//
// makes the second Commit, counted over every writer of r, fail with an error
// wrapping syscall.EIO. Arm changes the faults and restarts the counts while
// the resource is in use; everything is safe for concurrent use.
//
// An injected write or commit failure aborts the underlying writer, so it
// leaves no file behind, as a real failure must (resources.Writer). Later
// Writes and Commits of that writer fail with the same error.
package faulty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/arca-data/arca/resources"
)

// ErrInjected is the error of an injected fault when Faults.Err is nil.
var ErrInjected = errors.New("injected fault")

// Faults says which calls fail. FailXAt = N > 0 makes the Nth call of kind X
// fail, counting from Wrap or the last Arm over all writers and readers; 0
// never fails.
type Faults struct {
	FailCreateAt int // Resource.Create; nothing is created
	FailWriteAt  int // Writer.Write; nothing of that call is written
	FailCommitAt int // Writer.Commit (the fsync); the file is aborted instead
	FailOpenAt   int // Resource.Open and Resource.Checksum
	FailReadAt   int // Read on a reader returned by Open
	// FailRemoveAt counts Resource.Remove and Writer.Abort, the calls that
	// delete a file; a failed one leaves the file, as a vault that turned
	// read-only would.
	FailRemoveAt int
	// Sticky makes every call from the Nth on fail, as a full disk would,
	// not only the Nth.
	Sticky bool
	// WriteDelay slows every Writer.Write down by this much, as a slow or
	// distant resource would; a write whose context (Create's) ends while
	// it waits fails with the context's error.
	WriteDelay time.Duration
	// Err is the injected error; ErrInjected if nil. Returned errors wrap it.
	Err error
}

// Counts are the calls made since Wrap or the last Arm, and how many of them
// failed by injection.
type Counts struct {
	Creates, Writes, Commits, Opens, Reads, Removes int64
	Injected                                        int64
}

// Resource is a resources.Resource that fails as its Faults say.
type Resource struct {
	r     resources.Resource
	armed atomic.Pointer[arming]
}

var _ resources.Resource = (*Resource)(nil)

// kind is a kind of call that can fail.
type kind int

const (
	create kind = iota
	write
	commit
	open
	read
	remove
	kinds
)

// arming is one setting of the faults with its counters; Arm swaps the whole
// of it at once.
type arming struct {
	faults   Faults
	at       [kinds]int64
	calls    [kinds]atomic.Int64
	injected atomic.Int64
}

// Wrap returns r failing as f says.
func Wrap(r resources.Resource, f Faults) *Resource {
	fr := &Resource{r: r}
	fr.Arm(f)
	return fr
}

// Arm replaces the faults with f and sets every count back to zero. Calls
// under way count against whichever setting they meet.
func (r *Resource) Arm(f Faults) {
	if f.Err == nil {
		f.Err = ErrInjected
	}
	a := &arming{faults: f}
	a.at[create] = int64(f.FailCreateAt)
	a.at[write] = int64(f.FailWriteAt)
	a.at[commit] = int64(f.FailCommitAt)
	a.at[open] = int64(f.FailOpenAt)
	a.at[read] = int64(f.FailReadAt)
	a.at[remove] = int64(f.FailRemoveAt)
	r.armed.Store(a)
}

// Disarm stops all faults and sets the counts back to zero.
func (r *Resource) Disarm() { r.Arm(Faults{}) }

// Counts returns the calls seen since Wrap or the last Arm.
func (r *Resource) Counts() Counts {
	a := r.armed.Load()
	return Counts{
		Creates:  a.calls[create].Load(),
		Writes:   a.calls[write].Load(),
		Commits:  a.calls[commit].Load(),
		Opens:    a.calls[open].Load(),
		Reads:    a.calls[read].Load(),
		Removes:  a.calls[remove].Load(),
		Injected: a.injected.Load(),
	}
}

// Unwrap returns the wrapped resource.
func (r *Resource) Unwrap() resources.Resource { return r.r }

// fault counts a call of kind k and returns the injected error if this call
// is to fail.
func (r *Resource) fault(k kind, op, key string) error {
	a := r.armed.Load()
	n, at := a.calls[k].Add(1), a.at[k]
	if at <= 0 || n < at || n > at && !a.faults.Sticky {
		return nil
	}
	a.injected.Add(1)
	return fmt.Errorf("faulty: %s %q (call %d): %w", op, key, n, a.faults.Err)
}

// Create fails when Faults.FailCreateAt says so, and otherwise returns a
// writer whose Write and Commit can fail.
func (r *Resource) Create(ctx context.Context, key string) (resources.Writer, error) {
	if err := r.fault(create, "create", key); err != nil {
		return nil, err
	}
	w, err := r.r.Create(ctx, key)
	if err != nil {
		return nil, err
	}
	return &writer{ctx: ctx, r: r, key: key, w: w}, nil
}

// Open fails when Faults.FailOpenAt says so, and otherwise returns a reader
// whose Read can fail.
func (r *Resource) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	if err := r.fault(open, "open", key); err != nil {
		return nil, err
	}
	rc, err := r.r.Open(ctx, key, offset)
	if err != nil {
		return nil, err
	}
	return &reader{r: r, key: key, rc: rc}, nil
}

// Checksum counts as an Open: it fails when Faults.FailOpenAt says so.
func (r *Resource) Checksum(ctx context.Context, key string) (string, error) {
	if err := r.fault(open, "checksum", key); err != nil {
		return "", err
	}
	return r.r.Checksum(ctx, key)
}

// Stat passes through.
func (r *Resource) Stat(ctx context.Context, key string) (resources.Info, error) {
	return r.r.Stat(ctx, key)
}

// Remove fails when Faults.FailRemoveAt says so, leaving the file.
func (r *Resource) Remove(ctx context.Context, key string) error {
	if err := r.fault(remove, "remove", key); err != nil {
		return err
	}
	return r.r.Remove(ctx, key)
}

// Walk passes through.
func (r *Resource) Walk(ctx context.Context, fn func(resources.Info) error) error {
	return r.r.Walk(ctx, fn)
}

// writer injects write and commit faults. It has no ReadFrom on purpose:
// io.Copy then goes through Write, where the faults are.
type writer struct {
	ctx    context.Context
	r      *Resource
	key    string
	w      resources.Writer
	failed error // the injected error, once there is one
}

func (w *writer) Write(p []byte) (int, error) {
	if w.failed != nil {
		return 0, w.failed
	}
	if err := w.r.fault(write, "write", w.key); err != nil {
		w.fail(err)
		return 0, err
	}
	if d := w.r.armed.Load().faults.WriteDelay; d > 0 {
		select {
		case <-time.After(d):
		case <-w.ctx.Done():
			err := fmt.Errorf("faulty: write %q: %w", w.key, context.Cause(w.ctx))
			w.fail(err)
			return 0, err
		}
	}
	return w.w.Write(p)
}

func (w *writer) Commit() (resources.Info, error) {
	if w.failed != nil {
		return resources.Info{}, w.failed
	}
	if err := w.r.fault(commit, "commit", w.key); err != nil {
		w.fail(err)
		return resources.Info{}, err
	}
	return w.w.Commit()
}

// Abort counts as a Remove: when Faults.FailRemoveAt says so, it fails and
// leaves the partial file.
func (w *writer) Abort() error {
	if err := w.r.fault(remove, "abort", w.key); err != nil {
		return err
	}
	return w.w.Abort()
}

// fail records err and aborts the underlying writer, so that no file stays.
func (w *writer) fail(err error) {
	w.failed = err
	if aerr := w.w.Abort(); aerr != nil {
		w.failed = fmt.Errorf("%w (and abort: %v)", err, aerr)
	}
}

// reader injects read faults. A failed Read reads nothing, so a caller that
// retries goes on where it was.
type reader struct {
	r   *Resource
	key string
	rc  io.ReadCloser
}

func (r *reader) Read(p []byte) (int, error) {
	if err := r.r.fault(read, "read", r.key); err != nil {
		return 0, err
	}
	return r.rc.Read(p)
}

func (r *reader) Close() error { return r.rc.Close() }
