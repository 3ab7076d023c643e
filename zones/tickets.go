package zones

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/arca-data/arca/catalog"
)

// AnonymousUser is who calls with a ticket and no session. It has no
// account: it may do only what the ticket grants.
const AnonymousUser = "anonymous"

// Anonymous is the caller of a call with a ticket and no session.
func (z *Zone) Anonymous() catalog.User {
	return catalog.User{Name: AnonymousUser, Zone: z.name, Type: catalog.UserTypeUser}
}

// isAnonymous reports whether u is the anonymous caller: a user without an
// account row (every account has an id).
func isAnonymous(u catalog.User) bool { return u.ID == 0 }

// authorizeTicket decides op by the ticket the call presents, and counts
// the use. A ticket lets its holder stat, list and get what it covers; a
// write ticket also put there (overwrite a data object, or create one in a
// covered collection). Anything else, and anything beyond its limits,
// expiry or allowed users, groups and hosts, is refused.
func (z *Zone) authorizeTicket(ctx context.Context, op *Op) error {
	pt := op.Caller
	t, err := z.cat.TicketByHash(ctx, catalog.TicketHash(pt.Ticket))
	if errors.Is(err, catalog.ErrNotFound) {
		return fmt.Errorf("%w: no such ticket, or what it was for is gone", catalog.ErrPermission)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: ticket %d: "+format, append([]any{catalog.ErrPermission, t.ID}, args...)...)
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return refuse("expired at %s", t.Expires.Format("2006-01-02 15:04:05Z"))
	}
	if t.UsesLimit > 0 && t.UsesCount >= t.UsesLimit {
		return refuse("has been used %d times, its limit", t.UsesCount)
	}
	if len(t.Users) > 0 && !slices.Contains(t.Users, op.Caller.UserID()) {
		return refuse("%s is not among its users", op.Caller.UserID())
	}
	if len(t.Groups) > 0 {
		groups, err := z.groupsOf(ctx, op.Caller.User)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(t.Groups, func(g catalog.UserID) bool { return slices.Contains(groups, g) }) {
			return refuse("%s is in none of its groups", op.Caller.UserID())
		}
	}
	if len(t.Hosts) > 0 && !hostAllowed(ctx, pt.Host, t.Hosts) {
		return refuse("calls from %q are not allowed", pt.Host)
	}
	var use catalog.TicketUse
	switch op.Name {
	case "stat", "list":
	case "get":
		use.Uses = 1
	case "put":
		if t.Type != catalog.TicketWrite {
			return refuse("is a read ticket; writing needs a write ticket")
		}
		if op.Size < 0 && t.WriteByteLimit > 0 {
			return fmt.Errorf("%w: ticket %d limits the bytes written: the size of %s must be known before it is sent",
				catalog.ErrInvalidArgument, t.ID, op.Path)
		}
		use = catalog.TicketUse{Uses: 1, Files: 1, Bytes: max(op.Size, 0)}
	default:
		return refuse("a ticket allows reading (ils, iget) and, for a write ticket, writing (iput); not %s", op.Name)
	}
	needs, err := requirements(op)
	if err != nil {
		return err
	}
	for _, n := range needs {
		if n.groupAdminOf != (catalog.UserID{}) || n.tree || !t.Covers(n.path) || n.level > t.Type.Level() {
			return refuse("is for %s, not %s", t.Path, n.path)
		}
	}
	if use != (catalog.TicketUse{}) {
		use.Now = now
		if t, err = z.cat.UseTicket(ctx, t.ID, use); err != nil {
			return err
		}
		op.ticketUse = use
	}
	op.ViaTicket = &t
	return nil
}

