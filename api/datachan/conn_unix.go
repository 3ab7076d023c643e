//go:build unix

package datachan

import "golang.org/x/sys/unix"

// nothingToRead reports whether the socket fd has nothing to read and is
// not at its end, without waiting and without consuming anything.
func nothingToRead(fd uintptr) bool {
	var b [1]byte
	n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return n < 0 && (err == unix.EAGAIN || err == unix.EWOULDBLOCK)
}
