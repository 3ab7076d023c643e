// Package posix is the resource driver for a directory of a local or network
// file system: the vault of an iRODS "unixfilesystem" resource. A key maps to
// the file of the same relative path under the vault directory, so key
// "home/alice/x.csv" of a vault at /srv/vault is /srv/vault/home/alice/x.csv.
//
// Every file system call goes through an os.Root opened on the vault, so no
// key and no symbolic link planted in the vault reaches a file outside it.
// Keys are checked with resources.CheckKey before any call.
//
// Writes go straight to the final name, opened with O_CREATE|O_EXCL, so two
// writers of one key cannot both proceed. Commit fsyncs the file, then the
// directories whose entries it created, before it returns. Until then the
// partial file can be seen by Stat, Open and Walk under its key; it is the
// catalog, which registers a replica as intermediate before the first byte
// is written, that tells a partial file from a complete one.
//
// Only regular files are files here: Stat, Open, Checksum and Remove answer
// resources.ErrNotFound for a directory, a symbolic link or any other kind of
// file at a key, and Walk passes over them without a word. Arca creates only
// regular files and directories in a vault; anything else was put there by
// someone else.
package posix

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/arca-data/arca/internal/nocache"
	"github.com/arca-data/arca/resources"
)

var _ resources.Resource = (*Resource)(nil)

// Permissions of what the driver creates: the vault belongs to the server.
const (
	dirMode  = 0o700
	fileMode = 0o600
)

// bufSize is the buffer size for Checksum and Writer.ReadFrom: large enough
// that per-call overhead vanishes against the copy and the hash.
const bufSize = 1 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// createAttempts bounds how often Create remakes parent directories that a
// concurrent Remove or Abort pruned between its mkdir and its open.
const createAttempts = 100

// Resource is a vault directory. It is safe for concurrent use.
type Resource struct {
	dir  string // absolute
	root *os.Root
	dirs sync.Map // directory key -> *dirState
}

// Open opens the vault at dir, creating it with mode 0700 if it is missing.
// Close releases it.
func Open(dir string) (*Resource, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("posix: %w", err)
	}
	if err := os.MkdirAll(abs, dirMode); err != nil {
		return nil, fmt.Errorf("posix: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("posix: %w", err)
	}
	return &Resource{dir: abs, root: root}, nil
}

// Close releases the vault directory. Commit or abort every writer first:
// after Close they can neither commit nor remove their partial files.
func (r *Resource) Close() error { return r.root.Close() }

// Dir returns the absolute path of the vault directory.
func (r *Resource) Dir() string { return r.dir }

// Path returns the absolute physical path of the file at key, for display
// (ils -L). It returns "" for an invalid key. Open files through the
// Resource, never through this path: it is not confined to the vault.
func (r *Resource) Path(key string) string {
	if resources.CheckKey(key) != nil {
		return ""
	}
	return filepath.Join(r.dir, filepath.FromSlash(key))
}

