package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// DAVPrefix is where WebDAV is served.
const DAVPrefix = "/dav/"

// newDAV is WebDAV (class 1 and 2) over the zone's namespace: every call of
// golang.org/x/net/webdav goes to a zone method with the caller's principal
// (davFS), so a put through WebDAV obeys rules, quotas and locks exactly as
// iput. GET and HEAD are the API's downloads (ranges, ETags of checksums).
// Locks of LOCK/UNLOCK are held in this server's memory.
func (a *API) newDAV() http.Handler {
	locks := webdav.NewMemLS()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, err := a.Principal(r)
		if err != nil {
			if zones.KindOf(err) == zones.KindUnauthenticated {
				w.Header().Set("WWW-Authenticate", `Basic realm="arca", charset="UTF-8"`)
			}
			a.fail(w, r, err)
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			p, err := davPath(strings.TrimPrefix(r.URL.Path, "/dav"))
			if err == nil {
				var e catalog.Entry
				if e, err = a.zone.Stat(r.Context(), who, p); err == nil && e.Collection != nil {
					w.Header().Set("Allow", "OPTIONS, LOCK, DELETE, PROPPATCH, COPY, MOVE, UNLOCK, PROPFIND")
					err = reqError(http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is a collection: PROPFIND lists it", p))
				} else if err == nil {
					err = Download(w, r, a.zone, who, p, -1, false)
				}
			}
			if err != nil {
				a.fail(w, r, err)
			}
			return
		}
		if r.Method == "MKCOL" {
			// Sync clients send MKCOL for a file's collection before
			// every PUT, several transfers at once: what is there is
			// answered here, by a read, before x/net/webdav takes its
			// lock on the path, which makes the concurrent MKCOLs of the
			// same collection 423 Locked (which rclone retries, backing
			// off).
			if p, err := davPath(strings.TrimPrefix(r.URL.Path, "/dav")); err == nil {
				if e, err := a.zone.Stat(r.Context(), who, p); err == nil {
					what := "a data object"
					if e.Collection != nil {
						what = "a collection"
					}
					a.fail(w, r, mkcolExists(p, fmt.Errorf("%s %w", what, catalog.ErrExists)))
					return
				}
			}
		}
		fsys := &davFS{zone: a.zone, who: who, req: r, cache: map[string]catalog.Entry{}}
		h := &webdav.Handler{Prefix: "/dav", FileSystem: fsys, LockSystem: locks, Logger: func(r *http.Request, err error) {
			if err != nil {
				a.log.Debug("webdav", "method", r.Method, "path", r.URL.Path, "err", err)
			}
		}}
		h.ServeHTTP(&davResponse{ResponseWriter: w, fs: fsys}, r)
	})
}

// davPath is the logical path of a WebDAV name ("/tempZone/home/x").
func davPath(name string) (catalog.Path, error) {
	if name == "" || name == "/" {
		return catalog.MustPath("/"), nil
	}
	return catalog.ParsePath(path.Clean("/" + name))
}

// davResponse answers a failed WebDAV request with the status of the one
// table and a message, where golang.org/x/net/webdav would answer a bare
// 403, 405 or 500 for what the zone refused (a rule, a quota, a lock).
type davResponse struct {
	http.ResponseWriter
	fs         *davFS
	overridden bool
}

func (d *davResponse) WriteHeader(code int) {
	err := d.fs.failure()
	if code >= 400 && err != nil && zones.KindOf(err) != zones.KindNotFound {
		d.overridden = true
		WriteError(d.ResponseWriter, err)
		return
	}
	d.ResponseWriter.WriteHeader(code)
}

func (d *davResponse) Write(p []byte) (int, error) {
	if d.overridden {
		return len(p), nil
	}
	return d.ResponseWriter.Write(p)
}

// davFS is the zone as a webdav.FileSystem for one request of one caller.
type davFS struct {
	zone *zones.Zone
	who  zones.Principal
	req  *http.Request
	mu   sync.Mutex
	// cache holds the entries that stats and listings of this request
	// found, so that a PROPFIND stats no entry twice; what the request
	// changes is forgotten.
	cache   map[string]catalog.Entry
	lastErr error
}

