package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
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
// configured. The PID resolver is served on the HTTPS listener (--http,
// see httpMounts); httpAddr is its address, the default base of landing
// pages ("" when there is no listener).
func startPIDs(ctx context.Context, cfg ServerConfig, zone *zones.Zone, cat catalog.Catalog, httpAddr string) error {
	if cfg.RAiD.Prefix != "" {
		k, err := raid.New(cat, cfg.RAiD)
		if err != nil {
			return err
		}
		zone.UseRAiDs(k)
	}
	if cfg.PID.Prefix == "" {
		return nil
	}
	base := cfg.PID.URL
	if base == "" && httpAddr != "" {
		base = "https://" + httpAddr
	}
	if base == "" {
		host, _, _ := net.SplitHostPort(cfg.Addr)
		base = "https://" + host
	}
	provider, err := pidProvider(cfg, zone)
	if err != nil {
		return err
	}
	keeper, err := pid.NewKeeper(ctx, cat, provider, base, cfg.Logger)
	if err != nil {
		return err
	}
	zone.AddHook(keeper)
	zone.UsePIDs(keeper)
	cfg.Logger.Info("PIDs", "prefix", provider.Prefix(), "landing", base)
	return nil
}

// mountPIDs adds the PID resolver to the HTTPS listener, if the zone mints
// PIDs: /api/handles/ (the Handle REST API), /landing/ and /PREFIX/.
func mountPIDs(mux *http.ServeMux, p HTTPParts) {
	if k, ok := p.Zone.PIDs().(*pid.Keeper); ok {
		pid.NewHandler(k, p.Zone, basicAuth(p.Zone, p.Auth)).Mount(mux)
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