// Create starts writing a new file at key, making missing parent
// directories. It fails with resources.ErrExists if anything is at key, and
// with an error wrapping syscall.ENOTDIR if a parent on the way is a file.
// The context governs the whole write: once it is done, Write and Commit fail
// and the partial file is removed.
func (r *Resource) Create(ctx context.Context, key string) (resources.Writer, error) {
	if err := resources.CheckKey(key); err != nil {
		return nil, fmt.Errorf("posix: create: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, r.errorf("create", key, err)
	}
	dir := path.Dir(key)
	var made []string // directories this call created, parents first
	for attempt := 1; ; attempt++ {
		f, err := r.createIn(dir, key)
		if err == nil {
			return r.newWriter(ctx, key, f, made), nil
		}
		if errors.Is(err, fs.ErrNotExist) && dir != "." && attempt < createAttempts {
			// A parent is missing, or was pruned again while mkdirs ran.
			if err = r.mkdirs(dir, &made); err == nil || errors.Is(err, fs.ErrNotExist) {
				continue
			}
		}
		r.unmake(made)
		return nil, r.errorf("create", key, err)
	}
}

// createIn creates the new file key in its directory dir, one writer of the
// directory at a time (see dirState).
func (r *Resource) createIn(dir, key string) (*os.File, error) {
	d := r.dirOf(dir)
	d.create.Lock()
	defer d.create.Unlock()
	return r.root.OpenFile(key, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
}

// mkdirs makes dir and its missing parents, appending those it made to made,
// parents first. Directories that exist, or that another writer makes at the
// same time, are fine.
func (r *Resource) mkdirs(dir string, made *[]string) error {
	err := r.root.Mkdir(dir, dirMode)
	if errors.Is(err, fs.ErrNotExist) && path.Dir(dir) != "." {
		if err := r.mkdirs(path.Dir(dir), made); err != nil {
			return err
		}
		err = r.root.Mkdir(dir, dirMode)
	}
	switch {
	case err == nil:
		*made = append(*made, dir)
		return nil
	case errors.Is(err, fs.ErrExist):
		// A directory, or a file that the open then reports as ENOTDIR.
		return nil
	default:
		return err
	}
}

// unmake removes the directories that a failed Create made, if they are
// still empty.
func (r *Resource) unmake(made []string) {
	if len(made) > 0 {
		r.prune(made[len(made)-1])
	}
}

// prune removes dir and then its parents while they are empty directories,
// up to and not including the vault directory. It is best effort: it stops
// at the first directory that it cannot remove, for whatever reason.
func (r *Resource) prune(dir string) {
	for ; dir != "."; dir = path.Dir(dir) {
		// Lstat first: Root.Remove would also unlink a symbolic link.
		if fi, err := r.root.Lstat(dir); err != nil || !fi.IsDir() {
			return
		}
		if r.root.Remove(dir) != nil {
			return
		}
	}
}

// syncDir fsyncs the directory dir so that the entries made in it are
// durable.
func (r *Resource) syncDir(dir string) error {
	d, err := r.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		// Some file systems (some FUSE and network ones) cannot fsync a
		// directory; there is nothing better to do there.
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open reads the file at key from offset to its end; an offset at or past
// the end reads nothing. The context is checked only when opening. The
// reader is an *os.File, so io.Copy to a socket or file can use sendfile or
// copy_file_range.
func (r *Resource) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("posix: open %q: negative offset %d", key, offset)
	}
	f, fi, err := r.openRegular(ctx, "open", key)
	if err != nil {
		return nil, err
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, r.errorf("open", key, err)
		}
	}
	return nocache.NewReader(f, offset, fi.Size()), nil
}

// openRegular opens the regular file at key for reading.
func (r *Resource) openRegular(ctx context.Context, op, key string) (*os.File, fs.FileInfo, error) {
	if err := resources.CheckKey(key); err != nil {
		return nil, nil, fmt.Errorf("posix: %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, r.errorf(op, key, err)
	}
	// Lstat first, so that opening a FIFO cannot block and a symbolic link
	// is not followed.
	fi, err := r.root.Lstat(key)
	if err != nil {
		return nil, nil, r.errorf(op, key, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, r.notRegular(op, key, fi)
	}
	f, err := r.root.OpenFile(key, os.O_RDONLY, 0)
	if err != nil {
		return nil, nil, r.errorf(op, key, err)
	}
	if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, nil, r.errorf(op, key, err)
		}
		return nil, nil, r.notRegular(op, key, fi)
	}
	return f, fi, nil
}

