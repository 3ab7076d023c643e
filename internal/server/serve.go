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
	"google.golang.org/grpc/keepalive"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/passwordhash"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/policies/dmp"
	"github.com/arca-data/arca/policies/qos"
	"github.com/arca-data/arca/policies/raid"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
	"github.com/arca-data/arca/zones/rpc"
)

// transferWindow is the HTTP/2 flow-control window of one stream.
const transferWindow = 16 << 20

// grpcReadBuffer is the read buffer of one gRPC connection, held as long as
// the connection is open, idle or not. It sits on a TLS connection, whose
// every Read returns at most one record (16 KiB): a larger buffer is never
// filled, and at 1 MiB it was most of what a silent connection cost
// (issue 23). The write buffer, 1 MiB, is taken from a pool for each write
// and given back after it (grpc's shared write buffer): idle, it costs
// nothing.
const grpcReadBuffer = 32 << 10

// Connection defaults (see ConnectionLimits).
const (
	DefaultMaxConns         = 4096
	DefaultMaxConnsPerHost  = 512
	DefaultIdleTimeout      = 2 * time.Minute
	DefaultKeepaliveTime    = time.Minute
	DefaultKeepaliveTimeout = 20 * time.Second
)

// ConnectionLimits bound the connections the server keeps, and so the
// memory that clients can make it hold before they log in. Zero fields
// take their defaults.
type ConnectionLimits struct {
	// Max is how many connections may be open at once, TLS handshakes
	// included, and PerHost how many from one client IP address; one
	// more is closed at once, and the refusal logged.
	Max     int `yaml:"max,omitempty"`
	PerHost int `yaml:"per_host,omitempty"`
	// IdleTimeout closes a gRPC connection that has had no call for
	// that long (clients reconnect when they need to).
	IdleTimeout time.Duration `yaml:"idle_timeout,omitempty"`
	// KeepaliveTime is how long a connection may be silent before the
	// server pings it; KeepaliveTimeout how long it then waits for the
	// answer before it closes the connection.
	KeepaliveTime    time.Duration `yaml:"keepalive_time,omitempty"`
	KeepaliveTimeout time.Duration `yaml:"keepalive_timeout,omitempty"`
}

// withDefaults fills in the zero fields.
func (l ConnectionLimits) withDefaults() ConnectionLimits {
	for _, f := range []struct {
		v   *int
		def int
	}{{&l.Max, DefaultMaxConns}, {&l.PerHost, DefaultMaxConnsPerHost}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	for _, f := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&l.IdleTimeout, DefaultIdleTimeout}, {&l.KeepaliveTime, DefaultKeepaliveTime}, {&l.KeepaliveTimeout, DefaultKeepaliveTimeout}} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	return l
}

// check refuses negative limits, and a keepalive time under gRPC's
// minimum of one second.
func (l ConnectionLimits) check() error {
	switch {
	case l.Max < 0 || l.PerHost < 0 || l.IdleTimeout < 0 || l.KeepaliveTimeout < 0:
		return errors.New("connection limits and timeouts cannot be negative")
	case l.KeepaliveTime != 0 && l.KeepaliveTime < time.Second:
		return fmt.Errorf("keepalive time %v: want at least 1s", l.KeepaliveTime)
	}
	return nil
}

