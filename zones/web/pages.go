package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/httpapi"
)

// PageSize is how many entries a page of the collection browser shows.
const PageSize = 100

// maxSearchResults bounds what a search shows.
const maxSearchResults = 500

func (s *Web) home(w http.ResponseWriter, r *http.Request, c caller) error {
	http.Redirect(w, r, "/browse"+escapePathString(s.zone.Home(c.User.Name).String()), http.StatusSeeOther)
	return nil
}

// loginCSRF is the CSRF token of the login form: an HMAC of a random
// cookie, which a page of another site can neither read nor set.
func (s *Web) loginCSRF(cookie string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("login\x00"))
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

type loginData struct{ Next, User string }

func (s *Web) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, loginData{Next: safeNext(r.URL.Query().Get("next"))}, nil)
}

func (s *Web) renderLogin(w http.ResponseWriter, r *http.Request, d loginData, problem *httpapi.Problem) {
	raw := make([]byte, 24)
	rand.Read(raw)
	value := base64.RawURLEncoding.EncodeToString(raw)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: value, Path: "/", MaxAge: 3600,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	s.render(w, r, nil, "login", page{Title: "Log in", CSRF: s.loginCSRF(value), Problem: problem, Data: d})
}

// safeNext keeps a "next" address only if it is a path of this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

