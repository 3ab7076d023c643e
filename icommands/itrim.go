package icommands

import (
	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newItrim(a *app) *cobra.Command {
	var (
		keep                 int
		resc                 string
		recursive, dry, verb bool
	)
	cmd := &cobra.Command{
		Use:   "itrim [-N KEEP] [-S RESC] [-r] [--dryrun] DATA_OBJECT|COLLECTION...",
		Short: "Remove surplus replicas",
		Long: `itrim removes replicas of each data object until KEEP remain (default 2):
stale replicas first, then the oldest. With -S only replicas below RESC are
removed. The last good replica of an object is never removed. --dryrun
reports what would go.`,
		Annotations: map[string]string{jsonLines: "replica trimmed (and with -v, object left unchanged)"},
		Example: `  itrim -N 1 results.csv
  itrim -N 1 -S demoResc -r projects/run42
  itrim --dryrun -N 1 results.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one data object or collection")
			}
			if keep < 1 {
				return usagef("-N %d: at least one replica stays", keep)
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
				s, err := c.repls.Trim(cmd.Context(), &arcapb.TrimRequest{Path: p.String(), Keep: int32(keep), Resource: resc,
					Recursive: recursive, DryRun: dry})
				if err != nil {
					return err
				}
				if err := a.printChanges(s, verb); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVarP(&keep, "number", "N", 2, "replicas to keep")
	f.StringVarP(&resc, "resource", "S", "", "only trim replicas below this resource")
	f.BoolVarP(&recursive, "recursive", "r", false, "trim a collection tree")
	f.BoolVar(&dry, "dryrun", false, "report what would be trimmed, trim nothing")
	f.BoolVarP(&verb, "verbose", "v", false, "also report objects left unchanged")
	addAdminFlag(a, cmd)
	return cmd
}
