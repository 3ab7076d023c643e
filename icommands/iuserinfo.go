package icommands

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIuserinfo(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "iuserinfo [USER]",
		Short: "Show a user or group: type, zone, info and groups",
		Long: `iuserinfo shows an account (yourself by default): name, zone, type, info,
times, and the groups a user belongs to (public always) or the members of
a group.`,
		Example: `  iuserinfo
  iuserinfo bob
  iuserinfo staff --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("iuserinfo takes at most one user, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			req := &arcapb.UserInfoRequest{}
			if len(args) == 1 {
				req.Name = args[0]
			}
			resp, err := c.admin.UserInfo(ctx, req)
			if err != nil {
				return err
			}
			u := resp.User
			if a.json {
				m := userJSON(u)
				m["groups"], m["members"] = nonNil(resp.Groups), nonNil(resp.Members)
				return a.printJSON(m)
			}
			fmt.Fprintf(a.Out, "name: %s\ntype: %s\nzone: %s\ninfo: %s\ncreate time: %s\nmodify time: %s\n",
				u.Name, u.Type, u.Zone, u.Info, unixTime(u.CreateUnix), unixTime(u.ModifyUnix))
			if u.Auth != "" {
				fmt.Fprintf(a.Out, "authentication: %s\n", u.Auth)
			}
			for _, g := range resp.Groups {
				fmt.Fprintf(a.Out, "member of group: %s\n", g)
			}
			for _, m := range resp.Members {
				fmt.Fprintf(a.Out, "member: %s\n", m)
			}
			return nil
		},
	}
	return cmd
}

// nonNil keeps an empty list a list in JSON.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
