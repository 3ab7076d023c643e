package icommands

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// partTries is how many names createPart tries before it gives up. With a
// random 32-bit suffix a clash is already unlikely; a hundred in a row
// means something else is wrong.
const partTries = 100

// createPart creates the hidden file that a download to local is written
// into before it is renamed into place. It sits in local's directory so
// that the rename is atomic. It is created with mode 0666, as cp does, so
// that the kernel applies the umask; os.CreateTemp always makes 0600, and
// the rename would keep that.
func createPart(local string) (*os.File, error) {
	dir, base := filepath.Dir(local), filepath.Base(local)
	for range partTries {
		name := filepath.Join(dir, "."+base+".arca-part-"+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("creating a part file in %s: every name tried exists", dir)
}

// localPathError is a failure to make the local file the user named. Its
// message names the user's path, never the hidden part file. kind (one of
// errLocalNotFound, errLocalPermission, or nil) sets the exit status.
type localPathError struct {
	path string
	text string
	kind error
	err  error
}

func (e *localPathError) Error() string { return e.path + ": " + e.text }

func (e *localPathError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.kind, e.err}
}

// partError reports err, from creating, writing or renaming the part file
// of a download to local, in terms of local.
func partError(local string, err error) error {
	// The system's own words without the path they name, which is the
	// part file's.
	cause := err
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		cause = pe.Err
	case errors.As(err, &le):
		cause = le.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Only the directory can be missing: the part file is ours.
		text := "no such local directory"
		if !endsInSeparator(local) {
			text = "the local directory " + filepath.Dir(local) + " does not exist"
		}
		return &localPathError{path: local, text: text, kind: errLocalNotFound, err: err}
	case errors.Is(err, fs.ErrPermission):
		return &localPathError{path: local, text: "permission denied", kind: errLocalPermission, err: err}
	}
	return &localPathError{path: local, text: cause.Error(), err: err}
}

// endsInSeparator reports whether the user wrote path as a directory
// ("newdir/"), which asks for a file inside it.
func endsInSeparator(path string) bool {
	return path != "" && os.IsPathSeparator(path[len(path)-1])
}
