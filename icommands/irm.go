package icommands

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

func newIrm(a *app) *cobra.Command {
	var recursive, force, empty bool
	cmd := &cobra.Command{
		Use:   "irm [-r] [-f] [-M] [--empty] PATH...",
		Short: "Remove data objects and collections (to the trash)",
		Long: `irm moves data objects, and with -r collections, to the trash
(/<zone>/trash/home/<user>), from where irmtrash deletes them for good.
-f deletes at once, skipping the trash. A rodsadmin removes other users'
data with -M (admin mode).

--empty is accepted for iRODS scripts and changes nothing: in iRODS it
removes a bundle file (made by iphybun, which iRODS dropped in 4.3) only
once the files bundled in it are gone. Arca has no bundle files. (iRODS's
server also skips the trash for an ordinary data object given --empty, an
accident of its code path that Arca does not copy: a flag about bundles
deletes nothing for good; use -f for that.)`,
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
	cmd.Flags().BoolVar(&empty, "empty", false, "iRODS: remove a bundle file only when empty; Arca has none, so it changes nothing")
	addAdminFlag(a, cmd)
	return cmd
}

func newIrmtrash(a *app) *cobra.Command {
	var (
		user      string
		all       bool
		recursive bool
		age       string
	)
	cmd := &cobra.Command{
		Use:   "irmtrash [-r] [--age MINUTES] [-M] [-u USER] [PATH...]",
		Short: "Empty the trash",
		Long: `irmtrash deletes what is in your trash for good, as iRODS's irmtrash: all
of it, or the data objects and collections PATH names (relative to your
trash, /<zone>/trash/home/<you>; a collection needs -r). --age MINUTES
removes only the data objects last modified at least that long ago, and the
collections this leaves empty (as in iRODS, in minutes; Arca also takes
36h or 7d). Administrators empty another user's trash with -M -u USER (or
-u USER; PATH is then relative to that trash), or every user's with -M.`,
		Example: `  irmtrash
  irmtrash old.csv
  irmtrash -r run41
  irmtrash --age 1440      # what has not changed for a day
  irmtrash --age 30d
  irmtrash -M -u alice     # administrators: alice's trash
  irmtrash -M              # administrators: every user's trash`,
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &arcapb.RemoveTrashRequest{User: user, All: all && user == "", Recursive: recursive}
			if age != "" {
				d, err := parseAge(age)
				if err != nil {
					return usagef("--age: %v", err)
				}
				req.MinAgeSeconds = int64(d / time.Second) // 0: everything, as in iRODS
			}
			if req.All && len(args) > 0 {
				return usagef("-M without -u empties every user's trash: name no PATH, or give -u USER")
			}
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			if len(args) > 0 {
				owner := user
				if owner == "" {
					owner = c.env.User
				}
				trash := catalog.MustPath("/" + c.env.Zone + "/trash/home")
				if err := catalog.ValidateUserName(owner); err != nil {
					return usagef("-u: %v", err)
				}
				home, err := trash.Join(owner)
				if err != nil {
					return usagef("-u: %v", err)
				}
				for _, arg := range args {
					p, err := catalog.Resolve(home, arg)
					if err != nil {
						return usagef("%s: %v", quoteArg(arg), err)
					}
					req.Paths = append(req.Paths, p.String())
				}
			}
			resp, err := c.ns.RemoveTrash(cmd.Context(), req)
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
	cmd.Flags().BoolVarP(&all, "admin", "M", false, "admin mode: without -u, empty every user's trash (administrators)")
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "remove a collection named with what is in it")
	cmd.Flags().StringVar(&age, "age", "", "only what was last modified at least this long ago: minutes, as in iRODS, or 36h, 7d")
	return cmd
}

// parseAge reads irmtrash --age: minutes, as in iRODS (a negative number
// is 0), or a duration with a unit (90s, 36h, 7d).
func parseAge(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		n = max(0, min(n, math.MaxInt64/int64(time.Minute)))
		return time.Duration(n) * time.Minute, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%s is not a number of days", quoteArg(s))
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s is not minutes, nor a duration such as 36h or 7d", quoteArg(s))
	}
	return d, nil
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
