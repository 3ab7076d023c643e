//go:build !linux

package nocache

import "os"

// Where sync_file_range and fadvise do not exist, files keep their pages and
// fsync writes everything.

func startWriteback(*os.File, int64, int64) {}
func dropWritten(*os.File, int64, int64)    {}
func drop(*os.File, int64, int64)           {}
func adviseSequential(*os.File)             {}
