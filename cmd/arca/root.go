package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/icommands"
	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/zones"
)

// run dispatches on the name the binary was called by: an icommand name
// runs that icommand, anything else the arca command tree.
func run(ctx context.Context, argv []string) int {
	s := icommands.OSStreams()
	name := filepath.Base(argv[0])
	if slices.Contains(icommands.Names(), name) {
		for _, c := range icommands.Commands(s) {
			if c.Name() == name {
				return icommands.Run(ctx, c, argv[1:], s)
			}
		}
	}
	root := &cobra.Command{
		Use:   "arca",
		Short: "Arca: rule-oriented data management",
		Long: `Arca puts one logical namespace and one metadata catalog over POSIX, S3
and tape storage. "arca server" runs a zone; the icommands (ils, iput, iget,
...) are subcommands here, or commands of their own through install-links.`,
	}
	root.AddCommand(newServerCommand(s.Err), newInstallLinksCommand(), newRulesCommand(s.Out), newCatalogCommand())
	root.AddCommand(icommands.Commands(s)...)
	root.AddCommand(icommands.ArcaCommands(s)...)
	return icommands.Run(ctx, root, argv[1:], s)
}

func newServerCommand(logTo io.Writer) *cobra.Command {
	var flags server.ServerConfig
	var logLevel, configPath string
	cmd := &cobra.Command{
		Use:   "server --data DIR [--addr HOST:PORT] [--zone NAME] [--config FILE] [--catalog URL] [--ldap-url URL ...]",
		Short: "Run a zone server",
		Long: `arca server serves a zone from DIR. The first start on an empty DIR creates
the embedded catalog (DIR/catalog.db), the POSIX resource demoResc
(DIR/vault), a TLS CA and server certificate (DIR/tls/ca.pem is what clients
trust) and the administrator rods, whose password comes from
$ARCA_ADMIN_PASSWORD or is generated into DIR/admin-password. Later starts
reuse all of it; a DIR that lost its catalog or the file DIR/zone is refused
rather than started as a new, empty zone. SIGINT or SIGTERM drain in-flight
requests and stop; a second one stops at once.

Rules (YAML files of CEL rules, and test cases in *.test.yaml) are the
zone's rule set, kept in the catalog as numbered versions; every server of
the zone uses the newest, within a second of its loading. irule load
(administrators) makes files the next version once they compile and pass
their test cases; irule history and irule rollback show and undo changes.
DIR/rules and every --rules directory are where this server takes rules
from its directory: at the first start of a zone whose catalog has no rule
set, their files become version 1; while it runs, a change to a file there
is loaded as the next version, as irule load would (a change that does not
compile or fails a test case is logged and the version in use stays, and a
file is read only once its writer has closed it). At later starts the
catalog's version is used, and a directory that differs from it is only
reported: change a file, or run irule load, to load it. With several
servers in one zone, keep rule files in one server's directory, or use
irule load. Rule decisions and actions are recorded, with the rule set's
version and digest, in DIR/audit.log; SIGHUP reopens it, for log rotation
(logrotate's create mode with a postrotate kill -HUP).

--catalog dgraph://HOST:PORT keeps the catalog in a Dgraph cluster instead
(HOST:PORT is an alpha's gRPC port). Several servers, each with its own
DIR, serve one zone from one Dgraph catalog: what one writes the others see
at once, and leases and locks hold across them.

Settings come from the configuration file DIR/arca.yaml (or --config FILE),
if there is one, and from flags, which win over the file.

LDAP: with --ldap-url (or an ldap section in the file) users may log in with
an LDAP directory: the server searches --ldap-base for --ldap-user-attr=NAME
(as --ldap-bind-dn, or anonymously), then binds as the entry found with the
user's password, over ldaps:// or StartTLS (ldap://), verified against
--ldap-ca. Which check applies is the user's record's choice: native users
such as rods log in with Arca's own password only; users with auth ldap
(iadmin moduser NAME auth ldap) with the directory only. A name the zone
does not know is tried against the directory when --ldap-provision is on
(the default), and a success creates the user with a home collection. The
groups under --ldap-group-base that hold the user become its Arca groups at
every login.`,
		Example: `  arca server --data ~/arca-zone
  ARCA_ADMIN_PASSWORD=secret arca server --data /srv/arca --addr 0.0.0.0:1247 --zone labZone
  arca server --data /srv/arca --ldap-url ldaps://ldap.example.org --ldap-base ou=people,dc=example,dc=org \
      --ldap-user-attr uid --ldap-group-base ou=groups,dc=example,dc=org --ldap-ca /etc/arca/ldap-ca.pem
  arca server --data ~/arca-zone --rules /etc/arca/rules
  arca server --data /srv/arca1 --catalog dgraph://dgraph1:9080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, level, err := serverConfig(cmd, flags, logLevel, configPath)
			if err != nil {
				return err
			}
			cfg.Logger = slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: level}))
			cfg.Out = cmd.OutOrStdout()
			if os.Getenv("GOMAXPROCS") == "" { // an operator's choice wins
				runtime.GOMAXPROCS(server.ServerProcs(runtime.GOMAXPROCS(0)))
			}
			// SIGHUP reopens the audit log, for logrotate.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			cfg.ReopenLogs = hup
			return server.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&flags.DataDir, "data", "", "directory of the zone's catalog, vault and TLS files (required)")
	f.StringVar(&configPath, "config", "", "configuration file (default DIR/"+server.ConfigFileName+" if it exists)")
	f.StringVar(&flags.Addr, "addr", fmt.Sprintf("127.0.0.1:%d", zones.DefaultPort), "address to listen on")
	f.StringVar(&flags.NotifyURL, "notify-url", "", "webhook the lifecycle policy's notices are POSTed to as JSON (notify_url in arca.yaml)")
	f.StringVar(&flags.HTTPAddr, "http", "", "address of the HTTPS listener: web view, JSON API (/api/v1/), WebDAV (/dav/); off if empty")
	f.StringVar(&flags.Zone, "zone", "", "zone name (first start only; default tempZone)")
	f.StringVar(&flags.Catalog, "catalog", "", "catalog URL: sqlite://PATH or dgraph://HOST:PORT (default sqlite://DIR/catalog.db)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.DurationVar(&flags.Lease, "lease", 0, "lease of an intermediate replica (default 1m)")
	f.DurationVar(&flags.SessionTTL, "session-ttl", 0, "how long a login lasts (default 8h)")
	l := &flags.LDAP
	f.StringVar(&l.URL, "ldap-url", "", "LDAP directory: ldaps://HOST[:PORT], or ldap://HOST[:PORT] with StartTLS")
	f.StringVar(&l.Base, "ldap-base", "", "DN under which users are searched")
	f.StringVar(&l.UserAttr, "ldap-user-attr", "uid", "attribute that holds the login name")
	f.StringVar(&l.UserFilter, "ldap-user-filter", "(objectClass=*)", "filter the user search must also match")
	f.StringVar(&l.GroupBase, "ldap-group-base", "", "DN under which groups are searched; empty maps no groups")
	f.StringVar(&l.GroupAttr, "ldap-group-attr", "cn", "attribute that holds a group's name")
	f.StringVar(&l.BindDN, "ldap-bind-dn", "", "service account that searches (default: search anonymously)")
	f.StringVar(&l.BindPasswordFile, "ldap-bind-password-file", "", "file with the service account's password (mode 0600)")
	f.StringVar(&l.CAFile, "ldap-ca", "", "CA certificate (PEM) the directory's certificate must chain to (default: the system's)")
	f.BoolVar(&l.Provision, "ldap-provision", true, "create users on their first LDAP login; false: an administrator makes them")
	f.StringArrayVar(&flags.RulesDirs, "rules", nil, "a directory of rule files, watched beside DIR/rules and loaded as the zone's rule set (repeatable)")
	f.StringVar(&flags.PID.Prefix, "pid-prefix", "", "Handle prefix of the zone's PIDs, such as 21.T12995 (default: mint none)")
	f.StringVar(&flags.PID.URL, "pid-url", "", "base URL of PID landing pages (default: https:// and the --http address)")
	f.StringVar(&flags.RAiD.Prefix, "raid-prefix", "", "prefix of the zone's RAiDs, such as 10.82841 (default: mint none)")
	f.StringVar(&flags.RAiD.Owner, "raid-owner", "", "ROR of the organisation that owns the zone's RAiDs")
	cmd.MarkFlagRequired("data")
	return cmd
}

// serverConfig merges the configuration file and the flags given: a flag
// on the command line wins over the file, the file over a flag's default.
func serverConfig(cmd *cobra.Command, flags server.ServerConfig, logLevel, configPath string) (server.ServerConfig, slog.Level, error) {
	explicit := configPath != ""
	if !explicit {
		configPath = filepath.Join(flags.DataDir, server.ConfigFileName)
	}
	var file server.ConfigFile
	if _, err := os.Stat(configPath); err == nil || explicit {
		if file, err = server.LoadConfig(configPath); err != nil {
			return server.ServerConfig{}, 0, fmt.Errorf("--config: %w", err)
		}
	}
	cfg, level := file.ServerConfig()
	cfg.DataDir = flags.DataDir
	set := cmd.Flags().Changed
	l, fl := &cfg.LDAP, flags.LDAP
	if set("ldap-url") && l.URL == "" {
		// A directory given by flags alone: the other LDAP flags' defaults
		// apply in full.
		l.Provision = fl.Provision
	}
	for name, apply := range map[string]func(){
		"addr": func() { cfg.Addr = flags.Addr }, "http": func() { cfg.HTTPAddr = flags.HTTPAddr }, "notify-url": func() { cfg.NotifyURL = flags.NotifyURL }, "zone": func() { cfg.Zone = flags.Zone },
		"catalog": func() { cfg.Catalog = flags.Catalog },
		"lease":   func() { cfg.Lease = flags.Lease }, "session-ttl": func() { cfg.SessionTTL = flags.SessionTTL },
		"ldap-url": func() { l.URL = fl.URL }, "ldap-base": func() { l.Base = fl.Base },
		"ldap-user-attr": func() { l.UserAttr = fl.UserAttr }, "ldap-user-filter": func() { l.UserFilter = fl.UserFilter },
		"ldap-group-base": func() { l.GroupBase = fl.GroupBase }, "ldap-group-attr": func() { l.GroupAttr = fl.GroupAttr },
		"ldap-bind-dn": func() { l.BindDN = fl.BindDN }, "ldap-bind-password-file": func() { l.BindPasswordFile = fl.BindPasswordFile },
		"ldap-ca": func() { l.CAFile = fl.CAFile }, "ldap-provision": func() { l.Provision = fl.Provision },
		"rules":       func() { cfg.RulesDirs = flags.RulesDirs },
		"pid-prefix":  func() { cfg.PID.Prefix = flags.PID.Prefix },
		"pid-url":     func() { cfg.PID.URL = flags.PID.URL },
		"raid-prefix": func() { cfg.RAiD.Prefix = flags.RAiD.Prefix }, "raid-owner": func() { cfg.RAiD.Owner = flags.RAiD.Owner },
	} {
		if set(name) {
			apply()
		}
	}
	if cfg.Addr == "" {
		cfg.Addr = flags.Addr
	}
	if set("log-level") || file.LogLevel == "" {
		if err := level.UnmarshalText([]byte(logLevel)); err != nil {
			return server.ServerConfig{}, 0, fmt.Errorf("--log-level: %w", err)
		}
	}
	if l.URL == "" && (set("ldap-base") || set("ldap-group-base") || set("ldap-bind-dn") || set("ldap-ca")) {
		return server.ServerConfig{}, 0, fmt.Errorf("--ldap-* flags need --ldap-url (or an ldap section in the configuration file)")
	}
	return cfg, level, nil
}

func newInstallLinksCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "install-links DIR",
		Short:   "Make ils, iput, ... links to this binary in DIR",
		Example: `  arca install-links ~/bin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			for _, name := range icommands.Names() {
				link := filepath.Join(args[0], name)
				os.Remove(link)
				if err := os.Symlink(self, link); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