// fail records err, the zone's refusal, for davResponse, and returns what
// x/net/webdav understands: a not-found as fs.ErrNotExist.
func (f *davFS) fail(op, name string, err error) error {
	f.mu.Lock()
	f.lastErr = err
	f.mu.Unlock()
	switch zones.KindOf(err) {
	case zones.KindNotFound:
		return &os.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	case zones.KindExists:
		return &os.PathError{Op: op, Path: name, Err: fs.ErrExist}
	case zones.KindPermission, zones.KindDenied:
		return &os.PathError{Op: op, Path: name, Err: fs.ErrPermission}
	}
	return err
}

func (f *davFS) failure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}

func (f *davFS) path(op, name string) (catalog.Path, error) {
	p, err := davPath(name)
	if err != nil {
		return p, f.fail(op, name, err)
	}
	return p, nil
}

func (f *davFS) Mkdir(ctx context.Context, name string, _ os.FileMode) error {
	p, err := f.path("mkdir", name)
	if err != nil {
		return err
	}
	// Sync clients send MKCOL for a file's collection before every PUT:
	// a collection that is there is answered by a read, which does not
	// queue behind the catalog's writes as a refused create would.
	if e, err := f.stat(ctx, p); err == nil && e.Collection != nil {
		return f.fail("mkdir", name, mkcolExists(p, fmt.Errorf("collection %s: %w", p, catalog.ErrExists)))
	}
	if _, err := f.zone.MakeCollection(ctx, f.who, p, false); err != nil {
		if zones.KindOf(err) == zones.KindExists {
			err = mkcolExists(p, err)
		}
		return f.fail("mkdir", name, err)
	}
	f.forget(p)
	return nil
}

// mkcolExists is MKCOL's answer where something is: 405, as RFC 4918
// (9.3.1) says ("MKCOL can only be executed on an unmapped URL"). 409
// means a missing parent there, and a client that reads it so (rclone)
// checks with a PROPFIND or makes the parents first: a request more for
// every file it uploads.
func mkcolExists(p catalog.Path, err error) error {
	return reqError(http.StatusMethodNotAllowed, zones.KindExists.String(), fmt.Sprintf("MKCOL %s: %v", p, err))
}

// RemoveAll moves name to the caller's trash, as irm does.
func (f *davFS) RemoveAll(ctx context.Context, name string) error {
	p, err := f.path("remove", name)
	if err != nil {
		return err
	}
	if _, err := f.zone.Remove(ctx, f.who, p, true, false); err != nil {
		return f.fail("remove", name, err)
	}
	f.forget(p)
	return nil
}

func (f *davFS) Rename(ctx context.Context, oldName, newName string) error {
	from, err := f.path("rename", oldName)
	if err != nil {
		return err
	}
	to, err := f.path("rename", newName)
	if err != nil {
		return err
	}
	if err := f.zone.Rename(ctx, f.who, from, to); err != nil {
		return f.fail("rename", oldName, err)
	}
	f.forget(from)
	f.forget(to)
	return nil
}

func (f *davFS) forget(p catalog.Path) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.cache {
		if k == p.String() || strings.HasPrefix(k, p.String()+"/") {
			delete(f.cache, k)
		}
	}
}

// stat is the entry at p, from the zone once per request: x/net/webdav
// stats a PROPFIND's target and then opens it to stat it again.
func (f *davFS) stat(ctx context.Context, p catalog.Path) (catalog.Entry, error) {
	f.mu.Lock()
	e, ok := f.cache[p.String()]
	f.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := f.zone.Stat(ctx, f.who, p)
	if err != nil {
		return e, err
	}
	f.mu.Lock()
	f.cache[p.String()] = e
	f.mu.Unlock()
	return e, nil
}

func (f *davFS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	p, err := f.path("stat", name)
	if err != nil {
		return nil, err
	}
	e, err := f.stat(ctx, p)
	if err != nil {
		return nil, f.fail("stat", name, err)
	}
	return davInfo{e: e}, nil
}