// ServerConfig is what `arca server` takes.
type ServerConfig struct {
	DataDir string
	// Catalog is the catalog URL (see OpenCatalog); "" is the embedded
	// sqlite://DataDir/catalog.db.
	Catalog string
	Addr    string // host:port; port 0 picks a free one
	// HTTPAddr, if set, is host:port of the HTTPS listener: the web view,
	// the JSON API and WebDAV (see http.go).
	HTTPAddr string
	// NotifyURL, if set, is the webhook the lifecycle policy's notices
	// are POSTed to (policies/lifecycle).
	NotifyURL string
	Zone      string // "" keeps the stored zone, or tempZone on the first start
	Logger    *slog.Logger
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
	// HTTPReady, if set, is called with the HTTPS listener's address before Ready.
	HTTPReady func(addr net.Addr)
	// RulesDirs are directories of rule files beside DIR/rules.
	RulesDirs []string
	// Jobs tunes how scheduled rule work runs.
	Jobs zones.JobOptions
	// JobsPerRule is zones.Options.JobsPerRule: how many live jobs one
	// rule may have.
	JobsPerRule int
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
	// Certificates is how the zone issues preservation certificates.
	Certificates CertificatesConfig
	// Connections bounds the connections clients may keep open.
	Connections ConnectionLimits
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
	if err := cfg.Connections.check(); err != nil {
		return err
	}
	conns := cfg.Connections.withDefaults()
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
	hosts := []string{host}
	var httpLis net.Listener
	if cfg.HTTPAddr != "" {
		httpHost, _, err := net.SplitHostPort(cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("--http %q: %w", cfg.HTTPAddr, err)
		}
		if httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen (--http): %w", err)
		}
		defer httpLis.Close()
		hosts = append(hosts, httpHost)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	zoneName, err := zoneOf(dir, cfg.Zone)
	if err != nil {
		return err
	}
	tlsConf, err := tlsca.LoadOrCreate(filepath.Join(dir, "tls"), hosts)
	if err != nil {
		return err
	}
	// The certificate this zone's servers present to federated zones,
	// naming the zone; their administrators register DIR/tls/ca.pem.
	if _, err := tlsca.LoadOrCreateZoneCert(filepath.Join(dir, "tls"), zoneName); err != nil {
		cfg.Logger.Warn("no zone certificate: other zones cannot trust this one", "err", err)
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
		Directory: ldapLogin != nil, DataDir: dir, JobsPerRule: cfg.JobsPerRule, QoS: parseQoS})
	authn := auth.New(zone, auth.Options{SessionTTL: cfg.SessionTTL, LDAP: ldapLogin, Logger: cfg.Logger})
	boot := zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}
	if rods, err := cat.User(ctx, catalog.UserID{Name: zones.DefaultAdmin, Zone: zoneName}); errors.Is(err, catalog.ErrNotFound) {
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
	} else if err := adminPasswordAgain(ctx, cat, rods, dir, cfg); err != nil {
		return err
	}
	if err := zone.Bootstrap(ctx, boot); err != nil {
		return err
	}
	if err := zone.Recover(ctx); err != nil {
		return fmt.Errorf("recovery: %w", err)
	}

	startProvenance(cfg, zone, cat, cfg.Logger)
	httpAddr := ""
	if httpLis != nil {
		httpAddr = httpLis.Addr().String()
	}
	if err := startPIDs(ctx, cfg, zone, cat, httpAddr); err != nil {
		return err
	}
	if err := startCertificates(cfg, dir, zone, cat); err != nil {
		return err
	}
	engine, audit, err := startRules(ctx, dir, cfg, zone, cat)
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
	mux := rpc.NewPortMux(lis, tlsConf, svc.ServeData, rpc.ConnLimits{Max: conns.Max, PerHost: conns.PerHost}, cfg.Logger)
	g := grpc.NewServer(
		grpc.Creds(rpc.HandshakenTLS{}),
		grpc.ChainUnaryInterceptor(svc.UnaryInterceptor),
		grpc.ChainStreamInterceptor(svc.StreamInterceptor),
		grpc.MaxRecvMsgSize(arcapb.MaxMessageSize),
		// Large windows let one stream fill a fast link; the default
		// (64 KiB) caps a message of megabytes far below disk speed.
		// A window costs no memory until data fills it.
		grpc.InitialWindowSize(transferWindow),
		grpc.InitialConnWindowSize(2*transferWindow),
		grpc.WriteBufferSize(1<<20),
		grpc.ReadBufferSize(grpcReadBuffer),
		// The HTTP/2 preface must follow the TLS handshake as quickly.
		grpc.ConnectionTimeout(rpc.HandshakeTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: conns.IdleTimeout,
			Time:              conns.KeepaliveTime,
			Timeout:           conns.KeepaliveTimeout,
		}),
	)
	svc.Register(g)

	maintCtx, stopMaint := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMaint()
	go zone.RunMaintenance(maintCtx, cfg.MaintenanceInterval)
	go authn.Run(maintCtx)
	go zone.ReportOrphans(maintCtx)
	go zone.FollowRules(maintCtx, rulesPoll)
	if err := engine.Watch(maintCtx, loadRuleDirs(maintCtx, zone, "changed on server "+serverID(dir)), ruleDirs(dir, cfg)...); err != nil {
		cfg.Logger.Warn("rule files are not watched: changes need a restart", "err", err)
	}
	jobsDone := make(chan struct{})
	go func() { defer close(jobsDone); zone.RunJobs(maintCtx, cfg.Jobs) }()
	atimesDone := make(chan struct{})
	go func() { defer close(atimesDone); zone.RunAccessTimes(maintCtx, 0) }()
	defer func() { stopMaint(); <-jobsDone; <-atimesDone }()

	served := make(chan error, 3)
	stopHTTP := func(context.Context) {}
	if httpLis != nil {
		h := HTTPHandler(HTTPParts{Zone: zone, Auth: authn, Logger: cfg.Logger})
		stopHTTP = serveHTTP(httpLis, tlsConf, h, cfg.Logger, served)
		fmt.Fprintf(cfg.Out, "arca: web view, API (/api/v1/) and WebDAV (/dav/) at https://%s/\n", httpLis.Addr())
		if k := zone.PIDs(); k != nil {
			fmt.Fprintf(cfg.Out, "arca: PID resolver for %s at https://%s/api/handles/\n", k.Prefix(), httpLis.Addr())
		}
		if cfg.HTTPReady != nil {
			cfg.HTTPReady(httpLis.Addr())
		}
	}
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
	go func() { g.GracefulStop(); mux.Drain(graceCtx); stopHTTP(graceCtx); close(drained) }()
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

