// Package httpapi is Arca's HTTP face: a JSON API under /api/v1/ and
// WebDAV under /dav/, over the same zone, the same dispatcher and the same
// authorization as gRPC. Handlers only translate: validate the request,
// call one zone method with the caller's explicit principal, and map the
// error through the one table (errors.go, over zones.KindOf).
//
// Callers authenticate with a bearer token (POST /api/v1/login, the same
// sessions as iinit), HTTP Basic (the user's password, native or LDAP,
// checked by zones/auth and throttled as a login), or present a ticket as
// the query parameter ?ticket=.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
)

// Prefix is where the JSON API is served.
const Prefix = "/api/v1/"

// maxJSONBody bounds the JSON body of a request.
const maxJSONBody = 1 << 20

// jsonReadTimeout bounds how long a JSON body may take to arrive.
const jsonReadTimeout = time.Minute

// Options configures an API.
type Options struct {
	Zone   *zones.Zone
	Auth   *auth.Authenticator
	Logger *slog.Logger
}

// API serves the JSON API and WebDAV of one zone.
type API struct {
	zone   *zones.Zone
	auth   *auth.Authenticator
	log    *slog.Logger
	routes []route
	// shapes holds every route's path without its method, to tell an
	// unknown path (404) from a known path with another method (405).
	shapes *http.ServeMux
	dav    http.Handler
}

// route is one endpoint of the API. The OpenAPI document describes every
// route, and a test holds the two to each other.
type route struct {
	method, path string // path as in ServeMux, e.g. /api/v1/objects/{path...}
	handler      http.HandlerFunc
}

// New returns the API of o.Zone.
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	a := &API{zone: o.Zone, auth: o.Auth, log: o.Logger, shapes: http.NewServeMux()}
	a.routes = []route{
		{"GET", "/api/v1/openapi.json", a.openAPI},
		{"POST", "/api/v1/login", a.login},
		{"POST", "/api/v1/logout", a.authed(a.logout)},
		{"GET", "/api/v1/whoami", a.authed(a.whoami)},
		{"GET", "/api/v1/entries/{path...}", a.authed(a.stat)},
		{"DELETE", "/api/v1/entries/{path...}", a.authed(a.remove)},
		{"GET", "/api/v1/collections/{path...}", a.authed(a.list)},
		{"POST", "/api/v1/collections/{path...}", a.authed(a.mkdir)},
		{"GET", "/api/v1/objects/{path...}", a.authed(a.get)},
		{"HEAD", "/api/v1/objects/{path...}", a.authed(a.get)},
		{"PUT", "/api/v1/objects/{path...}", a.authed(a.put)},
		{"POST", "/api/v1/rename", a.authed(a.rename)},
		{"GET", "/api/v1/metadata/{path...}", a.authed(a.listMetadata)},
		{"POST", "/api/v1/metadata/{path...}", a.authed(a.changeMetadata)},
		{"GET", "/api/v1/acl/{path...}", a.authed(a.listACL)},
		{"POST", "/api/v1/acl/{path...}", a.authed(a.setACL)},
		{"GET", "/api/v1/replicas/{path...}", a.authed(a.listReplicas)},
		{"POST", "/api/v1/replicas/{path...}", a.authed(a.changeReplicas)},
		{"POST", "/api/v1/retention/{path...}", a.authed(a.changeRetention)},
		{"GET", "/api/v1/query", a.authed(a.query)},
		{"POST", "/api/v1/query", a.authed(a.query)},
		{"GET", "/api/v1/jobs", a.authed(a.listJobs)},
		{"DELETE", "/api/v1/jobs/{id}", a.authed(a.removeJob)},
		{"GET", "/api/v1/resources", a.authed(a.listResources)},
		{"GET", "/api/v1/rules", a.authed(a.listRules)},
		{"GET", "/api/v1/audit", a.authed(a.listAudit)},
	}
	seen := map[string]bool{}
	for _, rt := range a.routes {
		if !seen[rt.path] {
			seen[rt.path] = true
			a.shapes.Handle(rt.path, http.NotFoundHandler())
		}
	}
	a.dav = a.newDAV()
	return a
}

