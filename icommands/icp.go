package icommands

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

func newIcp(a *app) *cobra.Command {
	var force, recursive bool
	var resource string
	cmd := &cobra.Command{
		Use:   "icp [-f] [-r] [-R RESOURCE] SOURCE TARGET",
		Short: "Copy a data object or collection",
		Long: `icp copies a data object on the server, into TARGET when it is an
existing collection. -r copies a collection tree. The copy is a new data
object owned by you, checked against the source's checksum.`,
		Example: `  icp raw.dat raw-backup.dat
  icp -r run42 /tempZone/home/alice/archive/
  icp -R archiveResc big.tar big-archive.tar`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			from, err := c.resolve(args[0])
			if err != nil {
				return err
			}
			src, err := c.stat(ctx, from)
			if err != nil {
				return err
			}
			to, err := c.intoCollection(ctx, args[1], from.Name())
			if err != nil {
				return err
			}
			if src.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION {
				if !recursive {
					return usagef("%s is a collection: use -r", from)
				}
				return copyTree(ctx, a, c, from, to, resource, force)
			}
			return copyOne(ctx, a, c, from, to, resource, force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "overwrite an existing data object")
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "copy a collection tree")
	cmd.Flags().StringVarP(&resource, "resource", "R", "", "resource for the copy")
	addAdminFlag(a, cmd)
	return cmd
}

func copyOne(ctx context.Context, a *app, c *client, from, to catalog.Path, resource string, force bool) error {
	e, err := c.ns.Copy(ctx, &arcapb.CopyRequest{From: from.String(), To: to.String(), Resource: resource, Overwrite: force})
	if status.Code(err) == codes.AlreadyExists && !force {
		return fmt.Errorf("%w (use -f to overwrite)", err)
	}
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(entryJSON(e))
	}
	return nil
}

func copyTree(ctx context.Context, a *app, c *client, from, to catalog.Path, resource string, force bool) error {
	if to.HasPrefix(from) {
		// The copy would be listed as a part of what is copied.
		return fmt.Errorf("cannot copy %s into itself (%s)", from, to)
	}
	if _, err := c.ns.MakeCollection(ctx, &arcapb.MakeCollectionRequest{Path: to.String(), Parents: true}); err != nil {
		return err
	}
	stream, err := c.ns.List(ctx, &arcapb.ListRequest{Path: from.String(), Recursive: true})
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range resp.Entries {
			target := catalog.MustPath(e.Path).Rebase(from, to)
			if e.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION {
				if _, err := c.ns.MakeCollection(ctx, &arcapb.MakeCollectionRequest{Path: target.String(), Parents: true}); err != nil {
					return err
				}
				continue
			}
			if err := copyOne(ctx, a, c, catalog.MustPath(e.Path), target, resource, force); err != nil {
				return err
			}
		}
	}
}
