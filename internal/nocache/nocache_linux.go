package nocache

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing [off, off+n) of f to disk
// without waiting for it.
func startWriteback(f *os.File, off, n int64) {
	if n > 0 { // sync_file_range reads a length of 0 as "to the end"
		_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
	}
}

// dropWritten waits until [off, off+n) of f, whose writeback was started
// before, has been written to disk and drops it from the page cache.
func dropWritten(f *os.File, off, n int64) {
	if n <= 0 {
		return
	}
	flags := unix.SYNC_FILE_RANGE_WAIT_BEFORE | unix.SYNC_FILE_RANGE_WRITE | unix.SYNC_FILE_RANGE_WAIT_AFTER
	if unix.SyncFileRange(int(f.Fd()), off, n, flags) == nil {
		drop(f, off, n)
	}
}

// drop asks the kernel to drop the clean pages of [off, off+n) of f.
func drop(f *os.File, off, n int64) {
	if n > 0 { // fadvise too reads a length of 0 as "to the end"
		_ = unix.Fadvise(int(f.Fd()), off, n, unix.FADV_DONTNEED)
	}
}

// adviseSequential doubles the read-ahead for f.
func adviseSequential(f *os.File) {
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_SEQUENTIAL)
}
