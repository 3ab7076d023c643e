package icommands

import (
	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newImkdir(a *app) *cobra.Command {
	var parents bool
	cmd := &cobra.Command{
		Use:         "imkdir [-p] COLLECTION...",
		Short:       "Make collections",
		Long:        `imkdir creates collections. With -p it creates missing parents and accepts existing collections.`,
		Annotations: map[string]string{jsonLines: "collection made"},
		Example: `  imkdir run42
  imkdir -p /tempZone/home/alice/projects/abc/raw`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one collection")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			for _, arg := range args {
				p, err := c.resolve(arg)
				if err != nil {
					return err
				}
				e, err := c.ns.MakeCollection(cmd.Context(), &arcapb.MakeCollectionRequest{Path: p.String(), Parents: parents})
				if err != nil {
					return err
				}
				if a.json {
					if err := a.printJSON(entryJSON(e)); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&parents, "parents", "p", false, "make parent collections as needed")
	addAdminFlag(a, cmd)
	return cmd
}