// Stat describes the file at key without reading it: Info.Checksum is empty.
func (r *Resource) Stat(ctx context.Context, key string) (resources.Info, error) {
	if err := resources.CheckKey(key); err != nil {
		return resources.Info{}, fmt.Errorf("posix: stat: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return resources.Info{}, r.errorf("stat", key, err)
	}
	fi, err := r.root.Lstat(key)
	if err != nil {
		return resources.Info{}, r.errorf("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		return resources.Info{}, r.notRegular("stat", key, fi)
	}
	return resources.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Checksum reads the file at key and returns its checksum. It stops with the
// context's error once the context is done.
func (r *Resource) Checksum(ctx context.Context, key string) (string, error) {
	f, _, err := r.openRegular(ctx, "checksum", key)
	if err != nil {
		return "", err
	}
	defer f.Close()
	bufp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bufp)
	buf := *bufp
	h := resources.NewHash()
	for {
		if err := ctx.Err(); err != nil {
			return "", r.errorf("checksum", key, err)
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return resources.FormatChecksum(h.Sum(nil)), nil
		}
		if err != nil {
			return "", r.errorf("checksum", key, err)
		}
	}
}

// Remove deletes the file at key, then the parent directories that this
// leaves empty, up to the vault directory (best effort). The removal is not
// fsynced.
func (r *Resource) Remove(ctx context.Context, key string) error {
	if err := resources.CheckKey(key); err != nil {
		return fmt.Errorf("posix: remove: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return r.errorf("remove", key, err)
	}
	fi, err := r.root.Lstat(key)
	if err != nil {
		return r.errorf("remove", key, err)
	}
	if !fi.Mode().IsRegular() {
		// Never remove a directory (Root.Remove would take an empty one).
		return r.notRegular("remove", key, fi)
	}
	if err := r.root.Remove(key); err != nil {
		return r.errorf("remove", key, err)
	}
	r.prune(path.Dir(key))
	return nil
}

// Walk calls fn for every regular file, in key order: plain byte order of
// the keys, as S3 lists them. That is not the order of fs.WalkDir, which
// visits "a/b" before "a.txt" ('.' sorts before '/'), so Walk reads the
// directories itself and sorts each as if every directory name ended in a
// slash. Infos carry no checksum. Directories, symbolic links and other
// non-regular files are passed over silently; so are files and directories
// removed while Walk runs. Walk stops with fn's error, unwrapped, or with
// the context's error.
func (r *Resource) Walk(ctx context.Context, fn func(resources.Info) error) error {
	return r.walk(ctx, r.root.FS(), ".", fn)
}

func (r *Resource) walk(ctx context.Context, fsys fs.FS, dir string, fn func(resources.Info) error) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		if dir != "." && isNotFound(err) {
			return nil // removed since its parent was read
		}
		return r.errorf("walk", dir, err)
	}
	type entry struct {
		sortKey string
		fs.DirEntry
	}
	sorted := make([]entry, len(entries))
	for i, e := range entries {
		sorted[i] = entry{e.Name(), e}
		if e.IsDir() {
			sorted[i].sortKey += "/"
		}
	}
	slices.SortFunc(sorted, func(a, b entry) int { return strings.Compare(a.sortKey, b.sortKey) })
	for _, e := range sorted {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("posix: walk: %w", err)
		}
		key := e.Name()
		if dir != "." {
			key = dir + "/" + key
		}
		switch {
		case e.IsDir():
			if err := r.walk(ctx, fsys, key, fn); err != nil {
				return err
			}
		case e.Type().IsRegular():
			fi, err := e.Info()
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return r.errorf("walk", key, err)
			}
			if err := fn(resources.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// writer writes one new file. It is not safe for concurrent use.
type writer struct {
	r   *Resource
	ctx context.Context
	key string
	f   *os.File // nil once committed or discarded
	// out writes to f: a large file is written back to disk while it
	// streams in, and leaves the page cache behind it, so that Commit's
	// fsync has little left to do.
	out   *nocache.Writer
	h     hash.Hash
	n     int64
	dirs  []string // directories to fsync on Commit, deepest first
	err   error    // first write error: Commit fails with it
	state state
}

type state int

const (
	writing state = iota
	committed
	discarded
)

// newWriter returns the writer of f. Commit fsyncs the parent of key and
// the parent of every directory that Create made. A parent made by another
// writer at the same moment is fsynced by that writer's Commit, not by this
// one; on journalling file systems such as ext4 and XFS the fsync of the
// file commits those entries anyway.
func (r *Resource) newWriter(ctx context.Context, key string, f *os.File, made []string) *writer {
	dirs := []string{path.Dir(key)}
	for _, d := range slices.Backward(made) {
		if p := path.Dir(d); !slices.Contains(dirs, p) {
			dirs = append(dirs, p)
		}
	}
	return &writer{r: r, ctx: ctx, key: key, f: f, out: nocache.NewWriter(f), h: resources.NewHash(), dirs: dirs}
}

// overlapMin is the smallest Write whose hashing runs beside the write
// system call instead of after it. SHA-256 (about 1.6 GB/s with the SHA
// extensions) and a write to the page cache cost about the same per byte, so
// overlapping them almost doubles the throughput of large writes; for small
// ones the goroutine handoff costs more than it saves.
const overlapMin = 128 << 10

// Write writes p to the file and to the hash, without copying it.
func (w *writer) Write(p []byte) (int, error) {
	if err := w.usable("write"); err != nil {
		return 0, err
	}
	var n int
	var err error
	if len(p) < overlapMin {
		n, err = w.out.Write(p)
		w.h.Write(p[:n])
	} else {
		// On a short write the hash takes in bytes that the file did not,
		// but then the writer has failed and cannot commit.
		var wg sync.WaitGroup
		wg.Go(func() { w.h.Write(p) })
		n, err = w.out.Write(p)
		wg.Wait()
	}
	w.n += int64(n)
	if err != nil {
		w.err = w.r.errorf("write", w.key, err)
		return n, w.err
	}
	return n, nil
}

// ReadFrom copies src into the file through a 1 MiB buffer, so that io.Copy
// makes few large writes instead of many of 32 KiB.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if err := w.usable("write"); err != nil {
		return 0, err
	}
	bufp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bufp)
	buf := *bufp
	var total int64
	for {
		n, rerr := fill(src, buf)
		if n > 0 {
			m, err := w.Write(buf[:n])
			total += int64(m)
			if err != nil {
				return total, err
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

// fill reads into buf until it is full or src returns an error.
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// usable returns why the writer cannot take more bytes, if it cannot.
func (w *writer) usable(op string) error {
	if w.state != writing {
		return fmt.Errorf("posix: %s %q: %w", op, w.key, os.ErrClosed)
	}
	if w.err != nil {
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.err = w.r.errorf(op, w.key, err)
		return w.err
	}
	return nil
}

// Commit fsyncs the file, closes it and fsyncs the directories whose entries
// the write made. On any error it removes the file.
func (w *writer) Commit() (resources.Info, error) {
	if err := w.usable("commit"); err != nil {
		if w.state == writing {
			w.discard()
		}
		return resources.Info{}, err
	}
	info, err := w.commit()
	if err != nil {
		w.discard()
		return resources.Info{}, w.r.errorf("commit", w.key, err)
	}
	w.state = committed
	return info, nil
}

func (w *writer) commit() (resources.Info, error) {
	if err := w.f.Sync(); err != nil {
		return resources.Info{}, err
	}
	w.out.Synced()
	fi, err := w.f.Stat()
	if err != nil {
		return resources.Info{}, err
	}
	if fi.Size() != w.n {
		return resources.Info{}, fmt.Errorf("wrote %d bytes but the file holds %d", w.n, fi.Size())
	}
	err = w.f.Close()
	w.f = nil
	if err != nil {
		return resources.Info{}, err
	}
	for _, d := range w.dirs {
		if err := w.r.syncDirShared(d); err != nil {
			return resources.Info{}, err
		}
	}
	return resources.Info{
		Key:      w.key,
		Size:     w.n,
		ModTime:  fi.ModTime(),
		Checksum: resources.FormatChecksum(w.h.Sum(nil)),
	}, nil
}

// Abort removes the partial file. After Commit, or a second time, it does
// nothing.
func (w *writer) Abort() error {
	if w.state != writing {
		return nil
	}
	if err := w.discard(); err != nil {
		return w.r.errorf("abort", w.key, err)
	}
	return nil
}

// discard closes and removes the file and prunes the directories left empty.
func (w *writer) discard() error {
	w.state = discarded
	if w.f != nil {
		// A failed close of a file that is removed next does not matter; if
		// the removal fails, that is the error to report.
		_ = w.f.Close()
		w.f = nil
	}
	err := w.r.root.Remove(w.key)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	w.r.prune(path.Dir(w.key))
	return err
}

// isNotFound reports whether err means that nothing is at a path: it does
// not exist, or a component on the way is a file.
func isNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// errorf wraps err from operation op on key, mapping it to the sentinel
// errors of package resources where one fits. A path through a file is
// ErrNotFound for reads but stays ENOTDIR for Create.
func (r *Resource) errorf(op, key string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the key is named below; the op of the syscall is noise
	}
	switch {
	case errors.Is(err, fs.ErrExist):
		err = resources.ErrExists
	case errors.Is(err, fs.ErrNotExist), op != "create" && errors.Is(err, syscall.ENOTDIR):
		err = resources.ErrNotFound
	}
	return fmt.Errorf("posix: %s %q: %w", op, key, err)
}

func (r *Resource) notRegular(op, key string, fi fs.FileInfo) error {
	kind := "not a regular file"
	switch {
	case fi.IsDir():
		kind = "a directory"
	case fi.Mode()&fs.ModeSymlink != 0:
		kind = "a symbolic link"
	}
	return fmt.Errorf("posix: %s %q: %w (%s)", op, key, resources.ErrNotFound, kind)
}
