//go:build linux

package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dirWatch reports changes in directories.
type dirWatch struct {
	events chan dirEvent
	errors chan error
	close  func()
}

// watchDirs watches dirs with inotify, which tells a write still in
// progress (IN_MODIFY) from a file whose writer has closed it
// (IN_CLOSE_WRITE), unlike fsnotify's portable events.
func watchDirs(dirs []string) (*dirWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	const mask = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE
	wds := map[int32]string{}
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		wd, err := unix.InotifyAddWatch(fd, d, mask)
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("watch %s: %w", d, err)
		}
		wds[int32(wd)] = d
	}
	// Non-blocking, so that the runtime's poller serves reads and Close
	// ends a Read in progress.
	f := os.NewFile(uintptr(fd), "inotify")
	done := make(chan struct{})
	w := &dirWatch{events: make(chan dirEvent, 64), errors: make(chan error, 1), close: func() { close(done); f.Close() }}
	go func() {
		defer close(w.events)
		buf := make([]byte, 64<<10)
		for {
			n, err := f.Read(buf)
			if err != nil {
				if !errors.Is(err, os.ErrClosed) {
					select {
					case w.errors <- err:
					default:
					}
				}
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				raw := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(raw.Len)]
				off += unix.SizeofInotifyEvent + int(raw.Len)
				ev := dirEvent{complete: raw.Mask&unix.IN_MODIFY == 0, overflow: raw.Mask&unix.IN_Q_OVERFLOW != 0}
				if dir, ok := wds[raw.Wd]; ok && len(name) > 0 {
					ev.path = filepath.Join(dir, cString(name))
				} else if !ev.overflow {
					continue
				}
				select {
				case w.events <- ev:
				case <-done:
					return
				}
			}
		}
	}()
	return w, nil
}

// cString is the text of a NUL-padded name.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
