package icommands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIchksum(a *app) *cobra.Command {
	var verify bool
	cmd := &cobra.Command{
		Use:   "ichksum [-K] DATA_OBJECT...",
		Short: "Show or verify checksums",
		Long: `ichksum prints the SHA-256 checksum of data objects ("sha2:" and base64,
as iRODS writes it). With -K it reads every good replica from storage and
compares its size and checksum with the catalog; a mismatch is an error that
names the replica.`,
		Example: `  ichksum results.csv
  ichksum -K results.csv      # re-read the bytes and verify`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one data object")
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
				resp, err := c.ns.Checksum(cmd.Context(), &arcapb.ChecksumRequest{Path: p.String(), Verify: verify})
				if err != nil {
					return err
				}
				if a.json {
					if err := a.printJSON(map[string]any{"path": p.String(), "checksum": resp.Checksum, "verified": verify}); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(a.Out, "    %-40s %s\n", p.Name(), resp.Checksum)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verify, "verify", "K", false, "verify every good replica against the catalog")
	return cmd
}