// rulesPoll is how often a server asks the catalog whether the zone's
// rule set has a new version: a new version is in use on every server
// within this and the time to compile it.
const rulesPoll = 500 * time.Millisecond

// ruleDirs are the directories of rule files this server watches and, at
// the first start of a zone, imports: DIR/rules first.
func ruleDirs(dir string, cfg ServerConfig) []string {
	return append([]string{filepath.Join(dir, "rules")}, cfg.RulesDirs...)
}

// loadRuleDirs loads the files of the rule directories as the zone's rule
// set, through the path of irule load, as the zone's administrator.
func loadRuleDirs(ctx context.Context, zone *zones.Zone, why string) func(files map[string][]byte) error {
	return func(files map[string][]byte) error {
		admin, err := zone.RuleActor(ctx)
		if err != nil {
			return err
		}
		_, err = zone.LoadRules(ctx, admin, files, "rule directory "+why)
		return err
	}
}

// startRules builds the zone's rule engine (its actions and the audit log
// DIR/audit.log, JSON lines) and puts the zone's rule set from the catalog
// in use. A zone whose catalog has no rule set yet (a new zone, or one
// from before rule sets were kept in the catalog) gets the files of
// DIR/rules and cfg.RulesDirs as its version 1, through the path of irule
// load. Rules that do not load stop the start: a server must not run
// without the policy its operators wrote.
func startRules(ctx context.Context, dir string, cfg ServerConfig, zone *zones.Zone, cat catalog.Catalog) (*rules.Engine, *auditLog, error) {
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
	fail := func(err error) (*rules.Engine, *auditLog, error) {
		f.Close()
		return nil, nil, err
	}
	audit := slog.New(slog.NewJSONHandler(f, nil))
	zone.SetAuditLog(f.path)
	zone.SetAuditLogger(audit) // changes of retention locks
	if err := useDMPs(zone, cat, dir); err != nil {
		return fail(err)
	}
	reg := rules.NewRegistry()
	if cfg.NotifyURL != "" {
		if err := validateNotifyURL(cfg.NotifyURL); err != nil {
			return fail(fmt.Errorf("notify URL: %w", err))
		}
	}
	if err := policies.RegisterWith(reg, zone, policies.Options{Audit: audit, NotifyURL: cfg.NotifyURL}); err != nil {
		return fail(err)
	}
	engine, err := rules.New(rules.Options{Registry: reg, Catalog: ruleCatalog{Catalog: cat, zone: zone}, Logger: cfg.Logger, Audit: audit})
	if err != nil {
		return fail(err)
	}
	zone.UseRules(engine)
	if err := zone.SyncRules(ctx); err != nil {
		return fail(fmt.Errorf("rules do not load:\n%w", err))
	}
	files, err := rules.ReadSetDirs(ruleDirs(dir, cfg)...)
	if err != nil {
		return fail(fmt.Errorf("rules do not load:\n%w", err))
	}
	version, digest := zone.RuleSetInUse()
	switch {
	case version == 0 && len(files) > 0:
		err := loadRuleDirs(ctx, zone, "imported at the first start of server "+serverID(dir))(files)
		if errors.Is(err, catalog.ErrConflict) {
			// Another server of the zone imported its own at the same
			// time: the zone's is what counts.
			err = zone.SyncRules(ctx)
		}
		if err != nil {
			return fail(fmt.Errorf("rules do not load:\n%w", err))
		}
	case version > 0 && len(files) > 0 && catalog.RuleSetDigest(files) != digest:
		cfg.Logger.Warn("the rule files of the rule directories are not the zone's rule set, which is in use; "+
			"make them the zone's with irule load, or change one to have the directories loaded",
			"dirs", strings.Join(ruleDirs(dir, cfg), ","), "version", version)
	}
	set := engine.Current()
	cfg.Logger.Info("rules loaded", "version", set.Version, "digest", set.Digest, "rules", len(set.Rules), "files", len(set.Files))
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

// adminPasswordAgain heeds ARCA_ADMIN_PASSWORD on a zone that exists only
// where it cannot override a choice: rods still has the password generated
// into DIR/admin-password at the first start (the README's walk-through
// starts without the variable, then with it). Rods then gets the variable's
// password, its sessions end, and the file goes. Otherwise the variable is
// ignored, and the operator is told so, and how to change the password.
func adminPasswordAgain(ctx context.Context, cat catalog.Catalog, rods catalog.User, dir string, cfg ServerConfig) error {
	pw := os.Getenv("ARCA_ADMIN_PASSWORD")
	if pw == "" || rods.Auth != catalog.AuthNative || passwordhash.Check(rods.PasswordHash, pw) {
		return nil // nothing asked, or nothing to change
	}
	path := filepath.Join(dir, "admin-password")
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read the generated admin password: %w", err)
	}
	if generated := strings.TrimSpace(string(b)); generated == "" || !passwordhash.Check(rods.PasswordHash, generated) {
		fmt.Fprintf(cfg.Out, "arca: ARCA_ADMIN_PASSWORD is ignored: zone %s exists and %s has a password set before; "+
			"to change it, run ipasswd as %s, or iadmin moduser %s password\n", rods.Zone, rods.Name, rods.Name, rods.Name)
		cfg.Logger.Warn("ARCA_ADMIN_PASSWORD ignored: the zone exists and the administrator's password was set before", "user", rods.Name)
		return nil
	}
	if rods.PasswordHash, err = passwordhash.Hash(pw); err != nil {
		return err
	}
	if err := cat.UpdateUser(ctx, rods); err != nil {
		return fmt.Errorf("set the password of %s from ARCA_ADMIN_PASSWORD: %w", rods.Name, err)
	}
	if _, err := cat.RemoveSessions(ctx, rods.UserID()); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove the generated admin password: %w", err)
	}
	fmt.Fprintf(cfg.Out, "arca: %s's password is now ARCA_ADMIN_PASSWORD's; the generated one is void and %s removed\n", rods.Name, path)
	cfg.Logger.Info("administrator password set from ARCA_ADMIN_PASSWORD, replacing the generated one", "user", rods.Name)
	return nil
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

