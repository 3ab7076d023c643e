package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// pathOf is the logical path in r's URL after prefix (such as
// "/api/v1/objects/").
func pathOf(r *http.Request, prefix string) (catalog.Path, error) {
	esc := r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(esc, prefix)
	if !ok {
		rest, ok = strings.CutPrefix(esc+"/", prefix)
		if !ok {
			return catalog.Path{}, badRequest("bad_path", fmt.Sprintf("%s is not below %s", esc, prefix))
		}
	}
	return ParseURLPath(rest)
}

// boolParam reads a true/false query parameter; absent is false.
func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("invalid_argument", fmt.Sprintf("query parameter %s=%q: want true or false", name, cut(v, 40)))
	}
	return b, nil
}

// intParam reads an integer query parameter within [lo, hi]; absent is def.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("invalid_argument", fmt.Sprintf("query parameter %s=%q: want a whole number from %d to %d", name, cut(v, 40), lo, hi))
	}
	return n, nil
}

func (a *API) stat(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/entries/")
	if err != nil {
		return err
	}
	e, err := a.zone.Stat(r.Context(), who, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EntryOf(e, true))
	return nil
}

// RemoveResult answers DELETE /api/v1/entries/{path}.
type RemoveResult struct {
	DataObjects int64  `json:"data_objects"`
	Collections int64  `json:"collections"`
	Trash       string `json:"trash,omitempty"`
}

func (a *API) remove(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/entries/")
	if err != nil {
		return err
	}
	recursive, err := boolParam(r, "recursive")
	if err != nil {
		return err
	}
	force, err := boolParam(r, "force")
	if err != nil {
		return err
	}
	res, err := a.zone.Remove(r.Context(), who, p, recursive, force)
	if err != nil {
		return err
	}
	out := RemoveResult{DataObjects: res.DataObjects, Collections: res.Collections}
	if !res.TrashPath.IsZero() {
		out.Trash = res.TrashPath.String()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// Listing is one page of a collection.
type Listing struct {
	Path    string  `json:"path"`
	Entries []Entry `json:"entries"`
	// Next is the cursor of the next page (?after=), "" after the last.
	Next string `json:"next,omitempty"`
}

// DefaultPageSize is how many entries a page of a listing has unless asked.
const DefaultPageSize = 100

func (a *API) list(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/collections/")
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", DefaultPageSize, 1, zones.MaxListPage)
	if err != nil {
		return err
	}
	page, next, err := a.zone.ListPage(r.Context(), who, p, r.URL.Query().Get("after"), limit)
	if err != nil {
		return err
	}
	out := Listing{Path: p.String(), Entries: make([]Entry, 0, len(page)), Next: next}
	for _, e := range page {
		out.Entries = append(out.Entries, EntryOf(e, false))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) mkdir(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/collections/")
	if err != nil {
		return err
	}
	parents, err := boolParam(r, "parents")
	if err != nil {
		return err
	}
	c, err := a.zone.MakeCollection(r.Context(), who, p, parents)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, EntryOf(catalog.Entry{Collection: &c}, true))
	return nil
}

// RenameRequest is the body of POST /api/v1/rename.
type RenameRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func (a *API) rename(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	var req RenameRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	from, err := catalog.ParsePath(req.From)
	if err != nil {
		return fmt.Errorf("from: %w", err)
	}
	to, err := catalog.ParsePath(req.To)
	if err != nil {
		return fmt.Errorf("to: %w", err)
	}
	if err := a.zone.Rename(r.Context(), who, from, to); err != nil {
		return err
	}
	e, err := a.zone.Stat(r.Context(), who, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EntryOf(e, false))
	return nil
}

// put stores the body as a data object: streamed to the zone as it comes,
// answered 201 only once zone.Put has returned, when the replica is good
// (durable, checksummed, committed). ?overwrite=true replaces an existing
// object; ?resource= picks the resource; ?checksum=sha2:... (or the header
// Repr-Digest: sha-256=:...:) must match the bytes, or nothing is kept.
func (a *API) put(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/objects/")
	if err != nil {
		return err
	}
	overwrite, err := boolParam(r, "overwrite")
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
		return reqError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"PUT takes the object's bytes as the body, not a multipart form (curl -T FILE, or --data-binary @FILE)")
	}
	sum := r.URL.Query().Get("checksum")
	if d := r.Header.Get("Repr-Digest"); d != "" && sum == "" {
		if sum, err = checksumOfDigest(d); err != nil {
			return err
		}
	}
	req := zones.PutRequest{Path: p, Size: r.ContentLength, Resource: r.URL.Query().Get("resource"), Overwrite: overwrite, Checksum: sum}
	obj, err := a.zone.Put(r.Context(), who, req, r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return reqError(http.StatusRequestEntityTooLarge, "too_large", err.Error())
		}
		return err
	}
	w.Header().Set("Location", "/api/v1/objects"+escapePath(obj.Path))
	writeJSON(w, http.StatusCreated, EntryOf(catalog.Entry{Object: &obj}, true))
	return nil
}

