package icommands

import (
	"bufio"
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIpasswd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ipasswd",
		Short: "Change your own password",
		Long: `ipasswd changes the password of the user you are logged in as, as in
iRODS. It asks for the current password and for the new one twice, without
echo; the two new entries must match. For scripts, the current password
comes from $ARCA_PASSWORD (as for iinit) and the new one from
$ARCA_NEW_PASSWORD, which is not asked again. Without a terminal each
password not given by its variable is read as one line of standard input.

The zone checks the current password as it checks a login (a wrong one is
refused and, like a failed login, slows the next attempts), refuses an
empty new password, and ends every session of the user, on every machine.
ipasswd then logs in again with the new password and stores the new
session as iinit does, so the next command works here; elsewhere, run
iinit again. Users who log in with the zone's LDAP directory change their
password in the directory, not here. An administrator sets anyone's
password with iadmin moduser USER password PASSWORD.

A wrong current password exits 4, two new entries that differ 2 (nothing
is sent), an LDAP user or an empty new password 1.

With --json it prints {"changed": true, "user": ..., "zone": ...}.`,
		Example: `  ipasswd                                       # asks: current, new, new again
  ARCA_PASSWORD=old ARCA_NEW_PASSWORD=new ipasswd
  printf '%s\n' "$OLD" "$NEW" "$NEW" | ipasswd  # no terminal: three lines`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIpasswd(cmd.Context(), a)
		},
	}
	return cmd
}

func runIpasswd(ctx context.Context, a *app) error {
	dir, err := configDir(a.Getenv)
	if err != nil {
		return err
	}
	env, err := loadEnvironment(dir)
	if err != nil {
		return err
	}
	// Several passwords may come from one standard input that is not a
	// terminal: one buffered reader serves them all (readPassword reuses it).
	in := *a.Streams
	if !isTerminal(a.In) {
		in.In = bufio.NewReader(a.In)
	}
	ask := &app{Streams: &in}
	current := a.Getenv("ARCA_PASSWORD")
	if current == "" {
		if current, err = readPassword(ask, env.User); err != nil {
			return err
		}
	}
	next := a.Getenv("ARCA_NEW_PASSWORD")
	if next == "" {
		if next, err = readPassword(ask, env.User+" (new)"); err != nil {
			return fmt.Errorf("no new password: set ARCA_NEW_PASSWORD or type it on standard input")
		}
		again, err := readPassword(ask, env.User+" (new, again)")
		if err != nil {
			return fmt.Errorf("the new password is asked twice: type it again on standard input, or set ARCA_NEW_PASSWORD")
		}
		if again != next {
			return usagef("the two new passwords differ; nothing changed")
		}
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	if _, err := c.admin.ChangePassword(ctx, &arcapb.ChangePasswordRequest{CurrentPassword: current, NewPassword: next}); err != nil {
		return err
	}
	// Every session has ended, this one too: log in again as iinit does,
	// with the new password, and keep the working collection, which a
	// login resets to the home.
	cwd := env.Cwd
	if env, _, err = logIn(ctx, dir, env, next); err != nil {
		return fmt.Errorf("the password has changed, but logging in again failed (run iinit): %w", err)
	}
	if env.Cwd != cwd {
		env.Cwd = cwd
		if err := saveEnvironment(dir, env); err != nil {
			return err
		}
	}
	if a.json {
		return a.printJSON(map[string]any{"changed": true, "user": env.User, "zone": env.Zone})
	}
	return nil
}
