package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/catalog/migrate"
	"github.com/arca-data/arca/internal/server"
)

// newCatalogCommand is "arca catalog": administration of catalogs.
func newCatalogCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Administer a zone's catalog",
	}
	cmd.AddCommand(newCatalogMigrateCommand())
	return cmd
}

func newCatalogMigrateCommand() *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "migrate --from URL --to URL",
		Short: "Copy a whole catalog into an empty one and verify the copy",
		Long: `arca catalog migrate copies every user, group, resource, collection, data
object with its replicas, AVU, ACL, link, ticket, quota and job of the catalog
--from into the empty catalog --to, then compares the two: a count and a
digest per type of entry, printed as a table. It exits 1 when they differ.
Stop the zone's servers first. Catalog URLs are sqlite://PATH (a file; a new
one is created) and dgraph://HOST:PORT[?prefix=NAME].

Not copied: login sessions (users log in again) and writes in flight
(intermediate replicas). Ids and create and modify times are the target's
own.`,
		Example: `  arca catalog migrate --from sqlite:///srv/arca/catalog.db --to dgraph://dgraph1:9080
  arca server --data /srv/arca --catalog dgraph://dgraph1:9080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || to == "" {
				return fmt.Errorf("--from and --to are required")
			}
			ctx := cmd.Context()
			src, err := server.OpenCatalog(ctx, from, "")
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			defer src.Close()
			dst, err := server.OpenCatalog(ctx, to, "")
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			defer dst.Close()
			rep, err := migrate.Migrate(ctx, src, dst, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			rep.Write(cmd.OutOrStdout())
			if !rep.OK() {
				return fmt.Errorf("the copy differs from the source (see the table)")
			}
			fmt.Fprintln(cmd.OutOrStdout(), "the copy matches the source")
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "catalog to copy (sqlite://PATH or dgraph://HOST:PORT)")
	cmd.Flags().StringVar(&to, "to", "", "empty catalog to copy into")
	return cmd
}
