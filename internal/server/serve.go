package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/passwordhash"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/policies/raid"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
	"github.com/arca-data/arca/zones/rpc"
)

// transferWindow is the HTTP/2 flow-control window of one stream.
const transferWindow = 16 << 20

// ServerConfig is what `arca server` takes.
type ServerConfig struct {
	DataDir string
	// Catalog is the catalog URL (see OpenCatalog); "" is the embedded
	// sqlite://DataDir/catalog.db.
	Catalog string
	Addr    string // host:port; port 0 picks a free one
	Zone    string // "" keeps the stored zone, or tempZone on the first start
	Logger  *slog.Logger
	// Out receives the lines an operator reads: where the password is, where
	// the server listens.
	Out io.Writer
	// ShutdownGrace bounds how long in-flight requests may take at shutdown.
	ShutdownGrace time.Duration
	// MaintenanceInterval is how often expired leases and sessions are resolved.
	MaintenanceInterval time.Duration
	Lease               time.Duration
	SessionTTL          time.Duration
	// Ready, if set, is called with the listening address once the zone serves.
	Ready func(addr net.Addr)
	// RulesDirs are directories of rule files beside DIR/rules.
	RulesDirs []string
	// Jobs tunes how scheduled rule work runs.
	Jobs zones.JobOptions
	// LDAP, when its URL is set, logs users in with a directory as well.
	LDAP auth.LDAPConfig
	// ReopenLogs, when it delivers, reopens DIR/audit.log for log rotation;
	// arca server delivers SIGHUP.
	ReopenLogs <-chan os.Signal
	// NoProvenance leaves out the recording of provenance (benchmarks
	// measure what it costs).
	NoProvenance bool
	// PID is how the zone mints and resolves PIDs; RAiD how it mints
	// RAiDs (an empty prefix: none).
	PID  PIDConfig
	RAiD raid.Config
}

