package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/policies/pid"
	"github.com/arca-data/arca/policies/raid"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
)

// startPIDs makes the zone mint PIDs (cfg.PID) and RAiDs (cfg.RAiD) as
// configured, and serves the PID resolver over HTTPS when cfg.PID.HTTPAddr
// is set. It returns what stops the resolver.
func startPIDs(ctx context.Context, cfg ServerConfig, zone *zones.Zone, cat catalog.Catalog, authn *auth.Authenticator, serverTLS *tls.Config) (func(), error) {
	stop := func() {}
	if cfg.RAiD.Prefix != "" {
		k, err := raid.New(cat, cfg.RAiD)
		if err != nil {
			return stop, err
		}
		zone.UseRAiDs(k)
	}
	if cfg.PID.Prefix == "" {
		if cfg.PID.HTTPAddr != "" {
			return stop, errors.New("--pid-http needs a PID prefix (--pid-prefix)")
		}
		return stop, nil
	}
	var lis net.Listener
	base := cfg.PID.URL
	if cfg.PID.HTTPAddr != "" {
		var err error
		if lis, err = net.Listen("tcp", cfg.PID.HTTPAddr); err != nil {
			return stop, fmt.Errorf("PID resolver: listen: %w", err)
		}
		if base == "" {
			base = "https://" + lis.Addr().String()
		}
	}
	if base == "" {
		host, _, _ := net.SplitHostPort(cfg.Addr)
		base = "https://" + host
	}
	provider, err := pidProvider(cfg, zone)
	if err != nil {
		closeListener(lis)
		return stop, err
	}
	keeper, err := pid.NewKeeper(ctx, cat, provider, base, cfg.Logger)
	if err != nil {
		closeListener(lis)
		return stop, err
	}
	zone.AddHook(keeper)
	zone.UsePIDs(keeper)
	if lis == nil {
		return stop, nil
	}
	conf := serverTLS.Clone()
	conf.NextProtos = []string{"h2", "http/1.1"}
	srv := &http.Server{
		Handler:           pid.NewHandler(keeper, zone, basicAuth(zone, authn)),
		TLSConfig:         conf,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.ServeTLS(lis, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("PID resolver stopped", "err", err)
		}
	}()
	fmt.Fprintf(cfg.Out, "arca: PID resolver for %s on https://%s\n", provider.Prefix(), lis.Addr())
	cfg.Logger.Info("PID resolver", "prefix", provider.Prefix(), "addr", lis.Addr().String(), "landing", base)
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

func closeListener(l net.Listener) {
	if l != nil {
		l.Close()
	}
}

// pidProvider is the zone's own registry, or the Handle service of
// cfg.PID.HandleREST.
func pidProvider(cfg ServerConfig, zone *zones.Zone) (pid.Provider, error) {
	r := cfg.PID.HandleREST
	if r.URL == "" {
		return pid.NewRegistry(zone.Catalog(), cfg.PID.Prefix, catalog.UserID{Name: zones.DefaultAdmin, Zone: zone.Name()})
	}
	var password string
	if r.PasswordFile != "" {
		b, err := os.ReadFile(r.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("the Handle service's password: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	var conf *tls.Config
	if r.CAFile != "" {
		host := r.URL
		if i := strings.Index(host, "://"); i >= 0 {
			host = host[i+3:]
		}
		host, _, _ = strings.Cut(host, "/")
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		var err error
		if conf, err = tlsca.ClientTLS(r.CAFile, host); err != nil {
			return nil, fmt.Errorf("the Handle service's CA: %w", err)
		}
	}
	return pid.NewRESTClient(pid.RESTConfig{URL: r.URL, Prefix: cfg.PID.Prefix, User: r.User, Password: password, TLS: conf})
}

// basicAuth checks a Handle REST client's user and password with a login
// (whose session ends at once); a success is remembered for a minute, so
// that a client registering many handles pays the password hash once.
func basicAuth(zone *zones.Zone, authn *auth.Authenticator) pid.Authenticator {
	type entry struct {
		who   zones.Principal
		until time.Time
	}
	var (
		mu   sync.Mutex
		seen = map[[32]byte]entry{}
	)
	return func(ctx context.Context, user, password string) (zones.Principal, error) {
		id, err := catalog.ParseUserID(user, zone.Name())
		if err != nil {
			return zones.Principal{}, err
		}
		key := sha256.Sum256([]byte(id.String() + "\x00" + password))
		mu.Lock()
		e, ok := seen[key]
		mu.Unlock()
		if ok && time.Now().Before(e.until) {
			return e.who, nil
		}
		token, _, u, err := authn.Login(ctx, id, password, "")
		if err != nil {
			return zones.Principal{}, err
		}
		who := zones.As(u)
		_, _ = authn.Logout(ctx, who, token, false)
		mu.Lock()
		if len(seen) > 1000 {
			clear(seen)
		}
		seen[key] = entry{who: who, until: time.Now().Add(time.Minute)}
		mu.Unlock()
		return who, nil
	}
}
