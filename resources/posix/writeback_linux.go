package posix

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing [off, off+n) of f to disk
// without waiting for it. Done while the rest of a large file still streams
// in, it leaves Commit's fsync little to flush: the network and the disk
// work at the same time instead of one after the other.
func startWriteback(f *os.File, off, n int64) {
	// Advisory: an error only means Commit's fsync does all the work.
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