// hostAllowed reports whether the client at addr matches one of hosts: an
// address, a network in CIDR form, or a host name resolved now.
func hostAllowed(ctx context.Context, addr string, hosts []string) bool {
	ip := net.ParseIP(addr)
	if ip == nil {
		return false
	}
	for _, h := range hosts {
		if a := net.ParseIP(h); a != nil {
			if a.Equal(ip) {
				return true
			}
			continue
		}
		if _, n, err := net.ParseCIDR(h); err == nil {
			if n.Contains(ip) {
				return true
			}
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(rctx, h)
		cancel()
		if err != nil {
			continue
		}
		for _, s := range addrs {
			if a := net.ParseIP(s); a != nil && a.Equal(ip) {
				return true
			}
		}
	}
	return false
}

// ticketByRef finds the ticket ref names: by id, or by its string.
func (z *Zone) ticketByRef(ctx context.Context, ref string) (catalog.Ticket, error) {
	r, err := catalog.ParseTicketRef(ref)
	if err != nil {
		return catalog.Ticket{}, err
	}
	if r.ID != 0 {
		return z.cat.Ticket(ctx, r.ID)
	}
	return z.cat.TicketByHash(ctx, catalog.TicketHash(r.String))
}

// CreateTicket makes a ticket of typ for the data object or collection at p
// and returns its string, shown this once; secret, if not empty, is the
// string the caller chose.
func (z *Zone) CreateTicket(ctx context.Context, caller Principal, p catalog.Path, typ catalog.TicketType, secret string) (string, catalog.Ticket, error) {
	if _, err := catalog.ParseTicketType(string(typ)); err != nil {
		return "", catalog.Ticket{}, err
	}
	if secret != "" {
		if err := catalog.CheckTicketString(secret); err != nil {
			return "", catalog.Ticket{}, err
		}
	}
	var t catalog.Ticket
	err := z.do(ctx, &Op{Name: "ticket.create", Caller: caller, Path: p, Level: typ.Level()}, func(ctx context.Context) error {
		if secret == "" {
			var err error
			if secret, err = catalog.NewTicketString(); err != nil {
				return err
			}
		}
		var err error
		t, err = z.cat.CreateTicket(ctx, catalog.Ticket{Hash: catalog.TicketHash(secret), Type: typ, Path: p, Owner: caller.UserID()})
		if errors.Is(err, catalog.ErrExists) {
			return fmt.Errorf("%w: that ticket string is taken; choose another", catalog.ErrExists)
		}
		return err
	})
	if err != nil {
		return "", catalog.Ticket{}, err
	}
	return secret, t, nil
}

// ModifyTicket applies one change, in iticket mod's words (see
// catalog.ParseTicketMod), to the ticket ref.
func (z *Zone) ModifyTicket(ctx context.Context, caller Principal, ref string, args []string) (catalog.Ticket, error) {
	mod, err := catalog.ParseTicketMod(args, time.Now())
	if err != nil {
		return catalog.Ticket{}, err
	}
	t, err := z.ticketByRef(ctx, ref)
	if err != nil {
		return t, err
	}
	err = z.do(ctx, &Op{Name: "ticket.modify", Caller: caller, Path: t.Path, Owner: t.Owner}, func(ctx context.Context) error {
		if err := z.applyTicketMod(ctx, &t, mod); err != nil {
			return err
		}
		return z.cat.UpdateTicket(ctx, t)
	})
	return t, err
}

func (z *Zone) applyTicketMod(ctx context.Context, t *catalog.Ticket, mod catalog.TicketMod) error {
	switch mod.Field {
	case "uses":
		t.UsesLimit = mod.Limit
	case "write-file":
		t.WriteFileLimit = mod.Limit
	case "write-bytes":
		t.WriteByteLimit = mod.Limit
	case "expire":
		t.Expires = mod.Expires
	case "add", "remove":
		add := mod.Field == "add"
		switch mod.Kind {
		case "host":
			if add && net.ParseIP(mod.Name) == nil {
				if _, _, err := net.ParseCIDR(mod.Name); err != nil && !validHostName(mod.Name) {
					return fmt.Errorf("%w: host %q: want an address, a network such as 10.0.0.0/8, or a host name", catalog.ErrInvalidArgument, mod.Name)
				}
			}
			t.Hosts = addOrRemove(t.Hosts, mod.Name, add)
		case "user", "group":
			id, err := catalog.ParseUserID(mod.Name, z.name)
			if err != nil {
				return err
			}
			list := &t.Users
			if mod.Kind == "group" {
				list = &t.Groups
			}
			if add {
				u, err := z.cat.User(ctx, id)
				if errors.Is(err, catalog.ErrNotFound) {
					// The catalog's own words name the user again.
					return fmt.Errorf("%s %s: %w", mod.Kind, id, catalog.ErrNotFound)
				}
				if err != nil {
					return fmt.Errorf("%s %s: %w", mod.Kind, id, err)
				}
				if (u.Type == catalog.UserTypeGroup) != (mod.Kind == "group") {
					return fmt.Errorf("%w: %s is a %s, not a %s", catalog.ErrInvalidArgument, id, u.Type, mod.Kind)
				}
			}
			*list = addOrRemove(*list, id, add)
		}
	default:
		return fmt.Errorf("%w: unknown ticket change %q", catalog.ErrInvalidArgument, mod.Field)
	}
	return nil
}

func addOrRemove[T comparable](list []T, v T, add bool) []T {
	i := slices.Index(list, v)
	switch {
	case add && i < 0:
		return append(list, v)
	case !add && i >= 0:
		return slices.Delete(list, i, i+1)
	}
	return list
}

func validHostName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// ListTickets returns the caller's tickets; with ref only that one (which
// the caller must own), with all every ticket of the zone (rodsadmin).
func (z *Zone) ListTickets(ctx context.Context, caller Principal, ref string, all bool) ([]catalog.Ticket, error) {
	if ref != "" {
		t, err := z.ticketByRef(ctx, ref)
		if err != nil {
			return nil, err
		}
		err = z.do(ctx, &Op{Name: "ticket.show", Caller: caller, Path: t.Path, Owner: t.Owner}, func(context.Context) error { return nil })
		if err != nil {
			return nil, err
		}
		return []catalog.Ticket{t}, nil
	}
	name, owner := OpTicketList, caller.UserID()
	if all {
		name, owner = OpTicketListAll, catalog.UserID{}
	}
	var out []catalog.Ticket
	err := z.do(ctx, &Op{Name: name, Caller: caller}, func(ctx context.Context) error {
		var err error
		out, err = z.cat.ListTickets(ctx, owner)
		return err
	})
	return out, err
}

// RemoveTicket deletes the ticket ref, which the caller must own.
func (z *Zone) RemoveTicket(ctx context.Context, caller Principal, ref string) error {
	t, err := z.ticketByRef(ctx, ref)
	if err != nil {
		return err
	}
	return z.do(ctx, &Op{Name: "ticket.remove", Caller: caller, Path: t.Path, Owner: t.Owner}, func(ctx context.Context) error {
		return z.cat.RemoveTicket(ctx, t.ID)
	})
}
