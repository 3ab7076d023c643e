package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// ticketCols read a ticket with the path of its target, NULL when the
// target is gone.
const ticketCols = `t.id, t.hash, t.type, t.kind, t.owner_name, t.owner_zone, t.create_ns, t.expiry_ns,
	t.uses_limit, t.uses_count, t.write_file_limit, t.write_file_count, t.write_byte_limit, t.write_byte_count,
	CASE t.kind WHEN 'collection' THEN (SELECT path FROM collections WHERE id = t.target_id)
	ELSE (SELECT CASE c.path WHEN '/' THEN '/' ELSE c.path || '/' END || o.name
		FROM data_objects o JOIN collections c ON c.id = o.coll_id WHERE o.id = t.target_id) END`

func scanTicket(s interface{ Scan(...any) error }) (catalog.Ticket, bool, error) {
	var (
		t         catalog.Ticket
		id        int64
		typ, kind string
		cr, ex    int64
		path      sql.NullString
	)
	err := s.Scan(&id, &t.Hash, &typ, &kind, &t.Owner.Name, &t.Owner.Zone, &cr, &ex,
		&t.UsesLimit, &t.UsesCount, &t.WriteFileLimit, &t.WriteFileCount, &t.WriteByteLimit, &t.WriteByteCount, &path)
	if err != nil {
		return t, false, err
	}
	t.ID, t.Type, t.Collection = catalog.ID(id), catalog.TicketType(typ), kind == kindCollection
	t.CreateTime, t.Expires = fromNanos(cr), fromNanos(ex)
	if !path.Valid {
		return t, false, nil
	}
	t.Path, err = catalog.ParsePath(path.String)
	return t, true, err
}

// loadAllowed fills the allowed users, groups and hosts of t.
func loadAllowed(q querier, t *catalog.Ticket) error {
	rows, err := q.query(`SELECT kind, name, zone FROM ticket_allowed WHERE ticket_id = ? ORDER BY kind, name, zone`, int64(t.ID))
	if err != nil {
		return err
	}
	defer rows.Close()
	t.Users, t.Groups, t.Hosts = nil, nil, nil
	for rows.Next() {
		var kind, name, zone string
		if err := rows.Scan(&kind, &name, &zone); err != nil {
			return err
		}
		switch kind {
		case "user":
			t.Users = append(t.Users, catalog.UserID{Name: name, Zone: zone})
		case "group":
			t.Groups = append(t.Groups, catalog.UserID{Name: name, Zone: zone})
		case "host":
			t.Hosts = append(t.Hosts, name)
		}
	}
	return rows.Err()
}

func storeAllowed(w *wtx, t catalog.Ticket) error {
	if _, err := w.exec(`DELETE FROM ticket_allowed WHERE ticket_id = ?`, int64(t.ID)); err != nil {
		return err
	}
	ins := func(kind, name, zone string) error {
		_, err := w.exec(`INSERT OR IGNORE INTO ticket_allowed (ticket_id, kind, name, zone) VALUES (?, ?, ?, ?)`, int64(t.ID), kind, name, zone)
		return err
	}
	for _, u := range t.Users {
		if err := ins("user", u.Name, u.Zone); err != nil {
			return err
		}
	}
	for _, g := range t.Groups {
		if err := ins("group", g.Name, g.Zone); err != nil {
			return err
		}
	}
	for _, h := range t.Hosts {
		if err := ins("host", h, ""); err != nil {
			return err
		}
	}
	return nil
}

// deleteTicketsOf removes the tickets of targets of kind whose id matches
// cond (such as "= ?").
func deleteTicketsOf(w *wtx, kind, cond string, args ...any) error {
	a := append([]any{kind}, args...)
	if _, err := w.exec(`DELETE FROM ticket_allowed WHERE ticket_id IN (SELECT id FROM tickets WHERE kind = ? AND target_id `+cond+`)`, a...); err != nil {
		return err
	}
	_, err := w.exec(`DELETE FROM tickets WHERE kind = ? AND target_id `+cond, a...)
	return err
}

