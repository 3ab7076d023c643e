// Package s3 is the resource driver for an S3 bucket (MinIO, Ceph RGW, AWS),
// through github.com/minio/minio-go/v7: iRODS's "s3" resource in its
// cacheless mode. A key maps to the object PREFIX/key in the bucket.
//
// Writes stream: the first part is kept in memory, and a file that ends
// within it goes up in one PUT; a larger one becomes a multipart upload
// whose parts are sent while the client is still writing, so no more than
// Threads parts of PartSize bytes are ever held. The SHA-256 is computed
// while writing. Nothing is visible under the key until Commit, and a failed
// or aborted upload is aborted on the server, so it leaves no object.
//
// Errors wrap resources.ErrNotFound (no such key), resources.ErrPermission
// (the credentials do not allow it) and resources.ErrUnavailable (the server
// is unreachable or overloaded). Operations that can be repeated as a whole
// (stat, open, remove, list, a one-part put) are retried with exponential
// backoff while the error is transient; the parts of a multipart upload are
// retried by minio-go itself.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/arca-data/arca/resources"
)

var _ resources.Resource = (*Resource)(nil)

// Config says where the bucket is and how to reach it.
type Config struct {
	Endpoint  string // http://host:port or https://host:port
	Region    string // us-east-1 if empty
	AccessKey string
	SecretKey string
	Bucket    string
	Prefix    string // no leading or trailing slash; may be empty
	// PartSize is the size of one part of a multipart upload (default
	// 16 MiB, at least 5 MiB as S3 requires); Threads how many parts are
	// sent at once (default 4).
	PartSize uint64
	Threads  uint
	// Attempts bounds how often a transient failure is tried (default 5);
	// Backoff is the first wait between attempts (default 100ms), doubled
	// each time.
	Attempts int
	Backoff  time.Duration
}

const (
	defaultPartSize = 16 << 20
	minPartSize     = 5 << 20
	defaultThreads  = 4
)

// Resource is a bucket, or a prefix of one. It is safe for concurrent use.
type Resource struct {
	cfg    Config
	client *minio.Client

	mu      sync.Mutex
	writing map[string]bool // keys with an upload under way in this process

	// locking: the bucket has Object Lock, and Retain locks objects.
	locking bool

	// copyBufs are ReadFrom's buffers: a tier move or replication of
	// thousands of small objects would otherwise allocate 1 MiB for each.
	copyBufs sync.Pool
}

// Open connects to the bucket of cfg, creating the bucket if it is missing
// and the credentials allow it.
func Open(ctx context.Context, cfg Config) (*Resource, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = defaultPartSize
	}
	if cfg.PartSize < minPartSize {
		return nil, fmt.Errorf("s3: part size %d is below the 5 MiB S3 requires", cfg.PartSize)
	}
	if cfg.Threads == 0 {
		cfg.Threads = defaultThreads
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 100 * time.Millisecond
	}
	cfg.Prefix = strings.Trim(cfg.Prefix, "/")
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("s3: no bucket")
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("s3: endpoint %q: want http://host:port or https://host:port", cfg.Endpoint)
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: u.Scheme == "https",
		Region: cfg.Region,
		// A few quick retries per request; whole operations are retried
		// above with a longer backoff.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	r := &Resource{cfg: cfg, client: client, writing: map[string]bool{}}
	if err := r.ensureBucket(ctx); err != nil {
		return nil, err
	}
	if r.locking, err = r.lockEnabled(ctx); err != nil {
		return nil, fmt.Errorf("s3: object lock of bucket %s: %w", r.cfg.Bucket, err)
	}
	return r, nil
}