// Mount adds the API's routes (/api/v1/ and /dav/) to mux.
func (a *API) Mount(mux *http.ServeMux) {
	for _, rt := range a.routes {
		mux.HandleFunc(rt.method+" "+rt.path, rt.handler)
	}
	mux.HandleFunc(Prefix, a.noRoute)
	mux.Handle(DAVPrefix, a.dav)
	mux.HandleFunc("/dav", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, DAVPrefix, http.StatusMovedPermanently)
	})
}

// noRoute answers what no route takes: 405 for a known path with another
// method, else 404.
func (a *API) noRoute(w http.ResponseWriter, r *http.Request) {
	if _, pattern := a.shapes.Handler(r); pattern != "" && pattern != Prefix {
		var allow []string
		for _, rt := range a.routes {
			if rt.path == pattern {
				allow = append(allow, rt.method)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		WriteError(w, reqError(http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("%s %s: the method is not allowed here (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", "))))
		return
	}
	WriteError(w, reqError(http.StatusNotFound, "no_route",
		fmt.Sprintf("%s %s: no such API route (see %sopenapi.json)", r.Method, r.URL.Path, Prefix)))
}

// handlerFunc is an API handler: it writes its success itself and returns
// the error it met before writing anything.
type handlerFunc func(w http.ResponseWriter, r *http.Request, who zones.Principal) error

// authed finds the caller, runs h, and answers its error.
func (a *API) authed(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, err := a.Principal(r)
		if err == nil {
			err = h(w, r, who)
		}
		if err != nil {
			a.fail(w, r, err)
		}
	}
}

// fail answers err, and logs what is the server's fault.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if p := ProblemOf(err); p.Status >= 500 {
		a.log.Warn("http request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "err", err)
	}
	WriteError(w, err)
}

// Principal is who calls with r: the user of its bearer token or of its
// HTTP Basic credentials (a login, throttled as every login), with the
// ticket of its ?ticket= parameter, from its client address. A ticket
// without a session makes the anonymous user, who may do only what the
// ticket allows.
func (a *API) Principal(r *http.Request) (zones.Principal, error) {
	ticket := r.URL.Query().Get("ticket")
	host := ClientHost(r)
	token, err := a.token(r)
	if err != nil {
		return zones.Principal{}, err
	}
	who, err := a.auth.Principal(r.Context(), token, ticket, host)
	if err != nil && zones.KindOf(err) == zones.KindUnauthenticated {
		if user, pw, ok := r.BasicAuth(); ok {
			// The cached session ended (a logout, an expiry): log in anew.
			a.forgetBasic(user, pw)
			if token, err = a.basicToken(r.Context(), user, pw, host); err == nil {
				who, err = a.auth.Principal(r.Context(), token, ticket, host)
			}
		}
	}
	return who, err
}

// token is the session token r presents, "" for none.
func (a *API) token(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	switch {
	case h == "":
		return "", nil
	case strings.HasPrefix(h, "Bearer "):
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer ")), nil
	case strings.HasPrefix(h, "Basic "):
		user, pw, ok := r.BasicAuth()
		if !ok {
			return "", fmt.Errorf("%w: malformed Basic credentials", zones.ErrUnauthenticated)
		}
		return a.basicToken(r.Context(), user, pw, ClientHost(r))
	}
	return "", fmt.Errorf("%w: the Authorization header is neither Bearer nor Basic", zones.ErrUnauthenticated)
}

// ClientHost is the client's IP address, for tickets' allowed hosts and
// the login throttle. Forwarding headers are not trusted.
func ClientHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// decodeJSON reads r's JSON body into v: application/json, at most
// maxJSONBody bytes, no unknown fields, one value.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(jsonReadTimeout))
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return reqError(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the JSON body is larger than %d bytes", maxJSONBody))
		}
		if errors.Is(err, io.EOF) {
			return badRequest("invalid_argument", "the request needs a JSON body")
		}
		return badRequest("invalid_argument", "malformed JSON body: "+err.Error())
	}
	if dec.More() {
		return badRequest("invalid_argument", "the JSON body holds more than one value")
	}
	return nil
}

func requireJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return reqError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			fmt.Sprintf("Content-Type %q: this request takes application/json", cut(ct, 100)))
	}
	return nil
}