// CreateTicket stores a new ticket for the entry at t.Path.
func (c *Catalog) CreateTicket(ctx context.Context, t catalog.Ticket) (catalog.Ticket, error) {
	fail := func(err error) (catalog.Ticket, error) {
		return catalog.Ticket{}, fmt.Errorf("create ticket for %s: %w", t.Path, err)
	}
	if err := t.Validate(); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(w *wtx) error {
		kind, target := kindCollection, int64(0)
		if coll, ok, err := lookupColl(w, t.Path); err != nil {
			return err
		} else if ok {
			target = int64(coll.ID)
		} else {
			o, err := objAt(w, t.Path)
			if err != nil {
				return err
			}
			kind, target = kindObject, int64(o.ID)
		}
		now, n := now()
		res, err := w.exec(`INSERT INTO tickets (hash, type, kind, target_id, owner_name, owner_zone, create_ns, expiry_ns,
			uses_limit, uses_count, write_file_limit, write_file_count, write_byte_limit, write_byte_count)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, 0)`,
			t.Hash, string(t.Type), kind, target, t.Owner.Name, t.Owner.Zone, n, nanos(t.Expires),
			t.UsesLimit, t.WriteFileLimit, t.WriteByteLimit)
		if err != nil {
			return mapErr("insert ticket", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		t.ID, t.Collection, t.CreateTime = catalog.ID(id), kind == kindCollection, now
		t.UsesCount, t.WriteFileCount, t.WriteByteCount = 0, 0, 0
		return storeAllowed(w, t)
	})
	if err != nil {
		return fail(err)
	}
	return t, nil
}

// ticketWhere reads the one live ticket matching cond.
func ticketWhere(q querier, cond string, args ...any) (catalog.Ticket, error) {
	t, live, err := scanTicket(q.queryRow(`SELECT `+ticketCols+` FROM tickets t WHERE `+cond, args...))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !live) {
		return catalog.Ticket{}, catalog.ErrNotFound
	}
	if err != nil {
		return t, err
	}
	return t, loadAllowed(q, &t)
}

// Ticket returns the ticket with id.
func (c *Catalog) Ticket(ctx context.Context, id catalog.ID) (catalog.Ticket, error) {
	var t catalog.Ticket
	err := c.read(ctx, func(r *rtx) (err error) {
		t, err = ticketWhere(r, `t.id = ?`, int64(id))
		return err
	})
	if err != nil {
		return t, fmt.Errorf("ticket %d: %w", id, err)
	}
	return t, nil
}

// TicketByHash returns the ticket whose string hashes to hash.
func (c *Catalog) TicketByHash(ctx context.Context, hash string) (catalog.Ticket, error) {
	var t catalog.Ticket
	err := c.read(ctx, func(r *rtx) (err error) {
		t, err = ticketWhere(r, `t.hash = ?`, hash)
		return err
	})
	if err != nil {
		return t, fmt.Errorf("ticket: %w", err)
	}
	return t, nil
}

