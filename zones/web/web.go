// Package web is the zone's web view: server-rendered pages over the same
// zone, dispatcher and authorization as every other transport.
package web

import (
	"log/slog"
	"net/http"

	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
	"github.com/arca-data/arca/zones/httpapi"
)

// Options configures the web view.
type Options struct {
	Zone   *zones.Zone
	Auth   *auth.Authenticator
	API    *httpapi.API
	Logger *slog.Logger
}

// Web serves the web view.
type Web struct {
	zone *zones.Zone
	auth *auth.Authenticator
	api  *httpapi.API
	log  *slog.Logger
}

// New returns the web view of o.Zone.
func New(o Options) *Web {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Web{zone: o.Zone, auth: o.Auth, api: o.API, log: o.Logger}
}

// Mount adds the web view's routes to mux.
func (s *Web) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("Arca\n"))
	})
}
