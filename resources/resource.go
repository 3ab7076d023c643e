// Package resources defines the byte storage behind Arca's catalog: a small
// Resource interface that every driver (posix, s3, tape) implements, with
// optional capabilities discovered by type assertion. Every driver passes the
// suite in resources/resourcetest.
package resources

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors. Drivers wrap them; callers use errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrExists      = errors.New("already exists")
	ErrInvalidKey  = errors.New("invalid key")
	ErrUnavailable = errors.New("resource unavailable")
	// ErrPermission means the store refused the server's own credentials
	// (an S3 access key without the right policy, a vault it cannot write).
	ErrPermission = errors.New("storage permission denied")
	// ErrCorrupt means stored bytes do not match what the store itself
	// recorded of them (a tape index's checksum): the copy is bad, not
	// missing or out of reach.
	ErrCorrupt = errors.New("stored bytes are corrupt")
)

// Resource stores byte streams under keys. A key is a slash-separated
// relative path such as "home/alice/data.csv.1f3a"; drivers refuse keys that
// are absolute or climb out with "..".
type Resource interface {
	// Create starts writing a new file at key; it fails with ErrExists if one
	// is there. Nothing is visible as complete until Writer.Commit returns.
	Create(ctx context.Context, key string) (Writer, error)
	// Open reads the file at key from offset to its end.
	Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error)
	// Stat describes the file at key.
	Stat(ctx context.Context, key string) (Info, error)
	// Remove deletes the file at key; a missing file is ErrNotFound.
	Remove(ctx context.Context, key string) error
	// Walk calls fn for every file, in key order.
	Walk(ctx context.Context, fn func(Info) error) error
	// Checksum reads the whole file at key and returns its checksum.
	Checksum(ctx context.Context, key string) (string, error)
}

// Writer receives the bytes of a new file.
type Writer interface {
	io.Writer
	// Commit makes the bytes durable (fsync or the store's equivalent), closes
	// the file and returns its size and SHA-256 checksum, computed while
	// writing. After an error from Commit the file is removed.
	Commit() (Info, error)
	// Abort discards the partial file. It is safe to call after Commit.
	Abort() error
}

// Info describes a stored file.
type Info struct {
	Key      string
	Size     int64
	ModTime  time.Time
	Checksum string // "sha2:<base64>"; empty when not known without reading
}