// ListTickets returns the live tickets of owner, or all, by id.
func (c *Catalog) ListTickets(ctx context.Context, owner catalog.UserID) ([]catalog.Ticket, error) {
	var out []catalog.Ticket
	err := c.read(ctx, func(r *rtx) error {
		q, args := `SELECT `+ticketCols+` FROM tickets t ORDER BY t.id`, []any(nil)
		if owner != (catalog.UserID{}) {
			q = `SELECT ` + ticketCols + ` FROM tickets t WHERE t.owner_name = ? AND t.owner_zone = ? ORDER BY t.id`
			args = []any{owner.Name, owner.Zone}
		}
		rows, err := r.query(q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			t, live, err := scanTicket(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if live {
				out = append(out, t)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			if err := loadAllowed(r, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return out, nil
}

// UpdateTicket stores the limits, expiry and allowed lists of t.
func (c *Catalog) UpdateTicket(ctx context.Context, t catalog.Ticket) error {
	if err := t.ValidateUpdate(); err != nil {
		return fmt.Errorf("update ticket %d: %w", t.ID, err)
	}
	err := c.write(ctx, func(w *wtx) error {
		res, err := w.exec(`UPDATE tickets SET expiry_ns = ?, uses_limit = ?, write_file_limit = ?, write_byte_limit = ? WHERE id = ?`,
			nanos(t.Expires), t.UsesLimit, t.WriteFileLimit, t.WriteByteLimit, int64(t.ID))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return catalog.ErrNotFound
		}
		return storeAllowed(w, t)
	})
	if err != nil {
		return fmt.Errorf("update ticket %d: %w", t.ID, err)
	}
	return nil
}

// RemoveTicket deletes the ticket with id.
func (c *Catalog) RemoveTicket(ctx context.Context, id catalog.ID) error {
	err := c.write(ctx, func(w *wtx) error {
		if _, err := w.exec(`DELETE FROM ticket_allowed WHERE ticket_id = ?`, int64(id)); err != nil {
			return err
		}
		res, err := w.exec(`DELETE FROM tickets WHERE id = ?`, int64(id))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return catalog.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove ticket %d: %w", id, err)
	}
	return nil
}

// UseTicket checks use against the ticket's expiry and limits and counts
// it, in the one writer transaction, so concurrent uses cannot overshoot.
func (c *Catalog) UseTicket(ctx context.Context, id catalog.ID, use catalog.TicketUse) (catalog.Ticket, error) {
	if err := use.Validate(); err != nil {
		return catalog.Ticket{}, fmt.Errorf("use ticket %d: %w", id, err)
	}
	var t catalog.Ticket
	err := c.write(ctx, func(w *wtx) error {
		var err error
		if t, err = ticketWhere(w, `t.id = ?`, int64(id)); err != nil {
			return err
		}
		over := func(limit, count, add int64) bool { return limit > 0 && add > 0 && count+add > limit }
		switch {
		case !t.Expires.IsZero() && !use.Now.Before(t.Expires):
			return fmt.Errorf("%w: ticket %d expired at %s", catalog.ErrPermission, t.ID, t.Expires.Format("2006-01-02 15:04:05Z"))
		case over(t.UsesLimit, t.UsesCount, use.Uses):
			return fmt.Errorf("%w: ticket %d has been used %d times, its limit", catalog.ErrPermission, t.ID, t.UsesCount)
		case over(t.WriteFileLimit, t.WriteFileCount, use.Files):
			return fmt.Errorf("%w: ticket %d has written %d of its %d data objects", catalog.ErrPermission, t.ID, t.WriteFileCount, t.WriteFileLimit)
		case over(t.WriteByteLimit, t.WriteByteCount, use.Bytes):
			return fmt.Errorf("%w: ticket %d: writing %d bytes would pass its limit (%d of %d bytes written)",
				catalog.ErrPermission, t.ID, use.Bytes, t.WriteByteCount, t.WriteByteLimit)
		}
		if use.Uses == 0 && use.Files == 0 && use.Bytes == 0 {
			return nil
		}
		t.UsesCount += use.Uses
		t.WriteFileCount += use.Files
		t.WriteByteCount += use.Bytes
		_, err = w.exec(`UPDATE tickets SET uses_count = ?, write_file_count = ?, write_byte_count = ? WHERE id = ?`,
			t.UsesCount, t.WriteFileCount, t.WriteByteCount, int64(t.ID))
		return err
	})
	if err != nil {
		return catalog.Ticket{}, fmt.Errorf("use ticket %d: %w", id, err)
	}
	return t, nil
}

// ReturnTicketUse takes back use counted against the ticket id.
func (c *Catalog) ReturnTicketUse(ctx context.Context, id catalog.ID, use catalog.TicketUse) error {
	if err := use.Validate(); err != nil {
		return fmt.Errorf("return use of ticket %d: %w", id, err)
	}
	err := c.write(ctx, func(w *wtx) error {
		res, err := w.exec(`UPDATE tickets SET uses_count = max(uses_count - ?, 0),
			write_file_count = max(write_file_count - ?, 0), write_byte_count = max(write_byte_count - ?, 0) WHERE id = ?`,
			use.Uses, use.Files, use.Bytes, int64(id))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return catalog.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("return use of ticket %d: %w", id, err)
	}
	return nil
}
