package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
	"github.com/arca-data/arca/zones/httpapi"
	"github.com/arca-data/arca/zones/web"
)

// HTTPParts is what the parts served on the HTTPS listener are built from.
type HTTPParts struct {
	Zone   *zones.Zone
	Auth   *auth.Authenticator
	Logger *slog.Logger
	// API is the JSON API and WebDAV, which other parts build on.
	API *httpapi.API
}

// httpMounts are the parts of the HTTPS listener (--http). Each adds its
// routes to the one mux; a new part (a PID resolver, say) is one more line.
var httpMounts = []func(mux *http.ServeMux, p HTTPParts){
	func(mux *http.ServeMux, p HTTPParts) { p.API.Mount(mux) }, // /api/v1/, /dav/
	func(mux *http.ServeMux, p HTTPParts) { // /, the web view
		web.New(web.Options{Zone: p.Zone, Auth: p.Auth, API: p.API, Logger: p.Logger}).Mount(mux)
	},
	mountPIDs, // /api/handles/, /landing/, /PREFIX/: the PID resolver (pid.go)
}

// HTTPHandler is the handler of the HTTPS listener: every part of
// httpMounts on one mux, behind httpapi.Guard (no path tricks, careful
// browser headers).
func HTTPHandler(p HTTPParts) http.Handler {
	if p.API == nil {
		p.API = httpapi.New(httpapi.Options{Zone: p.Zone, Auth: p.Auth, Logger: p.Logger})
	}
	mux := http.NewServeMux()
	for _, mount := range httpMounts {
		mount(mux, p)
	}
	return httpapi.Guard(mux)
}

// Limits of the HTTPS listener. Bodies are streamed to the zone, so an
// upload takes as long as it needs; headers must come quickly, and idle
// connections go.
const (
	httpReadHeaderTimeout = 10 * time.Second
	httpIdleTimeout       = 2 * time.Minute
	httpMaxHeaderBytes    = 64 << 10
)

// newHTTPServer is the HTTPS server of the zone on its TLS certificate.
func newHTTPServer(tlsConf *tls.Config, h http.Handler, log *slog.Logger) *http.Server {
	conf := tlsConf.Clone()
	conf.NextProtos = []string{"h2", "http/1.1"}
	return &http.Server{
		Handler:           h,
		TLSConfig:         conf,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    httpMaxHeaderBytes,
		// Large HTTP/2 receive windows let one upload fill a fast link,
		// as the gRPC listener's do (transferWindow).
		HTTP2:    &http.HTTP2Config{MaxReceiveBufferPerStream: transferWindow, MaxReceiveBufferPerConnection: 2 * transferWindow},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// serveHTTP serves h on lis until the returned stop is called, which
// drains in-flight requests until ctx ends and then closes what is left.
func serveHTTP(lis net.Listener, tlsConf *tls.Config, h http.Handler, log *slog.Logger, served chan<- error) (stop func(ctx context.Context)) {
	srv := newHTTPServer(tlsConf, h, log)
	go func() {
		if err := srv.ServeTLS(lis, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			served <- err
		}
	}()
	return func(ctx context.Context) {
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
	}
}
