package catalog

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameLen is the longest name of one collection or data object, in bytes.
const MaxNameLen = 1024

// MaxPathLen bounds a whole logical path, in bytes.
const MaxPathLen = 8192

// ErrInvalidName is wrapped by every error that rejects a name or a path.
var ErrInvalidName = errors.New("invalid name")

// ValidateName checks one path component: a collection or data object name.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrInvalidName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: name is %d bytes long, the limit is %d", ErrInvalidName, len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidName, name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("%w: %q contains a NUL byte", ErrInvalidName, name)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("%w: %q contains '/'", ErrInvalidName, name)
	case name == "." || name == "..":
		return fmt.Errorf("%w: %q is not allowed as a name", ErrInvalidName, name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q contains a control character", ErrInvalidName, name)
		}
	}
	return nil
}

// Path is a cleaned, absolute logical path such as /tempZone/home/alice/x.dat.
// Its first component is the zone that owns it, so every path routes to a zone.
// The zero Path is invalid; use ParsePath.
type Path struct{ s string }

// ParsePath validates an absolute logical path. It does not resolve ".." or
// "." components: a path that contains them is rejected, so that what a user
// typed and what the catalog stores never differ silently.
func ParsePath(s string) (Path, error) {
	if s == "" {
		return Path{}, fmt.Errorf("%w: empty path", ErrInvalidName)
	}
	if len(s) > MaxPathLen {
		return Path{}, fmt.Errorf("%w: path is %d bytes long, the limit is %d", ErrInvalidName, len(s), MaxPathLen)
	}
	if s[0] != '/' {
		return Path{}, fmt.Errorf("%w: path %q is not absolute", ErrInvalidName, s)
	}
	if s == "/" {
		return Path{s: "/"}, nil
	}
	trimmed := strings.TrimRight(s, "/")
	if trimmed == "" {
		return Path{s: "/"}, nil
	}
	for _, part := range strings.Split(trimmed[1:], "/") {
		if part == "" {
			return Path{}, fmt.Errorf("%w: path %q has an empty component", ErrInvalidName, s)
		}
		if err := ValidateName(part); err != nil {
			return Path{}, fmt.Errorf("path %q: %w", s, err)
		}
	}
	return Path{s: trimmed}, nil
}

// MustPath is ParsePath for constants in code and tests; it panics on error.
func MustPath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Resolve interprets p relative to the working collection cwd, the way a
// shell does: ".." and "." are resolved, and a relative path is joined to cwd.
// The result is validated like ParsePath.
func Resolve(cwd Path, p string) (Path, error) {
	if p == "" {
		return Path{}, fmt.Errorf("%w: empty path", ErrInvalidName)
	}
	var parts []string
	if p[0] != '/' {
		if cwd.IsZero() {
			return Path{}, fmt.Errorf("%w: relative path %q without a working collection", ErrInvalidName, p)
		}
		parts = cwd.Components()
	}
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
		default:
			parts = append(parts, c)
		}
	}
	return ParsePath("/" + strings.Join(parts, "/"))
}

func (p Path) String() string { return p.s }

// IsZero reports whether p is the zero Path.
func (p Path) IsZero() bool { return p.s == "" }

// IsRoot reports whether p is "/".
func (p Path) IsRoot() bool { return p.s == "/" }

// Components returns the names along p, without the leading root.
func (p Path) Components() []string {
	if p.s == "" || p.s == "/" {
		return nil
	}
	return strings.Split(p.s[1:], "/")
}

// Zone is the first component of p: the zone that owns it. It is "" for "/".
func (p Path) Zone() string {
	if p.s == "" || p.s == "/" {
		return ""
	}
	z, _, _ := strings.Cut(p.s[1:], "/")
	return z
}

// Name is the last component of p.
func (p Path) Name() string {
	i := strings.LastIndexByte(p.s, '/')
	return p.s[i+1:]
}

// Parent is the collection that holds p; the parent of "/" is "/".
func (p Path) Parent() Path {
	i := strings.LastIndexByte(p.s, '/')
	if i <= 0 {
		return Path{s: "/"}
	}
	return Path{s: p.s[:i]}
}

// Join appends a validated name to p.
func (p Path) Join(name string) (Path, error) {
	if err := ValidateName(name); err != nil {
		return Path{}, err
	}
	if n := len(p.s) + 1 + len(name); n > MaxPathLen {
		return Path{}, fmt.Errorf("%w: path would be %d bytes long, the limit is %d", ErrInvalidName, n, MaxPathLen)
	}
	if p.s == "/" {
		return Path{s: "/" + name}, nil
	}
	return Path{s: p.s + "/" + name}, nil
}

// HasPrefix reports whether p is dir or lies below it.
func (p Path) HasPrefix(dir Path) bool {
	if dir.s == "/" {
		return true
	}
	return p.s == dir.s || strings.HasPrefix(p.s, dir.s+"/")
}

// Rebase moves p from below old to below new: Rebase(/a/b/c, /a, /x) = /x/b/c.
// p must be old or lie below it (p.HasPrefix(old)); otherwise the result is
// meaningless.
func (p Path) Rebase(old, new Path) Path {
	if p.s == old.s {
		return new
	}
	rest := strings.TrimPrefix(p.s, old.s)
	if old.s == "/" {
		rest = p.s
	}
	if new.s == "/" {
		return Path{s: rest}
	}
	return Path{s: new.s + rest}
}

// CheckPath refuses the zero Path, which a caller gets only by not setting
// one: every Path made by ParsePath is valid.
func CheckPath(p Path) error {
	if p.IsZero() {
		return invalid("empty path")
	}
	return nil
}