func (r *Resource) ensureBucket(ctx context.Context) error {
	var exists bool
	err := r.retry(ctx, func() (err error) {
		exists, err = r.client.BucketExists(ctx, r.cfg.Bucket)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("s3: bucket %s at %s: %w", r.cfg.Bucket, r.cfg.Endpoint, err)
	}
	if exists {
		return nil
	}
	err = r.retry(ctx, func() error {
		err := r.client.MakeBucket(ctx, r.cfg.Bucket, minio.MakeBucketOptions{Region: r.cfg.Region})
		if code := errorCode(err); code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
			return nil
		}
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("s3: create bucket %s at %s: %w", r.cfg.Bucket, r.cfg.Endpoint, err)
	}
	return nil
}

// Bucket returns the bucket name.
func (r *Resource) Bucket() string { return r.cfg.Bucket }

// Path returns where the object of key is, for display: /bucket/prefix/key,
// as iRODS's S3 plugin shows it.
func (r *Resource) Path(key string) string {
	if resources.CheckKey(key) != nil {
		return ""
	}
	return "/" + r.cfg.Bucket + "/" + r.name(key)
}

// name is the object name of key.
func (r *Resource) name(key string) string {
	if r.cfg.Prefix == "" {
		return key
	}
	return r.cfg.Prefix + "/" + key
}

func (r *Resource) errorf(op, key string, err error) error {
	return fmt.Errorf("s3: %s %q in %s: %w", op, key, r.cfg.Bucket, err)
}

// retry runs fn until it succeeds, fails with an error that is not
// transient, the attempts are spent, or ctx ends.
func (r *Resource) retry(ctx context.Context, fn func() error) error {
	wait := r.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !errors.Is(err, resources.ErrUnavailable) || attempt >= r.cfg.Attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// errorCode is the S3 error code in err, or "".
func errorCode(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code
	}
	return ""
}

// mapErr classifies an error of minio-go: not found, permission, transient,
// or as it is.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.Code {
		case "NoSuchKey", "NotFound", "NoSuchUpload":
			return fmt.Errorf("%w: %w", resources.ErrNotFound, err)
		case "NoSuchBucket":
			// The store is gone, not a key in it: a caller must not take
			// every object for missing (or a user's request for wrong).
			return fmt.Errorf("%w: %w", resources.ErrUnavailable, err)
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
			"AccountProblem", "InvalidToken", "ExpiredToken":
			return fmt.Errorf("%w: %w", resources.ErrPermission, err)
		case "PreconditionFailed":
			return fmt.Errorf("%w: %w", resources.ErrExists, err)
		case "SlowDown", "SlowDownWrite", "SlowDownRead", "ServiceUnavailable", "InternalError",
			"RequestTimeout", "XMinioServerNotInitialized", "XMinioStorageFull":
			return fmt.Errorf("%w: %w", resources.ErrUnavailable, err)
		}
		switch {
		case resp.StatusCode == 404:
			return fmt.Errorf("%w: %w", resources.ErrNotFound, err)
		case resp.StatusCode == 401 || resp.StatusCode == 403:
			return fmt.Errorf("%w: %w", resources.ErrPermission, err)
		case resp.StatusCode == 408 || resp.StatusCode == 429 || resp.StatusCode >= 500:
			return fmt.Errorf("%w: %w", resources.ErrUnavailable, err)
		}
		return err
	}
	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &netErr) || errors.As(err, &urlErr) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %w", resources.ErrUnavailable, err)
	}
	return err
}

// ctxErr returns ctx's error wrapped like the others, if ctx is done.
func (r *Resource) ctxErr(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return r.errorf(op, key, err)
	}
	return nil
}

