package icommands

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
)

func newIexit(a *app) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "iexit [full] [--all]",
		Short: "End the session",
		Long: `iexit ends the stored session on the server and forgets its token.
With "full" it also forgets the connection settings. --all ends every
session of the user, on every machine. When the zone cannot be reached or
refuses, iexit fails and keeps the token, so that it can be run again; a
session the zone no longer knows (it expired) counts as ended.`,
		Example: `  iexit
  iexit --all      # log out everywhere
  iexit full       # also forget host, zone and user`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			full := len(args) == 1
			if full && args[0] != "full" {
				return usagef("unknown argument %s (did you mean full?)", quoteArg(args[0]))
			}
			dir, err := configDir(a.Getenv)
			if err != nil {
				return err
			}
			ended := int32(0)
			c, err := a.connect(cmd.Context())
			switch {
			case errors.Is(err, errNoEnvironment):
				// Never logged in here: there is no session to end.
			case err != nil:
				return err
			default:
				resp, err := c.auth.Logout(cmd.Context(), &arcapb.LogoutRequest{All: all})
				switch {
				case err == nil:
					ended = resp.SessionsEnded
				case status.Code(err) == codes.Unauthenticated && !all:
					// The zone knows no such session (it expired, or
					// was ended): there is nothing left to end.
				default:
					// The session may still be valid: keep its token,
					// so that iexit can be tried again.
					return fmt.Errorf("the zone did not end the session, which stays valid until it expires; "+
						"its token is kept in %s, so that iexit can be run again: %w", filepath.Join(dir, sessionFile), err)
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