// Run serves a zone from cfg.DataDir until ctx ends, then drains in-flight
// requests and closes the catalog.
func Run(ctx context.Context, cfg ServerConfig) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Addr == "" {
		cfg.Addr = fmt.Sprintf("127.0.0.1:%d", zones.DefaultPort)
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 30 * time.Second
	}
	switch {
	case cfg.Lease < 0 || cfg.Lease > 0 && cfg.Lease < minLease:
		return fmt.Errorf("lease %v: want at least %v (a put renews its lease a few times per lease)", cfg.Lease, minLease)
	case cfg.SessionTTL < 0:
		return fmt.Errorf("session TTL %v: cannot be negative", cfg.SessionTTL)
	case cfg.Lease == 0:
		cfg.Lease = time.Minute
	}
	if cfg.MaintenanceInterval == 0 {
		cfg.MaintenanceInterval = cfg.Lease / 4
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", cfg.Addr, err)
	}
	// The port first: a server that cannot listen makes nothing, not even
	// a new zone's catalog and administrator password.
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer lis.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	zoneName, err := zoneOf(dir, cfg.Zone)
	if err != nil {
		return err
	}
	tlsConf, err := tlsca.LoadOrCreate(filepath.Join(dir, "tls"), []string{host})
	if err != nil {
		return err
	}
	ldapLogin, err := cfg.LDAP.Login()
	if err != nil {
		return err
	}

	cat, err := OpenCatalog(ctx, cfg.Catalog, dir)
	if err != nil {
		return fmt.Errorf("open catalog: %w", err)
	}
	defer cat.Close()

	zone := zones.New(cat, zones.Options{Drivers: drivers.Default(), Name: zoneName, Logger: cfg.Logger, Lease: cfg.Lease, ServerID: serverID(dir),
		Directory: ldapLogin != nil, DataDir: dir})
	authn := auth.New(zone, auth.Options{SessionTTL: cfg.SessionTTL, LDAP: ldapLogin, Logger: cfg.Logger})
	boot := zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}
	if _, err := cat.User(ctx, catalog.UserID{Name: zones.DefaultAdmin, Zone: zoneName}); errors.Is(err, catalog.ErrNotFound) {
		if err := checkNewZone(ctx, cat, zoneName, boot.VaultDir); err != nil {
			return err
		}
		pw, err := adminPassword(dir, cfg.Out)
		if err != nil {
			return err
		}
		if boot.AdminPasswordHash, err = passwordhash.Hash(pw); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := zone.Bootstrap(ctx, boot); err != nil {
		return err
	}
	if err := zone.Recover(ctx); err != nil {
		return fmt.Errorf("recovery: %w", err)
	}

	startProvenance(cfg, zone, cat, cfg.Logger)
	stopPIDs, err := startPIDs(ctx, cfg, zone, cat, authn, tlsConf)
	if err != nil {
		return err
	}
	defer stopPIDs()
	engine, audit, err := startRules(dir, cfg, zone, cat)
	if err != nil {
		return err
	}
	defer audit.Close()
	if cfg.ReopenLogs != nil {
		go reopenOnSignal(ctx, cfg, audit)
	}

	svc := rpc.NewService(zone, authn)
	// One port, two protocols by ALPN: gRPC, and the data channel for
	// large transfers (zones/datachannel.go).
	mux := rpc.NewPortMux(lis, tlsConf, svc.ServeData)
	g := grpc.NewServer(
		grpc.Creds(rpc.HandshakenTLS{}),
		grpc.ChainUnaryInterceptor(svc.UnaryInterceptor),
		grpc.ChainStreamInterceptor(svc.StreamInterceptor),
		grpc.MaxRecvMsgSize(arcapb.MaxMessageSize),
		// Large windows and buffers let one stream fill a fast link; the
		// defaults (64 KiB windows, 32 KiB buffers) cap a 1 GiB put far
		// below disk speed.
		grpc.InitialWindowSize(transferWindow),
		grpc.InitialConnWindowSize(2*transferWindow),
		grpc.WriteBufferSize(1<<20),
		grpc.ReadBufferSize(1<<20),
	)
	svc.Register(g)

	maintCtx, stopMaint := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMaint()
	go zone.RunMaintenance(maintCtx, cfg.MaintenanceInterval)
	go authn.Run(maintCtx)
	go zone.ReportOrphans(maintCtx)
	if err := engine.Watch(maintCtx, ruleDirs(dir, cfg)...); err != nil {
		cfg.Logger.Warn("rule files are not watched: changes need a restart", "err", err)
	}
	jobsDone := make(chan struct{})
	go func() { defer close(jobsDone); zone.RunJobs(maintCtx, cfg.Jobs) }()
	defer func() { stopMaint(); <-jobsDone }()

	served := make(chan error, 2)
	go func() { served <- g.Serve(mux.GRPCListener()) }()
	go func() {
		if err := mux.Serve(context.WithoutCancel(ctx)); err != nil {
			served <- err
		}
	}()
	fmt.Fprintf(cfg.Out, "arca: zone %s serving on %s; clients trust %s\n", zoneName, lis.Addr(), filepath.Join(dir, "tls", tlsca.CACertFile))
	cfg.Logger.Info("serving", "zone", zoneName, "addr", lis.Addr().String(), "data", dir)
	if ldapLogin != nil {
		cfg.Logger.Info("LDAP login", "url", cfg.LDAP.URL, "base", cfg.LDAP.Base, "group_base", cfg.LDAP.GroupBase,
			"provision", cfg.LDAP.Provision, "recheck_interval", ldapLogin.Recheck().String())
	}
	if cfg.Ready != nil {
		cfg.Ready(lis.Addr())
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down: draining in-flight requests", "grace", cfg.ShutdownGrace)
	svc.Drain()
	mux.Close()
	graceCtx, cancelGrace := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownGrace)
	defer cancelGrace()
	drained := make(chan struct{})
	go func() { g.GracefulStop(); mux.Drain(graceCtx); close(drained) }()
	select {
	case <-drained:
	case <-graceCtx.Done():
		cfg.Logger.Warn("grace period over: cancelling the requests still running")
		g.Stop()
		<-drained
	}
	stopMaint()
	cfg.Logger.Info("stopped")
	return nil
}

// ruleDirs are the directories rules are loaded from: DIR/rules first.
func ruleDirs(dir string, cfg ServerConfig) []string {
	return append([]string{filepath.Join(dir, "rules")}, cfg.RulesDirs...)
}