func (f *davFS) OpenFile(ctx context.Context, name string, flag int, _ os.FileMode) (webdav.File, error) {
	p, err := f.path("open", name)
	if err != nil {
		return nil, err
	}
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		if flag&os.O_APPEND != 0 {
			return nil, f.fail("open", name, fmt.Errorf("%w: appending to a data object", catalog.ErrInvalidArgument))
		}
		size := int64(-1)
		if f.req.Method == http.MethodPut && f.req.ContentLength >= 0 {
			size = f.req.ContentLength
		}
		return &davUpload{fs: f, ctx: ctx, p: p, size: size}, nil
	}
	e, err := f.stat(ctx, p)
	if err != nil {
		return nil, f.fail("open", name, err)
	}
	return &davFile{fs: f, ctx: ctx, e: e}, nil
}

// davInfo is an entry as an os.FileInfo, with its checksum as the ETag and
// a content type by its name (no reading to sniff one).
type davInfo struct{ e catalog.Entry }

func (i davInfo) Name() string {
	if n := i.e.Path().Name(); n != "" {
		return n
	}
	return "/"
}

func (i davInfo) Size() int64 {
	if o := i.e.Object; o != nil {
		if r, ok := o.Newest(); ok {
			return r.Size
		}
	}
	return 0
}

func (i davInfo) Mode() os.FileMode {
	if i.e.Collection != nil {
		return os.ModeDir | 0o755
	}
	return 0o644
}

func (i davInfo) ModTime() time.Time {
	if c := i.e.Collection; c != nil {
		return c.ModifyTime
	}
	return i.e.Object.ModifyTime
}

func (i davInfo) IsDir() bool { return i.e.Collection != nil }
func (i davInfo) Sys() any    { return nil }

// ETag implements webdav.ETager: the checksum of the newest good replica.
func (i davInfo) ETag(context.Context) (string, error) {
	if o := i.e.Object; o != nil {
		if r, ok := o.Newest(); ok && r.Checksum != "" {
			return `"` + r.Checksum + `"`, nil
		}
	}
	return fmt.Sprintf(`"%x"`, i.ModTime().UnixNano()), nil
}

// ContentType implements webdav.ContentTyper.
func (i davInfo) ContentType(context.Context) (string, error) {
	if i.IsDir() {
		return "httpd/unix-directory", nil
	}
	return ContentType(i.Name()), nil
}

// davFile is a collection or data object opened for reading. A data object
// is opened in the zone at its first read (a PROPFIND opens every entry
// only to stat it), and again where a seek moved.
type davFile struct {
	fs  *davFS
	ctx context.Context
	e   catalog.Entry
	r   *objectReader
}

func (d *davFile) reader() *objectReader {
	if d.r == nil {
		info := davInfo{e: d.e}
		p := d.e.Path()
		d.r = &objectReader{size: info.Size(), open: func(off int64) (io.ReadCloser, error) {
			_, _, rc, err := d.fs.zone.OpenWith(d.ctx, d.fs.who, p, zones.OpenOptions{Offset: off})
			if err != nil {
				return nil, d.fs.fail("read", p.String(), err)
			}
			return rc, nil
		}}
	}
	return d.r
}

func (d *davFile) Read(p []byte) (int, error) {
	if d.e.Collection != nil {
		return 0, &os.PathError{Op: "read", Path: d.e.Path().String(), Err: errors.New("is a collection")}
	}
	return d.reader().Read(p)
}

func (d *davFile) Seek(offset int64, whence int) (int64, error) {
	if d.e.Collection != nil {
		return 0, nil
	}
	return d.reader().Seek(offset, whence)
}

func (d *davFile) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: d.e.Path().String(), Err: fs.ErrPermission}
}

func (d *davFile) Close() error {
	if d.r != nil {
		return d.r.Close()
	}
	return nil
}

func (d *davFile) Stat() (os.FileInfo, error) { return davInfo{e: d.e}, nil }

