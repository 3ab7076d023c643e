package icommands

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIexit(a *app) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "iexit [full] [--all]",
		Short: "End the session",
		Long: `iexit ends the stored session on the server and forgets its token.
With "full" it also forgets the connection settings. --all ends every
session of the user, on every machine.`,
		Example: `  iexit
  iexit --all      # log out everywhere
  iexit full       # also forget host, zone and user`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			full := len(args) == 1
			if full && args[0] != "full" {
				return usagef("unknown argument %q (did you mean full?)", args[0])
			}
			dir, err := configDir(a.Getenv)
			if err != nil {
				return err
			}
			ended := int32(0)
			if c, err := a.connect(cmd.Context()); err == nil {
				resp, err := c.auth.Logout(cmd.Context(), &arcapb.LogoutRequest{All: all})
				if err != nil && all {
					return err
				}
				if err == nil {
					ended = resp.SessionsEnded
				}
			}
			remove := []string{sessionFile}
			if full {
				remove = append(remove, envFile, caFile)
			}
			for _, f := range remove {
				if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			if a.json {
				return a.printJSON(map[string]any{"sessions_ended": ended, "full": full})
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "end every session of the user")
	return cmd
}
