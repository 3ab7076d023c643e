package posix

import (
	"sync"
	"sync/atomic"
)

// dirSync shares directory fsyncs between concurrent writers: when many
// files are created in one directory at once (an iput -r of thousands of
// small files), one fsync of the directory makes all their entries durable,
// instead of one journal commit per file. It is group commit for directories.
type dirSync struct {
	mu        sync.Mutex    // held while an fsync of the directory runs
	requested atomic.Uint64 // requests so far; each is numbered
	done      uint64        // every request up to this one is durable; under mu
}

// syncDirShared returns once an fsync of dir that started after this call
// began has succeeded: either one it ran itself, or one that another writer
// ran meanwhile.
func (r *Resource) syncDirShared(dir string) error {
	v, _ := r.dirSyncs.LoadOrStore(dir, &dirSync{})
	ds := v.(*dirSync)
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
