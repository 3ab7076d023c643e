package dgraph

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/arca-data/arca/catalog"
)

// Tickets are nodes of kind "tkt" with an edge of to the collection or
// data object they are for, so that they follow it through renames and go
// with it when it is removed (with its AVUs, which hang on the same edge).
// The ticket itself is a JSON document; hash and owner are indexed.

const ticketFields = `uid doc: P.doc of: P.of { uid kind: P.kind path: P.path }`

type ticketNode struct {
	UID string `json:"uid"`
	Doc string `json:"doc"`
	Of  struct {
		UID  string `json:"uid"`
		Kind string `json:"kind"`
		Path string `json:"path"`
	} `json:"of"`
}

// ticket decodes n; ok is false when its target is gone.
func (n ticketNode) ticket() (catalog.Ticket, bool, error) {
	var t catalog.Ticket
	if n.Of.Kind != kindColl && n.Of.Kind != kindObj {
		return t, false, nil
	}
	if err := json.Unmarshal([]byte(n.Doc), &t); err != nil {
		return t, false, fmt.Errorf("stored ticket: %w", err)
	}
	p, err := catalog.ParsePath(n.Of.Path)
	if err != nil {
		return t, false, err
	}
	t.ID, t.Path, t.Collection = idOf(n.UID), p, n.Of.Kind == kindColl
	return t, true, nil
}

func (t *tx) tickets(q string, vars map[string]string) ([]catalog.Ticket, error) {
	var out struct {
		N []ticketNode `json:"n"`
	}
	if err := t.query(q, vars, &out); err != nil {
		return nil, err
	}
	var ts []catalog.Ticket
	for _, n := range out.N {
		tk, live, err := n.ticket()
		if err != nil {
			return nil, err
		}
		if live {
			ts = append(ts, tk)
		}
	}
	slices.SortFunc(ts, func(a, b catalog.Ticket) int { return cmp.Compare(a.ID, b.ID) })
	return ts, nil
}

func (t *tx) ticketByID(id catalog.ID) (catalog.Ticket, error) {
	if uid := uidOf(id); uid != "" {
		ts, err := t.tickets(`query q($u: string) { n(func: uid($u)) @filter(eq(P.kind, "tkt")) { `+ticketFields+` } }`,
			map[string]string{"$u": uid})
		if err != nil {
			return catalog.Ticket{}, err
		}
		if len(ts) == 1 {
			return ts[0], nil
		}
	}
	return catalog.Ticket{}, catalog.ErrNotFound
}

func (t *tx) putTicket(tk catalog.Ticket) error {
	doc, err := json.Marshal(tk)
	if err != nil {
		return err
	}
	return t.set(map[string]any{"uid": uidOf(tk.ID), t.c.p("doc"): string(doc), t.c.p("ver"): randVer()})
}

// CreateTicket stores a new ticket for the entry at t.Path.
func (c *Catalog) CreateTicket(ctx context.Context, tk catalog.Ticket) (catalog.Ticket, error) {
	fail := func(err error) (catalog.Ticket, error) {
		return catalog.Ticket{}, fmt.Errorf("create ticket for %s: %w", tk.Path, err)
	}
	if err := tk.Validate(); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(t *tx) error {
		n, err := t.at(tk.Path)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		var dup struct {
			N []uidOnly `json:"n"`
		}
		if err := t.query(`query q($h: string) { n(func: eq(P.thash, $h)) @filter(eq(P.kind, "tkt")) { uid } }`,
			map[string]string{"$h": tk.Hash}, &dup); err != nil {
			return err
		}
		if len(dup.N) > 0 {
			return fmt.Errorf("insert ticket: %w", catalog.ErrExists)
		}
		tk.Collection, tk.CreateTime = n.Kind == kindColl, fromNanos(nowNS())
		tk.Expires = fromNanos(nanos(tk.Expires))
		tk.UsesCount, tk.WriteFileCount, tk.WriteByteCount = 0, 0, 0
		doc, err := json.Marshal(tk)
		if err != nil {
			return err
		}
		ref, err := t.create(map[string]any{c.p("kind"): "tkt", c.p("of"): map[string]string{"uid": n.UID},
			c.p("thash"): tk.Hash, c.p("towner"): userKey(tk.Owner), c.p("doc"): string(doc)})
		t.afterCommit(func(resolve func(string) string) { tk.ID = idOf(resolve(ref)) })
		return err
	})
	if err != nil {
		return fail(err)
	}
	return tk, nil
}

// Ticket returns the ticket with id.
func (c *Catalog) Ticket(ctx context.Context, id catalog.ID) (catalog.Ticket, error) {
	var tk catalog.Ticket
	err := c.read(ctx, func(t *tx) (err error) {
		tk, err = t.ticketByID(id)
		return err
	})
	if err != nil {
		return catalog.Ticket{}, fmt.Errorf("ticket %d: %w", id, err)
	}
	return tk, nil
}

// TicketByHash returns the ticket whose string hashes to hash.
func (c *Catalog) TicketByHash(ctx context.Context, hash string) (catalog.Ticket, error) {
	var tk catalog.Ticket
	err := c.read(ctx, func(t *tx) error {
		ts, err := t.tickets(`query q($h: string) { n(func: eq(P.thash, $h)) @filter(eq(P.kind, "tkt")) { `+ticketFields+` } }`,
			map[string]string{"$h": hash})
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return catalog.ErrNotFound
		}
		tk = ts[0]
		return nil
	})
	if err != nil {
		return catalog.Ticket{}, fmt.Errorf("ticket: %w", err)
	}
	return tk, nil
}

