package resources

import (
	"fmt"
	"io/fs"
	"strings"
)

// CheckKey reports whether key is a valid resource key: a clean relative
// slash-separated path with no empty, "." or ".." component and no NUL byte.
// "a/b.txt" is valid; "", ".", "/a", "a/", "a//b", "./a", "a/../b" and
// "a\x00b" are not. The error wraps ErrInvalidKey and names the key, so a
// driver can return it as it is.
func CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w %q: empty", ErrInvalidKey, key)
	case strings.IndexByte(key, 0) >= 0:
		return fmt.Errorf("%w %q: contains NUL", ErrInvalidKey, key)
	case key[0] == '/':
		return fmt.Errorf("%w %q: absolute", ErrInvalidKey, key)
	case key == "." || !fs.ValidPath(key):
		return fmt.Errorf("%w %q: not a clean relative path (empty, \".\" or \"..\" component)", ErrInvalidKey, key)
	}
	return nil
}
