package icommands

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIrm(a *app) *cobra.Command {
	var recursive, force bool
	cmd := &cobra.Command{
		Use:   "irm [-r] [-f] PATH...",
		Short: "Remove data objects and collections (to the trash)",
		Long: `irm moves data objects, and with -r collections, to the trash
(/<zone>/trash/home/<user>), from where irmtrash deletes them for good.
-f deletes at once, skipping the trash.`,
		Annotations: map[string]string{jsonLines: "path removed"},
		Example: `  irm old.csv
  irm -r run41
  irm -rf scratch      # no trash: gone for good`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one data object or collection")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			return eachPath(a, "irm", "removed", args, func(arg string) error {
				return removeOne(cmd.Context(), a, c, arg, recursive, force)
			})
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "remove collections and their contents")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "delete at once instead of moving to the trash")
	addAdminFlag(a, cmd)
	return cmd
}

func newIrmtrash(a *app) *cobra.Command {
	var user string
	var all bool
	cmd := &cobra.Command{
		Use:   "irmtrash [-u USER] [-M]",
		Short: "Empty the trash",
		Long: `irmtrash deletes everything in your trash for good. Administrators may
empty another user's trash with -u, or every user's with -M.`,
		Example: `  irmtrash
  irmtrash -M           # administrators: every user's trash`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			resp, err := c.ns.RemoveTrash(cmd.Context(), &arcapb.RemoveTrashRequest{User: user, All: all})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"data_objects": resp.DataObjects, "collections": resp.Collections})
			}
			if isTerminal(a.Out) {
				fmt.Fprintf(a.Out, "removed %d data objects and %d collections\n", resp.DataObjects, resp.Collections)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&user, "user", "u", "", "empty this user's trash (administrators)")
	cmd.Flags().BoolVarP(&all, "all", "M", false, "empty every user's trash (administrators)")
	return cmd
}

// removeOne removes the data object or collection arg.
func removeOne(ctx context.Context, a *app, c *client, arg string, recursive, force bool) error {
	p, err := c.resolve(arg)
	if err != nil {
		return err
	}
	resp, err := c.ns.Remove(ctx, &arcapb.RemoveRequest{Path: p.String(), Recursive: recursive, Force: force})
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(map[string]any{"path": p.String(), "data_objects": resp.DataObjects,
			"collections": resp.Collections, "trash_path": resp.TrashPath})
	}
	return nil
}
