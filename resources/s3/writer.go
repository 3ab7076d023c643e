package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/arca-data/arca/resources"
)

// writer uploads one object. Bytes gather in buf until they pass one part;
// then a multipart upload starts in the background and reads the rest
// through a pipe as the client writes it.
type writer struct {
	r    *Resource
	ctx  context.Context
	key  string
	hash hash.Hash
	size int64
	buf  []byte

	// Set once the multipart upload runs.
	pw   *io.PipeWriter
	done chan struct{}
	info minio.UploadInfo
	err  error // of the upload, once done is closed

	finished bool  // committed or aborted
	failed   error // a failed Write or Commit; the upload was aborted
}

var errFinished = errors.New("writer already committed or aborted")

func (w *writer) putOptions() minio.PutObjectOptions {
	opts := minio.PutObjectOptions{
		PartSize:              w.r.cfg.PartSize,
		NumThreads:            w.r.cfg.Threads,
		ConcurrentStreamParts: w.r.cfg.Threads > 1,
		ContentType:           "application/octet-stream",
		// Each part carries a Content-MD5 that the server checks (md5-simd,
		// in the part's goroutine) instead of a streaming SHA-256 payload
		// signature that both sides would compute; the object's SHA-256 is
		// computed once, in Write.
		DisableContentSha256: true,
		SendContentMd5:       true,
	}
	// No If-None-Match: MinIO answers it with a spurious AccessDenied
	// when a delete of the key races the PUT. Create checks that the key is
	// free, and replica keys carry a random suffix.
	return opts
}

func (w *writer) Write(p []byte) (int, error) {
	switch {
	case w.failed != nil:
		return 0, w.failed
	case w.finished:
		return 0, w.r.errorf("write", w.key, errFinished)
	}
	if err := w.ctx.Err(); err != nil {
		w.fail(err)
		return 0, w.failed
	}
	if w.pw == nil && uint64(len(w.buf)+len(p)) <= w.r.cfg.PartSize {
		w.hash.Write(p)
		w.size += int64(len(p))
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if w.pw == nil {
		w.start()
	}
	n, err := w.pw.Write(p)
	w.hash.Write(p[:n])
	w.size += int64(n)
	if err != nil {
		<-w.done
		w.fail(w.uploadErr(err))
		return n, w.failed
	}
	return n, nil
}

// ReadFrom lets io.Copy hand its reads straight to the pipe.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	bp, _ := w.r.copyBufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 1<<20)
		bp = &b
	}
	defer w.r.copyBufs.Put(bp)
	buf := *bp
	var total int64
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// start begins the multipart upload with what buf holds, then the pipe.
func (w *writer) start() {
	pr, pw := io.Pipe()
	w.pw, w.done = pw, make(chan struct{})
	body := io.MultiReader(bytes.NewReader(w.buf), pr)
	go func() {
		defer close(w.done)
		w.info, w.err = w.r.client.PutObject(w.ctx, w.r.cfg.Bucket, w.r.name(w.key), body, -1, w.putOptions())
		w.buf = nil
		// Unblocks a Write still waiting on the pipe.
		if w.err != nil {
			pr.CloseWithError(w.err)
		} else {
			pr.CloseWithError(errors.New("upload finished before the writer committed"))
		}
	}()
}

// uploadErr is the error to report after the pipe failed: the upload's own
// error explains more than the pipe's.
func (w *writer) uploadErr(pipeErr error) error {
	if w.err != nil {
		return mapErr(w.err)
	}
	return pipeErr
}

// fail records err, aborts the upload and frees the key.
func (w *writer) fail(err error) {
	w.failed = w.r.errorf("write", w.key, err)
	w.stop()
}

// stop aborts an upload under way (minio-go aborts the multipart upload on
// the server when its reader fails) and frees the key.
func (w *writer) stop() {
	if !w.finished {
		w.finished = true
		if w.pw != nil {
			w.pw.CloseWithError(errAborted)
			<-w.done
		}
		w.buf = nil
		w.r.release(w.key)
	}
}

var errAborted = errors.New("upload aborted")

// Commit finishes the upload and returns the size and SHA-256 of what was
// written. S3 acknowledges a PUT only once the object is durable.
func (w *writer) Commit() (resources.Info, error) {
	switch {
	case w.failed != nil:
		return resources.Info{}, w.failed
	case w.finished:
		return resources.Info{}, w.r.errorf("commit", w.key, errFinished)
	}
	if err := w.ctx.Err(); err != nil {
		w.fail(err)
		return resources.Info{}, w.failed
	}
	var err error
	if w.pw == nil {
		// One part: a single PUT, which can be repeated as it is.
		denied := 0
		var denial error
		err = w.r.retry(w.ctx, func() error {
			var perr error
			w.info, perr = w.r.client.PutObject(w.ctx, w.r.cfg.Bucket, w.r.name(w.key),
				bytes.NewReader(w.buf), int64(len(w.buf)), w.putOptions())
			perr = mapErr(perr)
			// A single-drive MinIO answers AccessDenied when a delete
			// prunes the object's parent directory during the PUT. The
			// keys passed Create's lookup, so a denial is tried twice more
			// before it is believed.
			if errors.Is(perr, resources.ErrPermission) && denied < 2 {
				denied++
				denial = perr
				return fmt.Errorf("%w: %v", resources.ErrUnavailable, perr)
			}
			return perr
		})
		if err != nil && denial != nil && errors.Is(err, resources.ErrUnavailable) && !errors.Is(err, context.Canceled) {
			err = denial // the retries ran out while denied: report the denial
		}
	} else {
		w.pw.Close()
		<-w.done
		err = mapErr(w.err)
	}
	if err == nil && w.info.Size != w.size {
		err = fmt.Errorf("the store took %d bytes of %d", w.info.Size, w.size)
		w.r.client.RemoveObject(context.WithoutCancel(w.ctx), w.r.cfg.Bucket, w.r.name(w.key), minio.RemoveObjectOptions{})
	}
	w.finished = true
	w.buf = nil
	w.r.release(w.key)
	if err != nil {
		w.failed = w.r.errorf("commit", w.key, err)
		return resources.Info{}, w.failed
	}
	mod := w.info.LastModified
	if mod.IsZero() {
		mod = time.Now().UTC()
	}
	return resources.Info{Key: w.key, Size: w.size, ModTime: mod,
		Checksum: resources.FormatChecksum(w.hash.Sum(nil))}, nil
}

// Abort discards the upload; after Commit it does nothing.
func (w *writer) Abort() error {
	w.stop()
	return nil
}
