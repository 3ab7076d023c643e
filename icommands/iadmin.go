package icommands

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIadmin(a *app) *cobra.Command {
	var caFile string
	cmd := &cobra.Command{
		Use:   "iadmin SUBCOMMAND ...",
		Short: "Administer the zone (rodsadmin)",
		Long: `iadmin administers users and groups of the zone. Subcommands:
  mkuser NAME rodsuser|rodsadmin|groupadmin [PASSWORD|-]
  moduser NAME password [PASSWORD|-]
  moduser NAME type|info|auth VALUE
                       (auth native|ldap: who checks the password)
  rmuser NAME          (home and trash must be empty)
  lu [NAME]            list users, or show one
  mkgroup NAME         make a group
  rmgroup NAME         remove a group and its grants
  atg GROUP USER       add a user to a group
  rfg GROUP USER       remove a user from a group
  lg [GROUP]           list groups, or the members of one
  lgd GROUP            show a group, as lu shows a user
  lua [NAME]           how users log in (native or ldap): Arca's answer to
                       iRODS's list of GSI/Kerberos names, which it has not
  suq USER RESOURCE|total BYTES [OBJECTS]    set a user quota
  sgq GROUP RESOURCE|total BYTES [OBJECTS]   set a group quota (its members together)
  scq COLLECTION BYTES [OBJECTS]             set a quota on everything below a collection
  lq                   list every quota with its usage
Users and groups are for a rodsadmin, but a groupadmin may atg and rfg on
the groups it belongs to, and everyone may lg. Quotas (rodsadmin) limit
the bytes of all replicas and the number of data objects (on one resource:
replicas) that a user owns, that the members of a group own together, or
that lie below a collection; 0 is no limit, and 0 for both removes the
quota. BYTES takes K, M, G, T or KiB, MiB, GiB, TiB (powers of 1024) or
KB, MB, GB, TB (powers of 1000), as byteSize() does in rules. A put
that would pass a quota is refused with exit status 1 and a message naming
the quota; nothing of it is kept.

Passwords: a PASSWORD on the command line is visible to every local user
(ps, /proc) while iadmin runs. Leave it out, or give "-", and iadmin asks
for it on the terminal without echo (twice, to catch a typo), or reads one
line of standard input when that is not a terminal. mkuser without a
password on a terminal asks too (an empty answer makes a user without a
password, as when standard input is not a terminal: it is then not read).` + iadminRescHelp + iadminZoneHelp,
		Annotations: map[string]string{jsonLines: "user, group, quota, resource or zone listed by lu, lua, lg, lq, lr without a NAME, or lz (the other subcommands print one object)"},
		Example: `  iadmin mkuser alice rodsuser              # asks for a password on a terminal
  printf '%s\n' "$PW" | iadmin mkuser alice rodsuser -
  iadmin moduser alice password             # asks, without echo
  iadmin lu
  iadmin rmuser alice
  iadmin mkgroup staff
  iadmin atg staff alice
  iadmin lg staff
  iadmin suq alice total 10G
  iadmin sgq staff demoResc 1Ti 1000000
  iadmin scq /tempZone/home/staff/inbox 500G 10000
  iadmin suq alice total 0      # removes the quota` + iadminRescExamples + iadminZoneExamples,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name a subcommand: " + iadminSubs)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sub, rest := args[0], args[1:]
			want := map[string][2]int{"mkuser": {2, 3}, "moduser": {2, 3}, "rmuser": {1, 1}, "lu": {0, 1}, "lua": {0, 1},
				"mkgroup": {1, 1}, "rmgroup": {1, 1}, "atg": {2, 2}, "rfg": {2, 2}, "lg": {0, 1}, "lgd": {1, 1},
				"suq": {3, 4}, "sgq": {3, 4}, "scq": {2, 3}, "lq": {0, 0}}
			for k, v := range iadminRescArgs {
				want[k] = v
			}
			for k, v := range iadminZoneArgs {
				want[k] = v
			}
			n, ok := want[sub]
			if !ok {
				return usagef("unknown subcommand %s (want %s)", quoteArg(sub), iadminSubs)
			}
			if len(rest) < n[0] || len(rest) > n[1] {
				return usagef("iadmin %s takes %d to %d arguments, got %d", sub, n[0], n[1], len(rest))
			}
			if sub == "moduser" && len(rest) == 2 && rest[1] != "password" {
				return usagef("iadmin moduser %s %s needs a value", clipArg(rest[0]), clipArg(rest[1]))
			}
			// Passwords not on the command line, where ps shows them:
			// asked for, or read from standard input.
			var password string
			switch {
			case sub == "mkuser":
				pw, err := userPassword(a, rest[0], rest[2:], true)
				if err != nil {
					return err
				}
				password = pw
			case sub == "moduser" && rest[1] == "password":
				pw, err := userPassword(a, rest[0], rest[2:], false)
				if err != nil {
					return err
				}
				password = pw
			}
			var quota *arcapb.QuotaInfo
			if sub == "suq" || sub == "sgq" || sub == "scq" {
				var err error
				if quota, err = parseQuotaArgs(sub, rest); err != nil {
					return err
				}
			}
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			if _, ok := iadminRescArgs[sub]; ok {
				return a.runIadminResc(ctx, c, sub, rest)
			}
			if _, ok := iadminZoneArgs[sub]; ok {
				return a.runIadminZone(ctx, c, sub, rest, caFile)
			}
			switch sub {
			case "mkuser":
				u, err := c.admin.MakeUser(ctx, &arcapb.MakeUserRequest{Name: rest[0], Type: rest[1], Password: password})
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(userJSON(u))
				}
			case "moduser":
				value := password
				if rest[1] != "password" {
					value = rest[2]
				}
				u, err := c.admin.ModifyUser(ctx, &arcapb.ModifyUserRequest{Name: rest[0], Field: rest[1], Value: value})
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(userJSON(u))
				}
			case "rmuser":
				if _, err := c.admin.RemoveUser(ctx, &arcapb.RemoveUserRequest{Name: rest[0]}); err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"user": rest[0], "removed": true})
				}
			case "lua":
				resp, err := c.admin.ListUsers(ctx, &arcapb.ListUsersRequest{})
				if err != nil {
					return err
				}
				found := false
				for _, u := range resp.Users {
					if u.Type == "rodsgroup" || (len(rest) == 1 && u.Name != rest[0]) {
						continue
					}
					found = true
					auth := u.Auth
					if auth == "" {
						auth = "native"
					}
					if a.json {
						if err := a.printJSON(map[string]any{"name": u.Name, "zone": u.Zone, "auth": auth}); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(a.Out, "%s#%s %s\n", u.Name, u.Zone, auth)
				}
				if len(rest) == 1 && !found {
					return exitError{code: ExitNotFound, err: fmt.Errorf("no user %s", quoteArg(rest[0]))}
				}
			case "lu":
				resp, err := c.admin.ListUsers(ctx, &arcapb.ListUsersRequest{})
				if err != nil {
					return err
				}
				found := false
				for _, u := range resp.Users {
					if len(rest) == 1 && u.Name != rest[0] {
						continue
					}
					found = true
					switch {
					case a.json:
						if err := a.printJSON(userJSON(u)); err != nil {
							return err
						}
					case len(rest) == 1:
						printUser(a, u)
					default:
						fmt.Fprintf(a.Out, "%s#%s\n", u.Name, u.Zone)
					}
				}
				if len(rest) == 1 && !found {
					return exitError{code: ExitNotFound, err: fmt.Errorf("no user %s", quoteArg(rest[0]))}
				}
			case "mkgroup":
				g, err := c.admin.MakeGroup(ctx, &arcapb.MakeGroupRequest{Name: rest[0]})
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(userJSON(g))
				}
			case "rmgroup":
				if _, err := c.admin.RemoveGroup(ctx, &arcapb.RemoveGroupRequest{Name: rest[0]}); err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"group": rest[0], "removed": true})
				}
			case "atg":
				if _, err := c.admin.AddGroupMember(ctx, &arcapb.GroupMemberRequest{Group: rest[0], User: rest[1]}); err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"group": rest[0], "user": rest[1], "member": true})
				}
			case "rfg":
				if _, err := c.admin.RemoveGroupMember(ctx, &arcapb.GroupMemberRequest{Group: rest[0], User: rest[1]}); err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"group": rest[0], "user": rest[1], "member": false})
				}
			case "suq", "sgq", "scq":
				if quota.Path != "" {
					p, err := c.resolve(quota.Path)
					if err != nil {
						return err
					}
					quota.Path = p.String()
				}
				if _, err := c.quotas.SetQuota(ctx, &arcapb.SetQuotaRequest{Quota: quota}); err != nil {
					return err
				}
				if a.json {
					return a.printJSON(quotaJSON(quota))
				}
			case "lq":
				resp, err := c.quotas.ListQuotas(ctx, &arcapb.ListQuotasRequest{All: true})
				if err != nil {
					return err
				}
				return printQuotas(a, resp.Quotas)
			case "lgd":
				resp, err := c.admin.ListGroups(ctx, &arcapb.ListGroupsRequest{})
				if err != nil {
					return err
				}
				for _, g := range resp.Groups {
					if g.Name != rest[0] {
						continue
					}
					if a.json {
						return a.printJSON(userJSON(g))
					}
					printUser(a, g)
					return nil
				}
				return exitError{code: ExitNotFound, err: fmt.Errorf("no group %s", quoteArg(rest[0]))}
			case "lg":
				req := &arcapb.ListGroupsRequest{}
				if len(rest) == 1 {
					req.Group = rest[0]
				}
				resp, err := c.admin.ListGroups(ctx, req)
				if err != nil {
					return err
				}
				if len(rest) == 1 {
					if a.json {
						return a.printJSON(map[string]any{"group": rest[0], "members": nonNil(resp.Members)})
					}
					for _, m := range resp.Members {
						fmt.Fprintln(a.Out, m)
					}
					return nil
				}
				for _, g := range resp.Groups {
					if a.json {
						if err := a.printJSON(userJSON(g)); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintln(a.Out, g.Name)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&caFile, "ca", "", "mkzone: the CA certificate (PEM) that signs the other zone's servers")
	return cmd
}

