package icommands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIcd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "icd [COLLECTION]",
		Short: "Change the working collection",
		Long:  `icd changes the working collection; without an argument it goes home.`,
		Example: `  icd projects/abc
  icd ..
  icd          # back to /tempZone/home/<user>`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			target := c.env.Home
			if len(args) == 1 {
				p, err := c.resolve(args[0])
				if err != nil {
					return err
				}
				e, err := c.stat(cmd.Context(), p)
				if err != nil {
					return err
				}
				if e.Kind != arcapb.EntryKind_ENTRY_KIND_COLLECTION {
					return fmt.Errorf("%s is a data object, not a collection", p)
				}
				target = p.String()
			}
			c.env.Cwd = target
			if err := saveEnvironment(c.dir, c.env); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]string{"cwd": target})
			}
			return nil
		},
	}
}
