package posix

import (
	"sync"
	"sync/atomic"
)

// dirState coordinates the writers of one vault directory.
//
// Creating a file takes the directory's lock in the kernel. When dozens of
// writers create files in one directory at once (an iput -r of thousands of
// small files), the waiting ones spin on that lock and the CPU goes to the
// spinning: on two cores, taking turns here instead halved the CPU time per
// file and doubled the files per second of a plain create-write-fsync loop.
//
// Their fsyncs of the directory are shared: one fsync makes the entries of
// every file created before it durable, instead of one journal commit per
// file. It is group commit for directories.
type dirState struct {
	create sync.Mutex // held while a file is created in the directory

	mu        sync.Mutex    // held while an fsync of the directory runs
	requested atomic.Uint64 // requests so far; each is numbered
	done      uint64        // every request up to this one is durable; under mu
}

// dirOf returns the state of the vault directory dir.
func (r *Resource) dirOf(dir string) *dirState {
	if v, ok := r.dirs.Load(dir); ok {
		return v.(*dirState)
	}
	v, _ := r.dirs.LoadOrStore(dir, &dirState{})
	return v.(*dirState)
}

// syncDirShared returns once an fsync of dir that started after this call
// began has succeeded: either one it ran itself, or one that another writer
// ran meanwhile.
func (r *Resource) syncDirShared(dir string) error {
	ds := r.dirOf(dir)
	// The caller's directory entry exists before this number is taken, so
	// any fsync that starts after a later read of requested covers it.
	mine := ds.requested.Add(1)
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.done >= mine {
		return nil
	}
	upto := ds.requested.Load()
	if err := r.syncDir(dir); err != nil {
		return err
	}
	ds.done = upto
	return nil
}
