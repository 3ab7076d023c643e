//go:build !linux

package rules

import (
	"fmt"
	"os"

	"github.com/fsnotify/fsnotify"
)

// dirWatch reports changes in directories.
type dirWatch struct {
	events chan dirEvent
	errors chan error
	close  func()
}

// watchDirs watches dirs with fsnotify. Its portable events do not tell
// when a writer is done, so every event is taken as complete and a load
// waits only for a quiet moment.
func watchDirs(dirs []string) (*dirWatch, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		if err := fw.Add(d); err != nil {
			fw.Close()
			return nil, fmt.Errorf("watch %s: %w", d, err)
		}
	}
	done := make(chan struct{})
	w := &dirWatch{events: make(chan dirEvent, 64), errors: fw.Errors, close: func() { close(done); fw.Close() }}
	go func() {
		defer close(w.events)
		for ev := range fw.Events {
			select {
			case w.events <- dirEvent{path: ev.Name, complete: true}:
			case <-done:
				return
			}
		}
	}()
	return w, nil
}
