// Package pid mints persistent identifiers for data objects and
// collections: Handle-style PREFIX/SUFFIX names (RFC 3650, 3651) with the
// zone's prefix, whose records hold the EUDAT B2SAFE PID profile (URL,
// EUDAT/CHECKSUM, EUDAT/ROR, EUDAT/FIO, EUDAT/PARENT, EUDAT/REPLICA, ...)
// mirrored as AVUs, and follow the data as it changes. Records live with a
// Provider: the zone's own registry in its catalog, or a Handle service
// spoken to over its REST API. Handler resolves them over HTTP in the
// Handle REST API's shape.
package pid

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/arca-data/arca/catalog"
)

// ErrInvalidHandle is a string that is not a handle.
var ErrInvalidHandle = fmt.Errorf("%w: invalid handle", catalog.ErrInvalidArgument)

// ErrOtherPrefix is a handle under a prefix this zone is not responsible
// for.
var ErrOtherPrefix = fmt.Errorf("%w: not responsible for the handle's prefix", catalog.ErrInvalidArgument)

// MaxHandle bounds a handle, in bytes.
const MaxHandle = 512

// Handle is a handle's two parts.
type Handle struct {
	Prefix string
	Suffix string
}

func (h Handle) String() string { return h.Prefix + "/" + h.Suffix }

// Key is the handle as the registry stores it: handles are case-insensitive
// in ASCII (RFC 3650), so "21.T1/AbC" and "21.t1/abc" are one.
func (h Handle) Key() string { return asciiLower(h.String()) }

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Resolver and handle URL forms that ParseHandle takes, beside a bare
// PREFIX/SUFFIX.
var handlePrefixes = []string{"hdl:", "https://hdl.handle.net/", "http://hdl.handle.net/", "info:hdl/"}

// ParseHandle reads a handle: PREFIX/SUFFIX, or that with "hdl:",
// "info:hdl/" or "https://hdl.handle.net/" before it. The prefix is
// dot-separated segments of letters and digits (21.T12995, 10.1234); the
// suffix is printable text without spaces.
func ParseHandle(s string) (Handle, error) {
	bad := func(why string) (Handle, error) {
		return Handle{}, fmt.Errorf("%w %q: %s", ErrInvalidHandle, clip(s), why)
	}
	if len(s) > MaxHandle+len("https://hdl.handle.net/") {
		return bad(fmt.Sprintf("longer than %d bytes", MaxHandle))
	}
	rest := s
	for _, p := range handlePrefixes {
		if len(rest) >= len(p) && strings.EqualFold(rest[:len(p)], p) {
			rest = rest[len(p):]
			break
		}
	}
	prefix, suffix, ok := strings.Cut(rest, "/")
	switch {
	case !ok:
		return bad("no '/' between prefix and suffix")
	case prefix == "":
		return bad("no prefix")
	case suffix == "":
		return bad("no suffix")
	case len(rest) > MaxHandle:
		return bad(fmt.Sprintf("longer than %d bytes", MaxHandle))
	case !utf8.ValidString(rest):
		return bad("not UTF-8")
	}
	for _, seg := range strings.Split(prefix, ".") {
		if seg == "" {
			return bad("the prefix has an empty segment")
		}
		for _, r := range seg {
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return bad(fmt.Sprintf("the prefix holds %q (letters, digits and dots only)", r))
			}
		}
	}
	for _, r := range suffix {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return bad(fmt.Sprintf("the suffix holds %q", r))
		}
	}
	return Handle{Prefix: prefix, Suffix: suffix}, nil
}

// ParsePrefix checks a handle prefix (the zone's configuration).
func ParsePrefix(s string) (string, error) {
	h, err := ParseHandle(s + "/x")
	if err != nil || h.Prefix != s {
		return "", fmt.Errorf("%w: handle prefix %q: dot-separated letters and digits, such as 21.T12995", catalog.ErrInvalidArgument, clip(s))
	}
	return s, nil
}

// Responsible checks that h is under prefix (case-insensitively).
func Responsible(h Handle, prefix string) error {
	if !strings.EqualFold(h.Prefix, prefix) {
		return fmt.Errorf("%w: %s is under prefix %s; this zone mints and resolves %s", ErrOtherPrefix, h, h.Prefix, prefix)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// IsInvalid reports whether err is a malformed handle or one of another
// prefix.
func IsInvalid(err error) bool {
	return errors.Is(err, ErrInvalidHandle) || errors.Is(err, ErrOtherPrefix)
}
