package icommands

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

func newImv(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "imv SOURCE TARGET",
		Short: "Move or rename a data object or collection",
		Long: `imv renames a data object or collection, or moves it into TARGET when
TARGET is an existing collection. Only the catalog changes; no bytes move.`,
		Example: `  imv draft.txt final.txt
  imv run42 /tempZone/home/alice/archive/`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			from, err := c.resolve(args[0])
			if err != nil {
				return err
			}
			to, err := c.intoCollection(cmd.Context(), args[1], from.Name())
			if err != nil {
				return err
			}
			e, err := c.ns.Rename(cmd.Context(), &arcapb.RenameRequest{From: from.String(), To: to.String()})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(entryJSON(e))
			}
			return nil
		},
	}
	addAdminFlag(a, cmd)
	return cmd
}

// intoCollection resolves a target argument: an existing collection means
// "put it inside, under name"; anything else is the new path itself.
func (c *client) intoCollection(ctx context.Context, arg, name string) (catalog.Path, error) {
	to, err := c.resolve(arg)
	if err != nil {
		return catalog.Path{}, err
	}
	e, err := c.stat(ctx, to)
	if err == nil && e.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION {
		return to.Join(name)
	}
	if into(arg) {
		return catalog.Path{}, notACollection(to, err)
	}
	return to, nil
}

// into reports whether a target argument ends in a slash: as with cp, it
// names a collection to go into, never a new name.
func into(arg string) bool {
	return len(arg) > 1 && strings.HasSuffix(arg, "/")
}

// notACollection is the error for a target written as a collection (with
// a trailing slash) that is not one: statErr is what looking it up gave.
func notACollection(p catalog.Path, statErr error) error {
	if statErr != nil {
		return fmt.Errorf("%s/: no such collection: %w", p, statErr)
	}
	return fmt.Errorf("%s/: not a collection", p)
}
