package icommands

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIqdel(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "iqdel ID...",
		Short: "Remove scheduled rule jobs",
		Long: `iqdel removes jobs from the queue iqstat shows: your own, or any job for
an administrator. A periodic job removed is not scheduled again until its
rule fires anew.`,
		Annotations: map[string]string{jsonLines: "job removed"},
		Example: `  iqdel 12
  iqdel 12 13 14`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("iqdel needs the ID of a job (see iqstat)")
			}
			for _, s := range args {
				if _, err := strconv.ParseInt(s, 10, 64); err != nil {
					return usagef("%s is not a job ID", quoteArg(s))
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			for _, s := range args {
				id, _ := strconv.ParseInt(s, 10, 64)
				if _, err := c.rules.RemoveJob(ctx, &arcapb.RemoveJobRequest{Id: id}); err != nil {
					return err
				}
				if a.json {
					if err := a.printJSON(map[string]any{"removed": id}); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(a.Out, "removed job %d\n", id)
				}
			}
			return nil
		},
	}
}