// Stat describes the object at key. The checksum is empty: S3 does not
// keep a whole-object SHA-256 of a multipart upload.
func (r *Resource) Stat(ctx context.Context, key string) (resources.Info, error) {
	if err := resources.CheckKey(key); err != nil {
		return resources.Info{}, fmt.Errorf("s3: stat: %w", err)
	}
	var oi minio.ObjectInfo
	err := r.retry(ctx, func() (err error) {
		oi, err = r.client.StatObject(ctx, r.cfg.Bucket, r.name(key), minio.StatObjectOptions{})
		return mapErr(err)
	})
	if err != nil {
		return resources.Info{}, r.errorf("stat", key, err)
	}
	return resources.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// Open reads the object at key from offset. An offset at or past the end
// reads nothing.
func (r *Resource) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	if err := resources.CheckKey(key); err != nil {
		return nil, fmt.Errorf("s3: open: %w", err)
	}
	if offset < 0 {
		return nil, r.errorf("open", key, fmt.Errorf("negative offset %d", offset))
	}
	if err := r.ctxErr(ctx, "open", key); err != nil {
		return nil, err
	}
	var obj *minio.Object
	err := r.retry(ctx, func() error {
		opts := minio.GetObjectOptions{}
		if offset > 0 {
			if err := opts.SetRange(offset, 0); err != nil {
				return err
			}
		}
		o, err := r.client.GetObject(ctx, r.cfg.Bucket, r.name(key), opts)
		if err != nil {
			return mapErr(err)
		}
		// The first request goes out on Stat: errors show here, not on
		// the first Read.
		if _, err := o.Stat(); err != nil {
			o.Close()
			if errorCode(err) == "InvalidRange" {
				return errPastEnd
			}
			return mapErr(err)
		}
		obj = o
		return nil
	})
	if errors.Is(err, errPastEnd) {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if err != nil {
		return nil, r.errorf("open", key, err)
	}
	return &reader{obj: obj, r: r, key: key}, nil
}

var errPastEnd = errors.New("offset past the end")

// reader maps the errors of reads as Open does.
type reader struct {
	obj *minio.Object
	r   *Resource
	key string
}

func (rd *reader) Read(p []byte) (int, error) {
	n, err := rd.obj.Read(p)
	if err != nil && err != io.EOF {
		err = rd.r.errorf("read", rd.key, mapErr(err))
	}
	return n, err
}

func (rd *reader) Close() error { return rd.obj.Close() }

// Remove deletes the object at key. S3 deletes a missing key without a
// word, so it is looked up first.
func (r *Resource) Remove(ctx context.Context, key string) error {
	if err := resources.CheckKey(key); err != nil {
		return fmt.Errorf("s3: remove: %w", err)
	}
	if _, err := r.Stat(ctx, key); err != nil {
		return err
	}
	err := r.retry(ctx, func() error {
		return mapErr(r.client.RemoveObject(ctx, r.cfg.Bucket, r.name(key), minio.RemoveObjectOptions{}))
	})
	if err != nil {
		return r.errorf("remove", key, err)
	}
	return nil
}

// Walk lists every object below the prefix in key order (S3 lists in byte
// order). Names that are not valid keys (a "dir/" marker made by another
// tool) are passed over.
func (r *Resource) Walk(ctx context.Context, fn func(resources.Info) error) error {
	if err := r.ctxErr(ctx, "walk", ""); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prefix := ""
	if r.cfg.Prefix != "" {
		prefix = r.cfg.Prefix + "/"
	}
	after := "" // the last name passed to fn, to resume after a transient failure
	for attempt, wait := 1, r.cfg.Backoff; ; attempt++ {
		err := r.walkFrom(ctx, prefix, &after, fn)
		if err == nil || !errors.Is(err, resources.ErrUnavailable) || attempt >= r.cfg.Attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return r.errorf("walk", "", ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func (r *Resource) walkFrom(ctx context.Context, prefix string, after *string, fn func(resources.Info) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn returns early
	opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: true, StartAfter: *after}
	for oi := range r.client.ListObjects(ctx, r.cfg.Bucket, opts) {
		if oi.Err != nil {
			if err := ctx.Err(); err != nil {
				return r.errorf("walk", "", err)
			}
			return r.errorf("walk", "", mapErr(oi.Err))
		}
		if err := ctx.Err(); err != nil {
			return r.errorf("walk", "", err)
		}
		key := strings.TrimPrefix(oi.Key, prefix)
		*after = oi.Key
		if resources.CheckKey(key) != nil {
			continue
		}
		if err := fn(resources.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}); err != nil {
			return err
		}
	}
	return r.ctxErr(ctx, "walk", "")
}

// Checksum reads the whole object at key.
func (r *Resource) Checksum(ctx context.Context, key string) (string, error) {
	if err := resources.CheckKey(key); err != nil {
		return "", fmt.Errorf("s3: checksum: %w", err)
	}
	if err := r.ctxErr(ctx, "checksum", key); err != nil {
		return "", err
	}
	rc, err := r.Open(ctx, key, 0)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	sum, _, err := resources.ChecksumOf(rc)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return "", r.errorf("checksum", key, cerr)
		}
		return "", err
	}
	return sum, nil
}

// Create starts an upload to key. It fails with resources.ErrExists if an
// object is at key or another writer of this process is uploading to it.
// The context governs the whole upload.
func (r *Resource) Create(ctx context.Context, key string) (resources.Writer, error) {
	if err := resources.CheckKey(key); err != nil {
		return nil, fmt.Errorf("s3: create: %w", err)
	}
	if err := r.ctxErr(ctx, "create", key); err != nil {
		return nil, err
	}
	r.mu.Lock()
	busy := r.writing[key]
	r.writing[key] = true
	r.mu.Unlock()
	if busy {
		return nil, r.errorf("create", key, fmt.Errorf("%w: an upload to it is under way", resources.ErrExists))
	}
	_, err := r.Stat(ctx, key)
	switch {
	case err == nil:
		r.release(key)
		return nil, r.errorf("create", key, resources.ErrExists)
	case !errors.Is(err, resources.ErrNotFound):
		r.release(key)
		return nil, err
	}
	return &writer{r: r, ctx: ctx, key: key, hash: resources.NewHash()}, nil
}

func (r *Resource) release(key string) {
	r.mu.Lock()
	delete(r.writing, key)
	r.mu.Unlock()
}
