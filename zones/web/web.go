// Package web is the zone's web view: server-rendered pages (html/template,
// assets embedded, no script) over the same zone, dispatcher and
// authorization as every other transport. A page handler finds the caller
// from the session cookie, calls zone methods with that explicit
// principal, and renders; errors go through the HTTP API's one table.
//
// Sessions are those of iinit and the API (zones/auth), held in a cookie
// that is Secure, HttpOnly and SameSite=Strict. Every form carries a CSRF
// token bound to the session; the login form one bound to a cookie of its
// own.
package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
	"github.com/arca-data/arca/zones/httpapi"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names. __Host- makes browsers insist on Secure, Path=/ and no Domain.
const (
	sessionCookie = "__Host-arca_session"
	loginCookie   = "__Host-arca_login"
)

// maxFormBody bounds a form that is not an upload.
const maxFormBody = 64 << 10

// Options configures the web view.
type Options struct {
	Zone   *zones.Zone
	Auth   *auth.Authenticator
	API    *httpapi.API
	Logger *slog.Logger
}

// Web serves the web view.
type Web struct {
	zone  *zones.Zone
	auth  *auth.Authenticator
	api   *httpapi.API
	log   *slog.Logger
	key   []byte // CSRF tokens are HMACs under it
	pages map[string]*template.Template
}

// New returns the web view of o.Zone.
func New(o Options) *Web {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	key := make([]byte, 32)
	rand.Read(key)
	s := &Web{zone: o.Zone, auth: o.Auth, api: o.API, log: o.Logger, key: key, pages: map[string]*template.Template{}}
	funcs := template.FuncMap{
		"browse":   func(p string) string { return "/browse" + escapePathString(p) },
		"download": func(p string) string { return "/download" + escapePathString(p) },
		"upload":   func(p string) string { return "/upload" + escapePathString(p) },
		"mkdir":    func(p string) string { return "/mkdir" + escapePathString(p) },
		"meta":     func(p string) string { return "/meta" + escapePathString(p) },
		"bytes":    humanBytes,
		"deref":    func(p *int64) int64 { return *p },
		"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"whenp": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"statusText": http.StatusText,
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n))
		s.pages[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	return s
}

// Mount adds the web view's routes to mux.
func (s *Web) Mount(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /{$}", s.authed(s.home))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.authed(s.logout))
	mux.HandleFunc("GET /browse/{path...}", s.authed(s.browse))
	mux.HandleFunc("GET /download/{path...}", s.authed(s.download))
	mux.HandleFunc("POST /upload/{path...}", s.authed(s.upload))
	mux.HandleFunc("POST /mkdir/{path...}", s.authed(s.mkdir))
	mux.HandleFunc("POST /meta/{path...}", s.authed(s.meta))
	mux.HandleFunc("GET /search", s.authed(s.search))
	mux.HandleFunc("GET /admin/rules", s.authed(s.rules))
	mux.HandleFunc("GET /admin/audit", s.authed(s.audit))
	mux.HandleFunc("GET /admin/jobs", s.authed(s.jobs))
	mux.HandleFunc("GET /admin/resources", s.authed(s.resources))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, nil, "error", page{Title: "Not found", Problem: &httpapi.Problem{
			Status: http.StatusNotFound, Code: "no_route", Error: fmt.Sprintf("there is no page %s", r.URL.Path)}})
	})
}

// caller is who the session cookie says, with its token.
type caller struct {
	zones.Principal
	token string
}

// page is what every template gets.
type page struct {
	Title   string
	Zone    string
	User    *catalog.User
	Home    string
	Admin   bool
	Nav     string
	CSRF    string
	Notice  string
	Problem *httpapi.Problem
	Data    any
}

type handler func(w http.ResponseWriter, r *http.Request, c caller) error

// authed finds the caller from the session cookie (or sends the browser to
// the login page), checks the CSRF token of a POST, runs h, and renders
// its error.
func (s *Web) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		if err != nil || ck.Value == "" {
			s.toLogin(w, r)
			return
		}
		who, err := s.auth.Principal(r.Context(), ck.Value, "", httpapi.ClientHost(r))
		if err != nil {
			if zones.KindOf(err) == zones.KindUnauthenticated {
				s.clearSession(w)
				s.toLogin(w, r)
				return
			}
			s.fail(w, r, nil, err)
			return
		}
		c := caller{Principal: who, token: ck.Value}
		if r.Method == http.MethodPost && !isMultipart(r) {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
			if err := r.ParseForm(); err != nil {
				s.fail(w, r, &c, fmt.Errorf("%w: the form: %v", catalog.ErrInvalidArgument, err))
				return
			}
			if !s.validCSRF(c.token, r.PostFormValue("csrf")) {
				s.fail(w, r, &c, errCSRF)
				return
			}
		}
		if err := h(w, r, c); err != nil {
			s.fail(w, r, &c, err)
		}
	}
}

var errCSRF = fmt.Errorf("%w: the form's CSRF token is missing or wrong; reload the page and try again", catalog.ErrPermission)

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

func (s *Web) toLogin(w http.ResponseWriter, r *http.Request) {
	next := ""
	if r.Method == http.MethodGet {
		next = r.URL.RequestURI()
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// csrf is the CSRF token of a session: an HMAC of the session token.
func (s *Web) csrf(token string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("csrf\x00"))
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Web) validCSRF(token, got string) bool {
	return got != "" && hmac.Equal([]byte(s.csrf(token)), []byte(got))
}

// fail renders err as a page, with the status of the API's one table.
func (s *Web) fail(w http.ResponseWriter, r *http.Request, c *caller, err error) {
	p := httpapi.ProblemOf(err)
	if errors.Is(err, errCSRF) {
		p.Code = "csrf"
	}
	if p.Status >= 500 {
		s.log.Warn("web request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "err", err)
	}
	// Back to the page the form was on (browsers send no Referer here:
	// Referrer-Policy is no-referrer).
	back := ""
	for _, prefix := range []string{"/upload/", "/meta/", "/mkdir/", "/download/"} {
		if rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix); ok {
			back = "/browse/" + rest
		}
	}
	s.render(w, r, c, "error", page{Title: http.StatusText(p.Status), Problem: &p, Data: struct{ Back string }{back}})
}

// render writes the page name with p, for the caller c (nil: nobody).
func (s *Web) render(w http.ResponseWriter, r *http.Request, c *caller, name string, p page) {
	p.Zone = s.zone.Name()
	if c != nil {
		u := c.User
		p.User = &u
		p.Home = s.zone.Home(u.Name).String()
		p.Admin = u.Type == catalog.UserTypeAdmin
		if p.CSRF == "" {
			p.CSRF = s.csrf(c.token)
		}
	}
	status := http.StatusOK
	if p.Problem != nil {
		status = p.Problem.Status
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if err := s.pages[name].ExecuteTemplate(w, "layout", p); err != nil {
		s.log.Warn("render", "page", name, "err", err)
	}
}

func (s *Web) setSession(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: expires,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func (s *Web) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// escapePathString is a logical path as a URL path, each name escaped.
func escapePathString(p string) string {
	var b strings.Builder
	for c := range strings.SplitSeq(strings.Trim(p, "/"), "/") {
		if c == "" {
			continue
		}
		b.WriteByte('/')
		b.WriteString(url.PathEscape(c))
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
