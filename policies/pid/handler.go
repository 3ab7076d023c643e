package pid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// Zone is what the resolver asks of the zone.
type Zone interface {
	// RegisterHandle stores a record for a Handle REST client, through the
	// dispatcher (administrators only).
	RegisterHandle(ctx context.Context, caller zones.Principal, handle string, values []zones.PIDValue, overwrite bool) (bool, error)
	// PublicView is what anyone may see of the entry at p: its record and
	// AVUs if the public group may read it, else catalog.ErrPermission.
	PublicView(ctx context.Context, p catalog.Path) (catalog.Entry, []catalog.AVU, error)
}

// Authenticator checks the user and password of a Handle REST client
// (HTTP Basic). The user may be given as Handle services name their
// administrators, "300:PREFIX/NAME": NAME is the user.
type Authenticator func(ctx context.Context, user, password string) (zones.Principal, error)

// Handler serves the PIDs of a zone over HTTP:
//
//	GET /api/handles/{prefix}/{suffix}[?type=T&index=I]   the Handle REST API's resolution
//	PUT /api/handles/{prefix}/{suffix}                    a Handle service's registration (administrators)
//	GET /{prefix}/{suffix}                                a redirect to the record's URL (a landing page), for the zone's prefix
//	GET /landing/{path}                                   the landing page of a data object or collection
//
// Resolution is public, as a Handle server's is; a landing page shows the
// object's metadata only if the public group may read it.
type Handler struct {
	keeper *Keeper
	zone   Zone
	auth   Authenticator
	mux    *http.ServeMux
}

// NewHandler serves keeper's PIDs; zone and auth may be nil (no landing
// pages, no registration).
func NewHandler(keeper *Keeper, zone Zone, auth Authenticator) *Handler {
	h := &Handler{keeper: keeper, zone: zone, auth: auth, mux: http.NewServeMux()}
	h.Mount(h.mux)
	return h
}

// Mount adds the resolver's routes to mux (the zone's HTTPS listener):
// /api/handles/, /landing/, and /PREFIX/ for the zone's prefix.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/handles/{prefix}/{suffix...}", h.resolve)
	mux.HandleFunc("PUT /api/handles/{prefix}/{suffix...}", h.register)
	mux.HandleFunc("DELETE /api/handles/{prefix}/{suffix...}", h.remove)
	mux.HandleFunc("GET /landing/{path...}", h.landing)
	mux.HandleFunc("GET /"+h.keeper.Prefix()+"/{suffix...}", h.redirect)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

var contentTypeJSON = []string{"application/json;charset=UTF-8"}