// ListTickets returns the tickets of owner, or all when owner is zero.
func (c *Catalog) ListTickets(ctx context.Context, owner catalog.UserID) ([]catalog.Ticket, error) {
	var out []catalog.Ticket
	err := c.read(ctx, func(t *tx) (err error) {
		if owner == (catalog.UserID{}) {
			out, err = t.tickets(`{ n(func: eq(P.kind, "tkt")) { `+ticketFields+` } }`, nil)
		} else {
			out, err = t.tickets(`query q($o: string) { n(func: eq(P.towner, $o)) @filter(eq(P.kind, "tkt")) { `+ticketFields+` } }`,
				map[string]string{"$o": userKey(owner)})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return out, nil
}

// UpdateTicket stores the limits, expiry and allowed users, groups and hosts of t.
func (c *Catalog) UpdateTicket(ctx context.Context, in catalog.Ticket) error {
	if err := in.ValidateUpdate(); err != nil {
		return fmt.Errorf("update ticket %d: %w", in.ID, err)
	}
	err := c.write(ctx, func(t *tx) error {
		tk, err := t.ticketByID(in.ID)
		if err != nil {
			return err
		}
		tk.Expires = fromNanos(nanos(in.Expires))
		tk.UsesLimit, tk.WriteFileLimit, tk.WriteByteLimit = in.UsesLimit, in.WriteFileLimit, in.WriteByteLimit
		tk.Users, tk.Groups, tk.Hosts = in.Users, in.Groups, in.Hosts
		return t.putTicket(tk)
	})
	if err != nil {
		return fmt.Errorf("update ticket %d: %w", in.ID, err)
	}
	return nil
}

// RemoveTicket deletes the ticket with id.
func (c *Catalog) RemoveTicket(ctx context.Context, id catalog.ID) error {
	err := c.write(ctx, func(t *tx) error {
		if _, err := t.ticketByID(id); err != nil {
			return err
		}
		return t.del(map[string]any{"uid": uidOf(id)})
	})
	if err != nil {
		return fmt.Errorf("remove ticket %d: %w", id, err)
	}
	return nil
}

// UseTicket checks use against the ticket's expiry and limits and counts it.
func (c *Catalog) UseTicket(ctx context.Context, id catalog.ID, use catalog.TicketUse) (catalog.Ticket, error) {
	if err := use.Validate(); err != nil {
		return catalog.Ticket{}, fmt.Errorf("use ticket %d: %w", id, err)
	}
	var tk catalog.Ticket
	err := c.write(ctx, func(t *tx) error {
		var err error
		if tk, err = t.ticketByID(id); err != nil {
			return err
		}
		over := func(limit, count, add int64) bool { return limit > 0 && add > 0 && count+add > limit }
		switch {
		case !tk.Expires.IsZero() && !use.Now.Before(tk.Expires):
			return fmt.Errorf("%w: ticket %d expired at %s", catalog.ErrPermission, tk.ID, tk.Expires.Format("2006-01-02 15:04:05Z"))
		case over(tk.UsesLimit, tk.UsesCount, use.Uses):
			return fmt.Errorf("%w: ticket %d has been used %d times, its limit", catalog.ErrPermission, tk.ID, tk.UsesCount)
		case over(tk.WriteFileLimit, tk.WriteFileCount, use.Files):
			return fmt.Errorf("%w: ticket %d has written %d of its %d data objects", catalog.ErrPermission, tk.ID, tk.WriteFileCount, tk.WriteFileLimit)
		case over(tk.WriteByteLimit, tk.WriteByteCount, use.Bytes):
			return fmt.Errorf("%w: ticket %d: writing %d bytes would pass its limit (%d of %d bytes written)",
				catalog.ErrPermission, tk.ID, use.Bytes, tk.WriteByteCount, tk.WriteByteLimit)
		}
		if use.Uses == 0 && use.Files == 0 && use.Bytes == 0 {
			return nil
		}
		tk.UsesCount += use.Uses
		tk.WriteFileCount += use.Files
		tk.WriteByteCount += use.Bytes
		return t.putTicket(tk)
	})
	if err != nil {
		return catalog.Ticket{}, fmt.Errorf("use ticket %d: %w", id, err)
	}
	return tk, nil
}

// ReturnTicketUse takes back use counted against the ticket id.
func (c *Catalog) ReturnTicketUse(ctx context.Context, id catalog.ID, use catalog.TicketUse) error {
	if err := use.Validate(); err != nil {
		return fmt.Errorf("return use of ticket %d: %w", id, err)
	}
	err := c.write(ctx, func(t *tx) error {
		tk, err := t.ticketByID(id)
		if err != nil {
			return err
		}
		tk.UsesCount = max(tk.UsesCount-use.Uses, 0)
		tk.WriteFileCount = max(tk.WriteFileCount-use.Files, 0)
		tk.WriteByteCount = max(tk.WriteByteCount-use.Bytes, 0)
		return t.putTicket(tk)
	})
	if err != nil {
		return fmt.Errorf("return use of ticket %d: %w", id, err)
	}
	return nil
}