const iadminSubs = "mkuser, moduser, rmuser, lu, lua, mkgroup, rmgroup, atg, rfg, lg, lgd, suq, sgq, scq, lq, mkresc, modresc, rmresc, addchildtoresc, rmchildfromresc, lr, mkzone, modzone, rmzone or lz"

// printUser describes a user or group as iRODS's iadmin lu NAME does.
func printUser(a *app, u *arcapb.User) {
	fmt.Fprintf(a.Out, "user_name: %s\nzone_name: %s\nuser_type_name: %s\nuser_auth: %s\nuser_info: %s\ncreate_time: %s\nmodify_time: %s\n",
		u.Name, u.Zone, u.Type, u.Auth, u.Info, unixTime(u.CreateUnix), unixTime(u.ModifyUnix))
}

// userPassword is the password of user for mkuser (optional) or moduser
// password: the argument given, unless it is "-" or missing; then one asked
// for on the terminal, twice, or one line of standard input. Without an
// argument mkuser reads standard input only if it is a terminal.
func userPassword(a *app, user string, arg []string, optional bool) (string, error) {
	if len(arg) == 1 && arg[0] != "-" {
		return arg[0], nil
	}
	if optional && len(arg) == 0 && !isTerminal(a.In) {
		return "", nil
	}
	pw, err := readSecret(a, "Password of "+user+": ")
	if errors.Is(err, io.EOF) {
		return "", usagef("no password for %s on standard input: give it as one line, or run iadmin on a terminal", clipArg(user))
	}
	if err != nil {
		return "", err
	}
	if isTerminal(a.In) && pw != "" {
		again, err := readSecret(a, "Password of "+user+" again: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", usagef("the two passwords differ; nothing changed")
		}
	}
	if pw == "" && !optional {
		return "", usagef("empty password for %s: nothing changed", clipArg(user))
	}
	return pw, nil
}

func userJSON(u *arcapb.User) map[string]any {
	m := map[string]any{"name": u.Name, "zone": u.Zone, "type": u.Type, "info": u.Info,
		"create_time": unixTime(u.CreateUnix), "modify_time": unixTime(u.ModifyUnix)}
	if u.Auth != "" {
		m["auth"] = u.Auth
	}
	return m
}

func unixTime(s int64) string { return time.Unix(s, 0).UTC().Format(time.RFC3339) }