func (s *Web) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		p := httpapi.ProblemOf(fmt.Errorf("%w: the form: %v", catalog.ErrInvalidArgument, err))
		s.renderLogin(w, r, loginData{}, &p)
		return
	}
	d := loginData{Next: safeNext(r.PostFormValue("next")), User: r.PostFormValue("user")}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !hmac.Equal([]byte(s.loginCSRF(ck.Value)), []byte(r.PostFormValue("csrf"))) {
		p := httpapi.ProblemOf(errCSRF)
		s.renderLogin(w, r, d, &p)
		return
	}
	resp, err := s.api.Login(r, d.User, r.PostFormValue("password"))
	if err != nil {
		p := httpapi.ProblemOf(err)
		s.renderLogin(w, r, d, &p)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	s.setSession(w, resp.Token, resp.Expires)
	next := d.Next
	if next == "" || strings.HasPrefix(next, "/login") {
		next = "/browse" + escapePathString(resp.User.Home)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Web) logout(w http.ResponseWriter, r *http.Request, c caller) error {
	if _, err := s.auth.Logout(r.Context(), c.Principal, c.token, false); err != nil {
		return err
	}
	s.clearSession(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// crumb is one step of the breadcrumb trail.
type crumb struct {
	Name, Path string
	Current    bool
}

func crumbsOf(p catalog.Path) []crumb {
	out := []crumb{{Name: "/", Path: "/", Current: p.IsRoot()}}
	cur := ""
	comps := p.Components()
	for i, c := range comps {
		cur += "/" + c
		out = append(out, crumb{Name: c, Path: cur, Current: i == len(comps)-1})
	}
	return out
}

// pathOf is the logical path in r's URL after prefix ("/browse").
func pathOf(r *http.Request, prefix string) (catalog.Path, error) {
	rest, _ := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	return httpapi.ParseURLPath(rest)
}

var notices = map[string]string{
	"upload": "Uploaded.",
	"meta":   "Metadata saved.",
	"mkdir":  "Collection created.",
}

type collectionData struct {
	Path        string
	Crumbs      []crumb
	Entries     []httpapi.Entry
	After, Next string
}

// qosRow is one QoS requirement that applies to an object, as its page
// shows it.
type qosRow struct {
	Expr, On, Status, Reason string
	Replicas                 int
}

// certRow is one certificate of an object.
type certRow struct {
	ID, Issuer, IssuedAt, SupersededBy string
	Objects                            int
}

type objectData struct {
	Entry  httpapi.Entry
	Parent string
	Crumbs []crumb
	AVUs   []httpapi.AVU
	// Expires is the object's expiry (iretention expire), "" for none.
	Expires string
	// PID and RAiD are its identifiers, from the AVUs that mirror them;
	// PIDValues the other EUDAT values mirrored.
	PID, RAiD string
	PIDValues []httpapi.AVU
	// Provenance is its provenance as text (iprov), or why it is not shown.
	Provenance, ProvenanceNote string
	// QoS are the requirements that apply to it, with their status;
	// Certificates its certificates, newest first; the notes say why a
	// panel has nothing to show.
	QoS              []qosRow
	QoSNote          string
	Certificates     []certRow
	CertificatesNote string
}

// objectData fills the object page of e: the panels of retention, PIDs
// and RAiD, and provenance, from what the zone keeps.
func (s *Web) objectData(r *http.Request, c caller, e catalog.Entry, avus []catalog.AVU) objectData {
	p := e.Object.Path
	d := objectData{Entry: httpapi.EntryOf(e, true), Parent: p.Parent().String(), Crumbs: crumbsOf(p),
		AVUs: httpapi.AVUsOf(avus)}
	for _, a := range avus {
		switch {
		case a.Attribute == zones.ExpiryAttribute:
			d.Expires = a.Value
		case a.Attribute == "PID":
			d.PID = a.Value
		case a.Attribute == "RAiD":
			d.RAiD = a.Value
		case strings.HasPrefix(a.Attribute, "EUDAT/"):
			d.PIDValues = append(d.PIDValues, httpapi.AVU{Attribute: a.Attribute, Value: a.Value})
		}
	}
	if qs, err := s.zone.ListQoS(r.Context(), c.Principal, p, false); err != nil {
		d.QoSNote = "QoS is not available: " + err.Error()
	} else {
		for _, q := range qs {
			on := q.Path.String()
			if q.Path == p {
				on = "this object"
			}
			d.QoS = append(d.QoS, qosRow{Expr: q.Expr, Replicas: q.Replicas, On: on, Status: q.Status, Reason: q.Reason})
		}
	}
	if cs, err := s.zone.ListCertificates(r.Context(), c.Principal, p); err != nil {
		d.CertificatesNote = "Certificates are not available: " + err.Error()
	} else {
		for i := len(cs) - 1; i >= 0; i-- {
			ct := cs[i]
			if ct.Subject != p {
				continue
			}
			d.Certificates = append(d.Certificates, certRow{ID: ct.ID, Issuer: ct.Issuer.String(),
				IssuedAt: ct.IssuedAt.UTC().Format(time.RFC3339), SupersededBy: ct.SupersededBy, Objects: ct.Objects})
		}
	}
	text, err := s.zone.ExportProvenance(r.Context(), c.Principal, zones.ProvExport{Path: p, Format: "text"})
	switch {
	case err != nil:
		d.ProvenanceNote = "Provenance is not available: " + err.Error()
	case len(text) > maxProvenanceText:
		d.Provenance = string(text[:maxProvenanceText])
		d.ProvenanceNote = "Cut here: iprov " + p.String() + " prints all of it."
	default:
		d.Provenance = string(text)
	}
	return d
}

// maxProvenanceText bounds the provenance an object page shows.
const maxProvenanceText = 64 << 10

func (s *Web) browse(w http.ResponseWriter, r *http.Request, c caller) error {
	p, err := pathOf(r, "/browse")
	if err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	entries, next, err := s.zone.ListPage(r.Context(), c.Principal, p, after, PageSize)
	if err != nil {
		return err
	}
	notice := notices[r.URL.Query().Get("done")]
	if len(entries) == 1 && entries[0].Object != nil && entries[0].Object.Path == p {
		// A data object: its own page, which needs its metadata too.
		avus, err := s.zone.ListMetadata(r.Context(), c.Principal, catalog.ObjectTarget(p), "")
		if err != nil {
			return err
		}
		d := s.objectData(r, c, entries[0], avus)
		s.render(w, r, &c, "object", page{Title: p.Name(), Nav: "browse", Notice: notice, Data: d})
		return nil
	}
	d := collectionData{Path: p.String(), Crumbs: crumbsOf(p), After: after, Next: next}
	for _, e := range entries {
		d.Entries = append(d.Entries, httpapi.EntryOf(e, false))
	}
	s.render(w, r, &c, "collection", page{Title: p.String(), Nav: "browse", Notice: notice, Data: d})
	return nil
}

func (s *Web) download(w http.ResponseWriter, r *http.Request, c caller) error {
	p, err := pathOf(r, "/download")
	if err != nil {
		return err
	}
	return httpapi.Download(w, r, s.zone, c.Principal, p, -1, true)
}

// upload stores the file of a multipart form in the collection: streamed
// to zone.Put as it arrives, nothing buffered. The form's fields come in
// page order: csrf, overwrite, then the file.
func (s *Web) upload(w http.ResponseWriter, r *http.Request, c caller) error {
	coll, err := pathOf(r, "/upload")
	if err != nil {
		return err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return fmt.Errorf("%w: an upload is a multipart form: %v", catalog.ErrInvalidArgument, err)
	}
	csrfOK, overwrite, stored := false, false, 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: the upload form: %v", catalog.ErrInvalidArgument, err)
		}
		switch part.FormName() {
		case "csrf":
			v, _ := io.ReadAll(io.LimitReader(part, 256))
			csrfOK = s.validCSRF(c.token, string(v))
		case "overwrite":
			v, _ := io.ReadAll(io.LimitReader(part, 16))
			overwrite = string(v) == "true"
		case "file":
			if !csrfOK {
				return errCSRF
			}
			if err := s.putPart(r, c, coll, part, overwrite); err != nil {
				return err
			}
			stored++
		}
		part.Close()
	}
	if !csrfOK {
		return errCSRF
	}
	if stored == 0 {
		return fmt.Errorf("%w: the form held no file", catalog.ErrInvalidArgument)
	}
	http.Redirect(w, r, "/browse"+escapePathString(coll.String())+"?done=upload", http.StatusSeeOther)
	return nil
}

func (s *Web) putPart(r *http.Request, c caller, coll catalog.Path, part *multipart.Part, overwrite bool) error {
	name := part.FileName()
	if name == "" {
		return fmt.Errorf("%w: choose a file to upload", catalog.ErrInvalidArgument)
	}
	p, err := coll.Join(name)
	if err != nil {
		return err
	}
	_, err = s.zone.Put(r.Context(), c.Principal, zones.PutRequest{Path: p, Size: -1, Overwrite: overwrite}, part)
	return err
}

func (s *Web) mkdir(w http.ResponseWriter, r *http.Request, c caller) error {
	coll, err := pathOf(r, "/mkdir")
	if err != nil {
		return err
	}
	p, err := coll.Join(strings.TrimSpace(r.PostFormValue("name")))
	if err != nil {
		return err
	}
	if _, err := s.zone.MakeCollection(r.Context(), c.Principal, p, false); err != nil {
		return err
	}
	http.Redirect(w, r, "/browse"+escapePathString(p.String())+"?done=mkdir", http.StatusSeeOther)
	return nil
}

func (s *Web) meta(w http.ResponseWriter, r *http.Request, c caller) error {
	p, err := pathOf(r, "/meta")
	if err != nil {
		return err
	}
	avu := httpapi.AVU{Attribute: r.PostFormValue("attribute"), Value: r.PostFormValue("value"), Unit: r.PostFormValue("unit")}
	req := httpapi.MetadataChange{Action: r.PostFormValue("action"), AVUs: []httpapi.AVU{avu}}
	if err := httpapi.ChangeMetadata(r, s.zone, c.Principal, p, req); err != nil {
		return err
	}
	http.Redirect(w, r, "/browse"+escapePathString(p.String())+"?done=meta", http.StatusSeeOther)
	return nil
}

type searchData struct {
	Kind, Attribute, Op, Value string
	Query                      string
	Results                    []string
	Truncated                  bool
}

// quote is a string literal of the query language.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// SearchQuery is the iquest query of a metadata search: data objects
// (kind "data") or collections ("coll") with an AVU of attribute whose
// value equals value, or is LIKE it with op "like"; an empty value matches
// any.
func SearchQuery(kind, attribute, op, value string) (string, error) {
	if attribute == "" {
		return "", fmt.Errorf("%w: name an attribute to search for", catalog.ErrInvalidArgument)
	}
	if op != "=" && op != "like" {
		return "", fmt.Errorf("%w: match %q: want = or like", catalog.ErrInvalidArgument, op)
	}
	sel, prefix := "SELECT COLL_NAME, DATA_NAME", "META_DATA"
	switch kind {
	case "data":
	case "coll":
		sel, prefix = "SELECT COLL_NAME", "META_COLL"
	default:
		return "", fmt.Errorf("%w: kind %q: want data or coll", catalog.ErrInvalidArgument, kind)
	}
	q := fmt.Sprintf("%s WHERE %s_ATTR_NAME = %s", sel, prefix, quote(attribute))
	if value != "" {
		q += fmt.Sprintf(" AND %s_ATTR_VALUE %s %s", prefix, op, quote(value))
	}
	return q, nil
}

func (s *Web) search(w http.ResponseWriter, r *http.Request, c caller) error {
	q := r.URL.Query()
	d := searchData{Kind: q.Get("kind"), Attribute: q.Get("attribute"), Op: q.Get("op"), Value: q.Get("value")}
	if d.Kind == "" {
		d.Kind = "data"
	}
	if d.Op == "" {
		d.Op = "="
	}
	if d.Attribute != "" {
		text, err := SearchQuery(d.Kind, d.Attribute, d.Op, d.Value)
		if err != nil {
			return err
		}
		d.Query = text
		res, err := httpapi.RunQuery(r, s.zone, c.Principal, text, maxSearchResults+1)
		if err != nil {
			return err
		}
		for _, row := range res.Rows {
			p := row[0]
			if len(row) > 1 {
				p = strings.TrimSuffix(row[0], "/") + "/" + row[1]
			}
			d.Results = append(d.Results, p)
		}
		if len(d.Results) > maxSearchResults {
			d.Results, d.Truncated = d.Results[:maxSearchResults], true
		}
	}
	s.render(w, r, &c, "search", page{Title: "Search", Nav: "search", Data: d})
	return nil
}

func (s *Web) rules(w http.ResponseWriter, r *http.Request, c caller) error {
	set, err := s.zone.ListRules(r.Context(), c.Principal)
	if err != nil {
		return err
	}
	s.render(w, r, &c, "rules", page{Title: "Rules", Nav: "rules", Data: httpapi.RuleSetOf(set)})
	return nil
}

type auditData struct {
	Filter     zones.AuditFilter
	PathFilter string
	Records    []zones.AuditRecord
}

func (s *Web) audit(w http.ResponseWriter, r *http.Request, c caller) error {
	f, err := httpapi.AuditFilterOf(r)
	if err != nil {
		return err
	}
	recs, err := s.zone.ListAudit(r.Context(), c.Principal, f)
	if err != nil {
		return err
	}
	slices.Reverse(recs) // newest first
	d := auditData{Filter: f, Records: recs}
	if !f.Path.IsZero() {
		d.PathFilter = f.Path.String()
	}
	s.render(w, r, &c, "audit", page{Title: "Audit", Nav: "audit", Data: d})
	return nil
}

func (s *Web) jobs(w http.ResponseWriter, r *http.Request, c caller) error {
	jobs, err := s.zone.ListJobs(r.Context(), c.Principal)
	if err != nil {
		return err
	}
	d := httpapi.Jobs{Jobs: []httpapi.Job{}}
	for _, j := range jobs {
		d.Jobs = append(d.Jobs, httpapi.JobOf(j))
	}
	s.render(w, r, &c, "jobs", page{Title: "Jobs", Nav: "jobs", Data: d})
	return nil
}

func (s *Web) resources(w http.ResponseWriter, r *http.Request, c caller) error {
	rs, err := s.zone.ListResources(r.Context(), c.Principal)
	if err != nil {
		return err
	}
	s.render(w, r, &c, "resources", page{Title: "Resources", Nav: "resources", Data: struct{ Resources []zones.ResourceInfo }{rs}})
	return nil
}