// Readdir lists the collection through the zone (only what the caller may
// read), and keeps the entries for the Stats of the same request.
func (d *davFile) Readdir(count int) ([]os.FileInfo, error) {
	if d.e.Collection == nil {
		return nil, &os.PathError{Op: "readdir", Path: d.e.Path().String(), Err: errors.New("not a collection")}
	}
	var out []os.FileInfo
	err := d.fs.zone.List(d.ctx, d.fs.who, d.e.Path(), false, func(page []catalog.Entry) error {
		d.fs.mu.Lock()
		defer d.fs.mu.Unlock()
		for _, e := range page {
			d.fs.cache[e.Path().String()] = e
			out = append(out, davInfo{e: e})
		}
		return nil
	})
	if err != nil {
		return nil, d.fs.fail("readdir", d.e.Path().String(), err)
	}
	if count > 0 && len(out) > count {
		out = out[:count]
	}
	return out, nil
}

// davUpload is a data object opened for writing: the bytes go to zone.Put
// as they come (ReadFrom, which io.Copy uses), which answers only once the
// replica is good, and which obeys rules, quotas and locks as iput.
type davUpload struct {
	fs   *davFS
	ctx  context.Context
	p    catalog.Path
	size int64
	obj  *catalog.DataObject
	n    int64
	// tried is set once the bytes went to the zone, well or not.
	tried bool
	// pw and done feed Write, for a copier that does not use ReadFrom.
	pw   *io.PipeWriter
	done chan error
}

func (u *davUpload) ReadFrom(r io.Reader) (int64, error) {
	if u.tried {
		return 0, &os.PathError{Op: "write", Path: u.p.String(), Err: errors.New("written already")}
	}
	u.tried = true
	cr := &countingReader{r: r}
	obj, err := u.fs.zone.Put(u.ctx, u.fs.who, zones.PutRequest{Path: u.p, Size: u.size, Overwrite: true}, cr)
	u.n = cr.n
	if err != nil {
		return cr.n, u.fs.fail("put", u.p.String(), err)
	}
	u.obj = &obj
	u.fs.forget(u.p)
	return cr.n, nil
}

// Write feeds a put through a pipe, for a copier that does not use
// ReadFrom (x/net/webdav copies with io.Copy, which does). The put ends at
// Close; a known size (Content-Length) guards against a cut-off body.
func (u *davUpload) Write(p []byte) (int, error) {
	if u.pw == nil {
		if u.tried {
			return 0, &os.PathError{Op: "write", Path: u.p.String(), Err: errors.New("written already")}
		}
		pr, pw := io.Pipe()
		u.pw, u.done = pw, make(chan error, 1)
		go func() {
			_, err := u.ReadFrom(pr)
			pr.CloseWithError(err)
			u.done <- err
		}()
	}
	return u.pw.Write(p)
}

func (u *davUpload) Read([]byte) (int, error) {
	return 0, &os.PathError{Op: "read", Path: u.p.String(), Err: fs.ErrPermission}
}

func (u *davUpload) Seek(int64, int) (int64, error) { return 0, nil }

func (u *davUpload) Readdir(int) ([]os.FileInfo, error) {
	return nil, &os.PathError{Op: "readdir", Path: u.p.String(), Err: errors.New("not a collection")}
}

func (u *davUpload) Close() error {
	if u.pw != nil {
		u.pw.Close()
		err := <-u.done
		u.pw = nil
		return err
	}
	if !u.tried {
		// Nothing was written (an empty body never reached ReadFrom): an
		// empty object, as a PUT of nothing makes.
		if _, err := u.ReadFrom(strings.NewReader("")); err != nil {
			return err
		}
	}
	return nil
}

func (u *davUpload) Stat() (os.FileInfo, error) {
	if u.obj != nil {
		return davInfo{e: catalog.Entry{Object: u.obj}}, nil
	}
	now := time.Now()
	return davInfo{e: catalog.Entry{Object: &catalog.DataObject{Path: u.p, CreateTime: now, ModifyTime: now}}}, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
