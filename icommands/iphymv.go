package icommands

import (
	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIphymv(a *app) *cobra.Command {
	var (
		dest, src       string
		recursive, verb bool
	)
	cmd := &cobra.Command{
		Use:   "iphymv [-S SRC] -R DEST [-r] DATA_OBJECT|COLLECTION...",
		Short: "Move replicas to another resource",
		Long: `iphymv moves a replica of each data object to DEST: it copies a good
replica (from below SRC with -S), verifies the copy's checksum, marks it good,
then removes the replica it came from.`,
		Annotations: map[string]string{jsonLines: "replica moved (and with -v, object left unchanged)"},
		Example: `  iphymv -R s3Resc results.csv
  iphymv -S demoResc -R tapeResc -r projects/2019`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one data object or collection")
			}
			if dest == "" {
				return usagef("name the destination resource with -R")
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
				s, err := c.repls.PhysMove(cmd.Context(), &arcapb.PhysMoveRequest{Path: p.String(), SrcResource: src,
					DestResource: dest, Recursive: recursive})
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
	f.StringVarP(&src, "source", "S", "", "move the replica below this resource")
	f.BoolVarP(&recursive, "recursive", "r", false, "move a collection tree")
	f.BoolVarP(&verb, "verbose", "v", false, "also report objects left unchanged")
	addAdminFlag(a, cmd)
	return cmd
}
