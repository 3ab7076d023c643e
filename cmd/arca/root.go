package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/icommands"
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
	root.AddCommand(newServerCommand(s.Err), newInstallLinksCommand())
	root.AddCommand(icommands.Commands(s)...)
	return icommands.Run(ctx, root, argv[1:], s)
}

func newServerCommand(logTo io.Writer) *cobra.Command {
	var cfg zones.ServerConfig
	var logLevel string
	cmd := &cobra.Command{
		Use:   "server --data DIR [--addr HOST:PORT] [--zone NAME] [--catalog URL]",
		Short: "Run a zone server",
		Long: `arca server serves a zone from DIR. The first start on an empty DIR creates
the embedded catalog (DIR/catalog.db), the POSIX resource demoResc
(DIR/vault), a TLS CA and server certificate (DIR/tls/ca.pem is what clients
trust) and the administrator rods, whose password comes from
$ARCA_ADMIN_PASSWORD or is generated into DIR/admin-password. Later starts
reuse all of it. SIGINT or SIGTERM drain in-flight requests and stop.

--catalog dgraph://HOST:PORT keeps the catalog in a Dgraph cluster instead
(HOST:PORT is an alpha's gRPC port). Several servers, each with its own
DIR, serve one zone from one Dgraph catalog: what one writes the others see
at once, and leases and locks hold across them.`,
		Example: `  arca server --data ~/arca-zone
  ARCA_ADMIN_PASSWORD=secret arca server --data /srv/arca --addr 0.0.0.0:1247 --zone labZone
  arca server --data /srv/arca1 --catalog dgraph://dgraph1:9080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: level}))
			cfg.Out = cmd.OutOrStdout()
			return zones.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", "", "directory of the zone's catalog, vault and TLS files (required)")
	f.StringVar(&cfg.Addr, "addr", fmt.Sprintf("127.0.0.1:%d", zones.DefaultPort), "address to listen on")
	f.StringVar(&cfg.Zone, "zone", "", "zone name (first start only; default tempZone)")
	f.StringVar(&cfg.Catalog, "catalog", "", "catalog URL: sqlite://PATH or dgraph://HOST:PORT (default sqlite://DIR/catalog.db)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.DurationVar(&cfg.Lease, "lease", 0, "lease of an intermediate replica (default 1m)")
	cmd.MarkFlagRequired("data")
	return cmd
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