// answer writes a Handle REST API response.
func answer(w http.ResponseWriter, status int, resp Response) {
	w.Header()["Content-Type"] = contentTypeJSON
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

// handleOf reads the handle of a request, answering if it is malformed or
// of another prefix.
func (h *Handler) handleOf(w http.ResponseWriter, r *http.Request) (Handle, bool) {
	raw := r.PathValue("prefix") + "/" + r.PathValue("suffix")
	hd, err := ParseHandle(raw)
	if err != nil {
		answer(w, http.StatusBadRequest, Response{ResponseCode: CodeInvalidHandle, Handle: raw, Message: err.Error()})
		return Handle{}, false
	}
	if err := Responsible(hd, h.keeper.Prefix()); err != nil {
		answer(w, http.StatusBadRequest, Response{ResponseCode: CodeNotResponsible, Handle: raw, Message: err.Error()})
		return Handle{}, false
	}
	return hd, true
}

// failed answers the error of resolving or registering hd.
func failed(w http.ResponseWriter, hd Handle, err error) {
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		answer(w, http.StatusNotFound, Response{ResponseCode: CodeNotFound, Handle: hd.String(), Message: "Handle Not Found"})
	case errors.Is(err, catalog.ErrExists):
		answer(w, http.StatusConflict, Response{ResponseCode: CodeExists, Handle: hd.String(), Message: "Handle Already Exists"})
	case errors.Is(err, ErrInvalidHandle):
		answer(w, http.StatusBadRequest, Response{ResponseCode: CodeInvalidHandle, Handle: hd.String(), Message: err.Error()})
	case errors.Is(err, ErrOtherPrefix):
		answer(w, http.StatusBadRequest, Response{ResponseCode: CodeNotResponsible, Handle: hd.String(), Message: err.Error()})
	case errors.Is(err, catalog.ErrInvalidArgument):
		answer(w, http.StatusBadRequest, Response{ResponseCode: CodeInvalidValue, Handle: hd.String(), Message: err.Error()})
	case errors.Is(err, catalog.ErrPermission):
		answer(w, http.StatusForbidden, Response{ResponseCode: CodeForbidden, Handle: hd.String(), Message: err.Error()})
	case errors.Is(err, zones.ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Basic realm="handle"`)
		answer(w, http.StatusUnauthorized, Response{ResponseCode: CodeAuthNeeded, Handle: hd.String(), Message: "Authentication needed"})
	default:
		answer(w, http.StatusInternalServerError, Response{ResponseCode: CodeError, Handle: hd.String(), Message: err.Error()})
	}
}

// resolve answers GET /api/handles/{handle}: the record, or the values of
// the types (a type ending in "." takes its subtypes) and indexes asked
// for.
func (h *Handler) resolve(w http.ResponseWriter, r *http.Request) {
	hd, ok := h.handleOf(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var indexes []int
	for _, s := range q["index"] {
		i, err := strconv.Atoi(s)
		if err != nil {
			answer(w, http.StatusBadRequest, Response{ResponseCode: CodeError, Handle: hd.String(), Message: fmt.Sprintf("index %q is not a number", s)})
			return
		}
		indexes = append(indexes, i)
	}
	types := q["type"]
	if reg, ok := h.keeper.Provider().(*Registry); ok && len(types) == 0 && len(indexes) == 0 {
		// The whole record, as cached by the registry.
		body, err := reg.Answer(r.Context(), hd)
		if err != nil {
			failed(w, hd, err)
			return
		}
		w.Header()["Content-Type"] = contentTypeJSON
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return
	}
	vs, err := h.keeper.Provider().Resolve(r.Context(), hd)
	if err != nil {
		failed(w, hd, err)
		return
	}
	if len(types) > 0 || len(indexes) > 0 {
		var picked []Value
		for _, v := range vs {
			if matches(v, types, indexes) {
				picked = append(picked, v)
			}
		}
		if len(picked) == 0 {
			answer(w, http.StatusOK, Response{ResponseCode: CodeValuesNotFound, Handle: hd.String(), Message: "Values Not Found"})
			return
		}
		vs = picked
	}
	answer(w, http.StatusOK, Response{ResponseCode: CodeSuccess, Handle: hd.String(), Values: vs})
}

func matches(v Value, types []string, indexes []int) bool {
	for _, i := range indexes {
		if v.Index == i {
			return true
		}
	}
	for _, t := range types {
		if strings.EqualFold(v.Type, t) || strings.HasSuffix(t, ".") && len(v.Type) >= len(t) && strings.EqualFold(v.Type[:len(t)], t) {
			return true
		}
	}
	return false
}

// register answers PUT /api/handles/{handle}: a record created (201) or
// replaced (200). "?overwrite=false" or "If-None-Match: *" refuses to
// replace; "If-Match: *" refuses to create.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	hd, ok := h.handleOf(w, r)
	if !ok {
		return
	}
	if h.zone == nil || h.auth == nil {
		answer(w, http.StatusForbidden, Response{ResponseCode: CodeForbidden, Handle: hd.String(), Message: "this resolver takes no registrations"})
		return
	}
	user, password, ok := r.BasicAuth()
	if !ok {
		failed(w, hd, zones.ErrUnauthenticated)
		return
	}
	if u, err := url.QueryUnescape(user); err == nil {
		user = u
	}
	if _, name, ok := strings.Cut(user, "/"); ok && strings.Contains(user, ":") {
		user = name // "300:PREFIX/NAME"
	}
	caller, err := h.auth(r.Context(), user, password)
	if err != nil {
		failed(w, hd, fmt.Errorf("%w: %v", zones.ErrUnauthenticated, err))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxValues*MaxValueData+4096))
	if err != nil {
		answer(w, http.StatusBadRequest, Response{ResponseCode: CodeError, Handle: hd.String(), Message: err.Error()})
		return
	}
	vs, err := readValues(body)
	if err != nil {
		failed(w, hd, err)
		return
	}
	if err := CheckValues(vs); err != nil {
		failed(w, hd, err)
		return
	}
	noReplace := r.URL.Query().Get("overwrite") == "false" || r.Header.Get("If-None-Match") == "*"
	mustExist := r.Header.Get("If-Match") == "*"
	if mustExist {
		if _, err := h.keeper.Provider().Resolve(r.Context(), hd); err != nil {
			failed(w, hd, err)
			return
		}
	}
	created, err := h.zone.RegisterHandle(r.Context(), caller, hd.String(), ZoneValues(vs), !noReplace)
	if err != nil {
		failed(w, hd, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	answer(w, status, Response{ResponseCode: CodeSuccess, Handle: hd.String()})
}

// readValues reads a PUT's entity: an array of values, an object with
// "values", or one value.
func readValues(body []byte) ([]Value, error) {
	bad := func(err error) ([]Value, error) {
		return nil, fmt.Errorf("%w: handle values: %v", catalog.ErrInvalidArgument, err)
	}
	trimmed := strings.TrimSpace(string(body))
	switch {
	case strings.HasPrefix(trimmed, "["):
		var vs []Value
		if err := json.Unmarshal(body, &vs); err != nil {
			return bad(err)
		}
		return vs, nil
	case strings.HasPrefix(trimmed, "{"):
		var wrapped struct {
			Values []Value `json:"values"`
		}
		if err := json.Unmarshal(body, &wrapped); err != nil {
			return bad(err)
		}
		if wrapped.Values != nil {
			return wrapped.Values, nil
		}
		var v Value
		if err := json.Unmarshal(body, &v); err != nil {
			return bad(err)
		}
		return []Value{v}, nil
	}
	return bad(errors.New("not JSON values"))
}

// remove refuses DELETE: a handle here is never removed, so that it is
// never given out again.
func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	hd, ok := h.handleOf(w, r)
	if !ok {
		return
	}
	answer(w, http.StatusForbidden, Response{ResponseCode: CodeForbidden, Handle: hd.String(),
		Message: "handles are never deleted here: a removed object's record says it is removed"})
}

// redirect answers GET /{prefix}/{suffix} as a Handle proxy does: to the
// record's URL, or a page saying the data is gone.
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request) {
	raw := h.keeper.Prefix() + "/" + r.PathValue("suffix")
	hd, err := ParseHandle(raw)
	if err != nil {
		h.page(w, http.StatusBadRequest, pageData{Title: "Not a handle of this zone", Handle: raw, Message: err.Error()})
		return
	}
	vs, err := h.keeper.Provider().Resolve(r.Context(), hd)
	if errors.Is(err, catalog.ErrNotFound) {
		h.page(w, http.StatusNotFound, pageData{Title: "Handle not found", Handle: hd.String()})
		return
	}
	if err != nil {
		h.page(w, http.StatusBadGateway, pageData{Title: "The handle cannot be resolved now", Handle: hd.String(), Message: err.Error()})
		return
	}
	if st, ok := find(vs, TypeStatus); ok && strings.HasPrefix(st.String(), statusRemoved) {
		h.page(w, http.StatusGone, pageData{Title: "Removed", Handle: hd.String(), Message: "The data this PID identified was " + st.String() + ".", Values: vs})
		return
	}
	target, ok := find(vs, TypeURL)
	if !ok || target.String() == "" {
		h.page(w, http.StatusOK, pageData{Title: "No location", Handle: hd.String(), Values: vs})
		return
	}
	http.Redirect(w, r, target.String(), http.StatusFound)
}

type pageData struct {
	Title, Handle, Message string
	Path                   string
	Restricted             bool
	Kind                   string
	Size                   int64
	Checksum               string
	Modified               string
	AVUs                   []catalog.AVU
	Values                 []Value
}

var landingPage = template.Must(template.New("landing").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}</style>
</head><body>
<h1>{{.Title}}</h1>
{{if .Handle}}<p>PID <code>{{.Handle}}</code></p>{{end}}
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Path}}<p>{{.Kind}} <code>{{.Path}}</code></p>{{end}}
{{if .Restricted}}<p><strong>Restricted:</strong> the metadata of this object is not public.</p>{{end}}
{{if .Checksum}}<table><tr><th>size</th><td>{{.Size}} bytes</td></tr><tr><th>checksum</th><td><code>{{.Checksum}}</code></td></tr><tr><th>modified</th><td>{{.Modified}}</td></tr></table>{{end}}
{{if .AVUs}}<h2>Metadata</h2><table><tr><th>attribute</th><th>value</th><th>unit</th></tr>
{{range .AVUs}}<tr><td>{{.Attribute}}</td><td>{{.Value}}</td><td>{{.Unit}}</td></tr>
{{end}}</table>{{end}}
{{if .Values}}<h2>Handle record</h2><table><tr><th>index</th><th>type</th><th>value</th></tr>
{{range .Values}}<tr><td>{{.Index}}</td><td>{{.Type}}</td><td><code>{{.String}}</code></td></tr>
{{end}}</table>{{end}}
</body></html>
`))

func (h *Handler) page(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = landingPage.Execute(w, d)
}

// landing answers GET /landing/{path}: the object's public metadata, or
// that it is restricted; the PID record either way.
func (h *Handler) landing(w http.ResponseWriter, r *http.Request) {
	p, err := catalog.ParsePath("/" + r.PathValue("path"))
	if err != nil {
		h.page(w, http.StatusBadRequest, pageData{Title: "Not a path", Message: err.Error()})
		return
	}
	d := pageData{Title: p.Name(), Path: p.String()}
	var pidOf zones.PID
	if pidOf, err = h.keeper.OfPath(r.Context(), p); err == nil {
		d.Handle = pidOf.Handle
		if hd, err := ParseHandle(pidOf.Handle); err == nil {
			d.Values, _ = h.keeper.Provider().Resolve(r.Context(), hd)
		}
	}
	if errors.Is(err, catalog.ErrNotFound) && d.Handle == "" {
		if _, serr := h.keeper.cat.Stat(r.Context(), p); errors.Is(serr, catalog.ErrNotFound) {
			h.page(w, http.StatusNotFound, pageData{Title: "Not found", Path: p.String()})
			return
		}
	}
	if h.zone == nil {
		d.Restricted = true
		h.page(w, http.StatusOK, d)
		return
	}
	e, avus, err := h.zone.PublicView(r.Context(), p)
	switch {
	case errors.Is(err, catalog.ErrPermission):
		d.Restricted = true
	case err != nil:
		h.page(w, http.StatusNotFound, pageData{Title: "Not found", Path: p.String()})
		return
	default:
		d.AVUs = avus
		d.Kind = "collection"
		if e.Object != nil {
			d.Kind = "data object"
			if rep, ok := e.Object.Newest(); ok {
				d.Size, d.Checksum, d.Modified = rep.Size, rep.Checksum, rep.ModifyTime.UTC().Format(time.RFC3339)
			}
		}
	}
	if d.Kind == "" {
		d.Kind = "entry"
	}
	h.page(w, http.StatusOK, d)
}
