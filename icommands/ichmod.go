package icommands

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

func newIchmod(a *app) *cobra.Command {
	var recursive, adminMode bool
	cmd := &cobra.Command{
		Use:   "ichmod [-r] [-M] LEVEL USER|GROUP PATH...  |  ichmod [-r] inherit|noinherit COLLECTION...",
		Short: "Change access control lists and inheritance",
		Long: `ichmod grants a user or group a level on data objects and collections:
null (removes the grant), read, write or own; read_object and modify_object
are iRODS's names for read and write. Changing an ACL needs own on the
target. With -r it also changes everything below a collection that you own.
With -M a rodsadmin may change any ACL.

ichmod inherit|noinherit sets a collection's inheritance flag: data objects
and collections created in an inheriting collection copy its ACL (and new
collections the flag). What exists already is not changed. ils -A shows
ACLs and the flag.`,
		Annotations: map[string]string{jsonLines: "path changed"},
		Example: `  ichmod read bob run42.dat
  ichmod -r write staff /tempZone/home/alice/projects
  ichmod null bob run42.dat
  ichmod inherit /tempZone/home/alice/projects
  ichmod -M own alice /tempZone/home/bob/shared`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name a level (null, read, write, own) or inherit|noinherit")
			}
			switch args[0] {
			case "inherit", "noinherit":
				if len(args) < 2 {
					return usagef("ichmod %s needs at least one collection", args[0])
				}
				return nil
			}
			if _, err := catalog.ParseAccessLevel(args[0]); err != nil {
				return usagef("unknown access level %s (want null, read, write, own, read_object, modify_object, inherit or noinherit)", quoteArg(args[0]))
			}
			if len(args) < 3 {
				return usagef("ichmod %s needs a user or group and at least one path", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			inherit := args[0] == "inherit" || args[0] == "noinherit"
			paths := args[2:]
			if inherit {
				paths = args[1:]
			}
			var firstErr error
			for _, arg := range paths {
				p, err := c.resolve(arg)
				if err == nil {
					if inherit {
						_, err = c.access.SetInheritance(ctx, &arcapb.SetInheritanceRequest{Path: p.String(),
							Inherit: args[0] == "inherit", Recursive: recursive, AdminMode: adminMode})
					} else {
						_, err = c.access.SetAccess(ctx, &arcapb.SetAccessRequest{Path: p.String(), Principal: args[1],
							Level: args[0], Recursive: recursive, AdminMode: adminMode})
					}
				}
				if err == nil && a.json {
					out := map[string]any{"path": p.String(), "recursive": recursive}
					if inherit {
						out["inherit"] = args[0] == "inherit"
					} else {
						lvl, _ := catalog.ParseAccessLevel(args[0]) // checked by Args
						out["principal"], out["level"] = args[1], lvl.String()
					}
					err = a.printJSON(out)
				}
				if err != nil {
					if len(paths) == 1 {
						return err
					}
					fmt.Fprintf(a.Err, "ichmod: %s\n", message(err))
					if firstErr == nil {
						firstErr = err
					}
				}
			}
			if firstErr != nil {
				return exitError{code: exitCode(firstErr), err: errors.New("some paths were not changed")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "also change what lies below a collection")
	cmd.Flags().BoolVarP(&adminMode, "admin", "M", false, "admin mode: a rodsadmin changes any ACL")
	return cmd
}