// checksumOfDigest turns an RFC 9530 digest header (sha-256=:BASE64:) into
// the zone's checksum (sha2:BASE64).
func checksumOfDigest(h string) (string, error) {
	for part := range strings.SplitSeq(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, "sha-256") && len(v) > 2 && v[0] == ':' && v[len(v)-1] == ':' {
			return "sha2:" + v[1:len(v)-1], nil
		}
	}
	return "", badRequest("invalid_argument", fmt.Sprintf("Repr-Digest %q: want sha-256=:BASE64:", cut(h, 100)))
}

// escapePath is p as a URL path, each name escaped.
func escapePath(p catalog.Path) string {
	var b strings.Builder
	for _, c := range p.Components() {
		b.WriteByte('/')
		b.WriteString(pathEscape(c))
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// ContentType is the media type a data object is served with: by its
// name's extension, else application/octet-stream.
func ContentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Download serves the data object at p to w as GET and HEAD do, with
// Range, If-Range, If-None-Match and If-Modified-Since, an ETag of its
// checksum and a Repr-Digest. It reads through the zone (Stat, then Open
// at the first range), so the caller's permission and the rules decide.
// It returns the error met before anything was written.
func Download(w http.ResponseWriter, r *http.Request, z *zones.Zone, who zones.Principal, p catalog.Path, replica int, attachment bool) error {
	e, err := z.Stat(r.Context(), who, p)
	if err != nil {
		return err
	}
	if e.Object == nil {
		return fmt.Errorf("%w: %s is a collection; list it at /api/v1/collections%s", catalog.ErrNotDataObject, p, escapePath(p))
	}
	rep, ok := e.Object.Newest()
	if replica != 0 {
		ok = false
		for _, r := range e.Object.Replicas {
			if r.Number == replica {
				rep, ok = r, true
			}
		}
	}
	if !ok {
		return fmt.Errorf("%w: %s has no replica to read", catalog.ErrNotFound, p)
	}
	size := rep.Size
	rangeHeader := r.Header.Get("Range")
	if size == 0 {
		rangeHeader = "" // clients may ask ranges of everything; an empty object has none
		r.Header.Del("Range")
	}
	ranges, err := ParseRange(rangeHeader, size)
	if err != nil {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		return err
	}
	h := w.Header()
	h.Set("Content-Type", ContentType(p.Name()))
	if attachment {
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": p.Name()}))
	}
	if b64, ok := strings.CutPrefix(rep.Checksum, "sha2:"); ok {
		h.Set("ETag", `"`+rep.Checksum+`"`)
		h.Set("Repr-Digest", "sha-256=:"+b64+":")
	}
	h.Set("Cache-Control", "private, no-cache")
	rs := &objectReader{size: size, open: func(off int64) (io.ReadCloser, error) {
		_, _, rc, err := z.OpenWith(r.Context(), who, p, zones.OpenOptions{Replica: replica, Offset: off})
		return rc, err
	}}
	defer rs.Close()
	if r.Method != http.MethodHead {
		// Open now, where the first range starts, so that a refusal is
		// answered as an error and not as a cut-off body.
		first := int64(0)
		if len(ranges) > 0 {
			first = ranges[0].Start
		}
		if err := rs.openAt(first); err != nil {
			for _, k := range []string{"Content-Type", "Content-Disposition", "ETag", "Repr-Digest"} {
				h.Del(k)
			}
			return err
		}
	}
	http.ServeContent(w, r, p.Name(), e.Object.ModifyTime, rs)
	return nil
}

func (a *API) get(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/objects/")
	if err != nil {
		return err
	}
	replica, err := intParam(r, "replica", 0, 0, 1<<20)
	if err != nil {
		return err
	}
	download, err := boolParam(r, "download")
	if err != nil {
		return err
	}
	return Download(w, r, a.zone, who, p, replica, download)
}

// objectReader is an io.ReadSeeker over a data object: it seeks without
// I/O and opens the object at the position of the next read when that is
// not where its open reader stands.
type objectReader struct {
	size  int64
	open  func(offset int64) (io.ReadCloser, error)
	pos   int64
	rc    io.ReadCloser
	rcPos int64
}

func (o *objectReader) openAt(off int64) error {
	if o.rc != nil && o.rcPos == off {
		return nil
	}
	o.Close()
	rc, err := o.open(off)
	if err != nil {
		return err
	}
	o.rc, o.rcPos = rc, off
	return nil
}

func (o *objectReader) Read(p []byte) (int, error) {
	if o.pos >= o.size {
		return 0, io.EOF
	}
	if err := o.openAt(o.pos); err != nil {
		return 0, err
	}
	if rest := o.size - o.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := o.rc.Read(p)
	o.pos += int64(n)
	o.rcPos += int64(n)
	if errors.Is(err, io.EOF) && o.pos < o.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (o *objectReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.pos
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	o.pos = offset
	return offset, nil
}

func (o *objectReader) Close() error {
	if o.rc == nil {
		return nil
	}
	err := o.rc.Close()
	o.rc = nil
	return err
}
