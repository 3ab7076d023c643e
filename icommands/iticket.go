package icommands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

func newIticket(a *app) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "iticket create read|write PATH [STRING] | mod TICKET WHAT ... | ls [TICKET] | delete TICKET",
		Short: "Share a data object or collection through a ticket",
		Long: `iticket hands out tickets: strings that let whoever holds them read (or
write) one data object or everything below one collection, without an
account grant, as iRODS's tickets. Only an owner of the object or collection
may create a ticket for it. "create" prints the ticket string; the zone
keeps only a hash of it, so it is shown this once (ls shows the ticket's id).

Holders use it with --ticket (-t) on ils, iget and iput; someone without an
account runs "iinit --user anonymous" first. A read ticket allows ils and
iget; a write ticket also iput (overwriting a data object, or creating one
in the collection). What is written through a ticket belongs to the
ticket's owner. Only the ticket's owner (or a rodsadmin) changes, shows or
deletes it; TICKET is its id or its string.

mod changes one thing (0 removes a limit):
  uses N              at most N data-object reads and writes
  write-file N        at most N data objects written
  write-bytes N       at most N bytes written (the size must be known up front)
  expire TIME         2026-12-31, 2026-12-31.23:59:59, RFC 3339, +36h, +7d, or none
  add|remove user NAME, group NAME, host ADDRESS|NETWORK|HOSTNAME
                      when users or groups are listed, only they may use it;
                      when hosts are listed, only calls from them`,
		Annotations: map[string]string{jsonLines: "ticket for ls (the other subcommands print one object)"},
		Example: `  iticket create read projects/run42            # prints the ticket string
  iticket create write projects/inbox my-inbox-ticket-2026
  iticket mod 12 uses 10
  iticket mod 12 expire +7d
  iticket mod 12 write-bytes 1000000000
  iticket mod 12 add user bob
  iticket mod 12 add host 10.0.0.0/8
  iticket ls
  iticket ls 12 --json
  iticket ls -a                                 # every ticket (rodsadmin)
  iticket delete 12
  iget --ticket TICKETSTRING /tempZone/home/alice/projects/run42/a.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			_, err := parseIticket(args, time.Now())
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			in, _ := parseIticket(args, time.Now())
			return runIticket(cmd.Context(), a, in, all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "ls: every ticket of the zone (rodsadmin)")
	addAdminFlag(a, cmd)
	return cmd
}

// iticketArgs is one parsed iticket command line.
type iticketArgs struct {
	sub    string // create, mod, ls, delete
	typ    string // create
	path   string // create
	secret string // create: the string chosen, if any
	ticket string // mod, ls, delete
	mod    []string
}

// parseIticket checks an iticket command line; mod's words are checked
// by the parser the zone uses.
func parseIticket(args []string, now time.Time) (iticketArgs, error) {
	if len(args) == 0 {
		return iticketArgs{}, usagef("name a subcommand: create, mod, ls or delete")
	}
	in := iticketArgs{sub: args[0]}
	rest := args[1:]
	switch in.sub {
	case "create":
		if len(rest) < 2 || len(rest) > 3 {
			return in, usagef("iticket create read|write PATH [STRING]")
		}
		if _, err := catalog.ParseTicketType(rest[0]); err != nil {
			return in, usagef("iticket create: %s is not read or write", quoteArg(rest[0]))
		}
		in.typ, in.path = rest[0], rest[1]
		if len(rest) == 3 {
			if err := catalog.CheckTicketString(rest[2]); err != nil {
				return in, usagef("iticket create: %s", strings.TrimPrefix(err.Error(), catalog.ErrInvalidArgument.Error()+": "))
			}
			in.secret = rest[2]
		}
	case "mod":
		if len(rest) < 2 {
			return in, usagef("iticket mod TICKET uses|write-file|write-bytes|expire|add|remove ...")
		}
		if _, err := catalog.ParseTicketRef(rest[0]); err != nil {
			return in, usagef("iticket mod: %v", err)
		}
		if _, err := catalog.ParseTicketMod(rest[1:], now); err != nil {
			return in, usagef("%s", strings.TrimPrefix(err.Error(), catalog.ErrInvalidArgument.Error()+": "))
		}
		in.ticket, in.mod = rest[0], rest[1:]
	case "ls", "ls-all":
		if len(rest) > 1 {
			return in, usagef("iticket ls [TICKET]")
		}
		if len(rest) == 1 {
			if _, err := catalog.ParseTicketRef(rest[0]); err != nil {
				return in, usagef("iticket ls: %v", err)
			}
			in.ticket = rest[0]
		}
	case "delete", "rm":
		if len(rest) != 1 {
			return in, usagef("iticket delete TICKET")
		}
		if _, err := catalog.ParseTicketRef(rest[0]); err != nil {
			return in, usagef("iticket delete: %v", err)
		}
		in.sub, in.ticket = "delete", rest[0]
	default:
		return in, usagef("unknown subcommand %s (want create, mod, ls or delete)", quoteArg(in.sub))
	}
	return in, nil
}

func runIticket(ctx context.Context, a *app, in iticketArgs, all bool) error {
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	switch in.sub {
	case "create":
		p, err := c.resolve(in.path)
		if err != nil {
			return err
		}
		resp, err := c.tickets.CreateTicket(ctx, &arcapb.CreateTicketRequest{Path: p.String(), Type: in.typ, Ticket: in.secret})
		if err != nil {
			return err
		}
		if a.json {
			m := ticketJSON(resp.Info)
			m["ticket"] = resp.Ticket
			return a.printJSON(m)
		}
		fmt.Fprintln(a.Out, resp.Ticket)
		fmt.Fprintf(a.Err, "ticket %d: %s on %s; keep the string: it is not shown again\n", resp.Info.Id, resp.Info.Type, resp.Info.Path)
		return nil
	case "mod":
		t, err := c.tickets.ModifyTicket(ctx, &arcapb.ModifyTicketRequest{Ticket: in.ticket, Args: in.mod})
		if err != nil {
			return err
		}
		if a.json {
			return a.printJSON(ticketJSON(t))
		}
		return nil
	case "delete":
		if _, err := c.tickets.RemoveTicket(ctx, &arcapb.RemoveTicketRequest{Ticket: in.ticket}); err != nil {
			return err
		}
		if a.json {
			return a.printJSON(map[string]any{"ticket": in.ticket, "removed": true})
		}
		return nil
	}
	resp, err := c.tickets.ListTickets(ctx, &arcapb.ListTicketsRequest{Ticket: in.ticket, All: all || in.sub == "ls-all"})
	if err != nil {
		return err
	}
	for i, t := range resp.Tickets {
		if a.json {
			if err := a.printJSON(ticketJSON(t)); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(a.Out, "----")
		}
		printTicket(a, t)
	}
	return nil
}

func limitText(count, limit int64) string {
	if limit == 0 {
		return fmt.Sprintf("%d (no limit)", count)
	}
	return fmt.Sprintf("%d of %d", count, limit)
}

func printTicket(a *app, t *arcapb.TicketInfo) {
	kind := "data object"
	if t.Collection {
		kind = "collection"
	}
	expires := "never"
	if t.ExpiresUnix != 0 {
		expires = unixTime(t.ExpiresUnix)
	}
	fmt.Fprintf(a.Out, "id: %d\ntype: %s\n%s: %s\nowner: %s\ncreate time: %s\nexpires: %s\nuses: %s\nwrite files: %s\nwrite bytes: %s\n",
		t.Id, t.Type, kind, t.Path, t.Owner, unixTime(t.CreateUnix), expires,
		limitText(t.UsesCount, t.UsesLimit), limitText(t.WriteFileCount, t.WriteFileLimit), limitText(t.WriteByteCount, t.WriteByteLimit))
	for _, u := range t.Users {
		fmt.Fprintf(a.Out, "allowed user: %s\n", u)
	}
	for _, g := range t.Groups {
		fmt.Fprintf(a.Out, "allowed group: %s\n", g)
	}
	for _, h := range t.Hosts {
		fmt.Fprintf(a.Out, "allowed host: %s\n", h)
	}
}

func ticketJSON(t *arcapb.TicketInfo) map[string]any {
	return map[string]any{
		"id": t.Id, "type": t.Type, "path": t.Path, "collection": t.Collection, "owner": t.Owner,
		"create_unix": t.CreateUnix, "expires_unix": t.ExpiresUnix,
		"uses_limit": t.UsesLimit, "uses_count": t.UsesCount,
		"write_file_limit": t.WriteFileLimit, "write_file_count": t.WriteFileCount,
		"write_byte_limit": t.WriteByteLimit, "write_byte_count": t.WriteByteCount,
		"users": nonNil(t.Users), "groups": nonNil(t.Groups), "hosts": nonNil(t.Hosts),
	}
}
