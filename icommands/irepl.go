package icommands

import (
	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIrepl(a *app) *cobra.Command {
	var (
		dest, src            string
		all, recursive, verb bool
	)
	cmd := &cobra.Command{
		Use:   "irepl [-R DEST] [-S SRC] [-a] [-r] DATA_OBJECT|COLLECTION...",
		Short: "Replicate data objects to another resource",
		Long: `irepl copies a good replica of each data object to the resource DEST
(the zone's tree decides the leaves: every child of a replication resource,
the cache and the archive of a compound). The copy is verified against the
source's size and checksum before it is marked good. -S takes the bytes
from a replica below SRC. -a refreshes every stale replica from a good one,
and fills the children of replication and compound resources that miss a
replica. -r works through a collection tree.`,
		Annotations: map[string]string{jsonLines: "replica changed (and with -v, object left unchanged)"},
		Example: `  irepl -R s3Resc results.csv
  irepl -a results.csv            # repair stale and missing replicas
  irepl -r -R archive projects/run42
  irepl -S demoResc -R tapeResc big.tar`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one data object or collection")
			}
			if dest == "" && !all {
				return usagef("name a destination resource with -R, or use -a")
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
				s, err := c.repls.Replicate(cmd.Context(), &arcapb.ReplicateRequest{Path: p.String(), DestResource: dest,
					SrcResource: src, UpdateStale: all, Recursive: recursive})
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
	f.StringVarP(&dest, "resource", "R", "", "destination resource")
	f.StringVarP(&src, "source", "S", "", "copy from a replica below this resource")
	f.BoolVarP(&all, "all", "a", false, "update every stale replica and fill missing ones")
	f.BoolVarP(&recursive, "recursive", "r", false, "replicate a collection tree")
	f.BoolVarP(&verb, "verbose", "v", false, "also report objects left unchanged")
	addAdminFlag(a, cmd)
	return cmd
}