// startRules builds the zone's rule engine: its actions, the audit log
// DIR/audit.log (JSON lines), and the rules of DIR/rules and
// cfg.RulesDirs. Rules that do not load stop the start: a server must not
// run without the policy its operators wrote.
func startRules(dir string, cfg ServerConfig, zone *zones.Zone, cat catalog.Catalog) (*rules.Engine, *auditLog, error) {
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		return nil, nil, fmt.Errorf("rules directory: %w", err)
	}
	for _, d := range cfg.RulesDirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, nil, fmt.Errorf("--rules %s: not a directory", d)
		}
	}
	f, err := openAuditLog(filepath.Join(dir, "audit.log"))
	if err != nil {
		return nil, nil, err
	}
	audit := slog.New(slog.NewJSONHandler(f, nil))
	zone.SetAuditLog(f.path)
	reg := rules.NewRegistry()
	if err := policies.Register(reg, zone, audit); err != nil {
		f.Close()
		return nil, nil, err
	}
	engine, err := rules.New(rules.Options{Registry: reg, Catalog: cat, Logger: cfg.Logger, Audit: audit})
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	set, err := engine.LoadDirs(ruleDirs(dir, cfg)...)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("rules do not load:\n%w", err)
	}
	cfg.Logger.Info("rules loaded", "version", set.Version, "rules", len(set.Rules), "files", len(set.Files))
	zone.UseRules(engine)
	return engine, f, nil
}

// reopenOnSignal reopens the audit log each time cfg.ReopenLogs delivers,
// until ctx ends.
func reopenOnSignal(ctx context.Context, cfg ServerConfig, f *auditLog) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-cfg.ReopenLogs:
		}
		if err := f.Reopen(); err != nil {
			cfg.Logger.Error("audit log not reopened; records go on to the old file", "err", err)
			continue
		}
		cfg.Logger.Info("audit log reopened", "path", f.path)
	}
}

// zoneOf returns the zone served from dir: it is fixed at the first start
// and recorded, so a restart with another --zone is refused, not obeyed.
func zoneOf(dir, flag string) (string, error) {
	path := filepath.Join(dir, "zone")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if flag == "" {
			flag = zones.DefaultZone
		}
		if err := catalog.ValidateUserName(flag); err != nil {
			return "", fmt.Errorf("--zone: %w", err)
		}
		return flag, os.WriteFile(path, []byte(flag+"\n"), 0o600)
	}
	if err != nil {
		return "", err
	}
	stored := strings.TrimSpace(string(b))
	if flag != "" && flag != stored {
		return "", fmt.Errorf("%s serves zone %q; it cannot serve %q", dir, stored, flag)
	}
	return stored, nil
}

// serverID is the stable name of the server that uses dir.
func serverID(dir string) string {
	h, err := os.Hostname()
	if err != nil {
		h = "localhost"
	}
	return h + ":" + filepath.Base(dir)
}

// adminPassword returns ARCA_ADMIN_PASSWORD, or generates a password into
// DIR/admin-password (mode 0600) and says where it is.
func adminPassword(dir string, out io.Writer) (string, error) {
	if pw := os.Getenv("ARCA_ADMIN_PASSWORD"); pw != "" {
		return pw, nil
	}
	raw := make([]byte, 18)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	pw := base64.RawURLEncoding.EncodeToString(raw)
	path := filepath.Join(dir, "admin-password")
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write admin password: %w", err)
	}
	fmt.Fprintf(out, "arca: generated the password of %s; it is in %s\n", zones.DefaultAdmin, path)
	return pw, nil
}

// minLease is the shortest lease a server takes.
const minLease = time.Second

// checkNewZone refuses to make a new zone over what an existing one left:
// a catalog that holds another zone's administrator (the file DIR/zone,
// which names the zone, was lost, or --zone is wrong), or files in the
// vault with a catalog that knows nothing (catalog.db was lost, or
// --catalog points elsewhere). Either way a new zone would take the old
// one's files for orphans, which fsck --repair deletes.
func checkNewZone(ctx context.Context, cat catalog.Catalog, zoneName, vault string) error {
	users, err := cat.Users(ctx)
	if err != nil {
		return err
	}
	var owners []string
	for _, u := range users {
		if u.Name == zones.DefaultAdmin {
			owners = append(owners, u.Zone)
		}
	}
	if len(owners) > 0 {
		return fmt.Errorf("the catalog is zone %s's, not %s's: start with --zone %s (DIR/zone, which names the zone, may have been lost)",
			strings.Join(owners, ", "), zoneName, owners[0])
	}
	entries, err := os.ReadDir(vault)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s holds files, but the catalog has no zone: restore the catalog, or point --catalog at it; a new zone would take those files for orphans", vault)
	}
	return nil
}