// parseQoS gives the zone the QoS expression language of policies/qos.
func parseQoS(expr string) (zones.QoSExpr, error) {
	e, err := qos.Parse(expr)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ruleCatalog is the catalog the rule engine reads, with the zone's
// judgement of QoS requirements for object.qos (rules.QoSReporter).
type ruleCatalog struct {
	catalog.Catalog
	zone *zones.Zone
}

func (c ruleCatalog) QoSFacts(ctx context.Context, p catalog.Path) ([]rules.QoSFact, error) {
	return c.zone.QoSFacts(ctx, p)
}

// useDMPs gives the zone its DMP importer, with the site vocabulary in
// DIR/dmp-vocabulary.yaml that a steward edits (policies/dmp's shipped
// vocabulary until there is one).
func useDMPs(zone *zones.Zone, cat catalog.Catalog, dir string) error {
	text, err := os.ReadFile(filepath.Join(dir, "dmp-vocabulary.yaml"))
	if errors.Is(err, os.ErrNotExist) {
		text, err = dmp.DefaultVocabulary, nil
	}
	if err != nil {
		return fmt.Errorf("dmp vocabulary: %w", err)
	}
	voc, err := dmp.ParseVocabulary(text)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "dmp-vocabulary.yaml"), err)
	}
	v, err := dmp.NewValidator()
	if err != nil {
		return err
	}
	zone.UseDMPs(dmp.Keeper{Importer: &dmp.Importer{Zone: zone, Records: cat, Vocabulary: voc, Validator: v}})
	return nil
}
