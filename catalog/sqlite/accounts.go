package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/arca-data/arca/catalog"
)

const userCols = `id, name, zone, type, password_hash, auth, info, create_ns, modify_ns`

func scanUser(s interface{ Scan(...any) error }) (catalog.User, error) {
	var (
		u      catalog.User
		id     int64
		typ    string
		auth   string
		cr, mo int64
	)
	err := s.Scan(&id, &u.Name, &u.Zone, &typ, &u.PasswordHash, &auth, &u.Info, &cr, &mo)
	u.ID, u.Type, u.Auth = catalog.ID(id), catalog.UserType(typ), catalog.AuthSource(auth)
	u.CreateTime, u.ModifyTime = fromNanos(cr), fromNanos(mo)
	return u, err
}

// CreateUser adds an account.
func (c *Catalog) CreateUser(ctx context.Context, u catalog.User) (catalog.User, error) {
	fail := func(err error) (catalog.User, error) {
		kind := "user"
		if u.Type == catalog.UserTypeGroup {
			kind = "group"
		}
		return catalog.User{}, fmt.Errorf("create %s %s: %w", kind, u.UserID(), err)
	}
	if err := u.Validate(); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(w *wtx) error {
		t, n := now()
		res, err := w.exec(`INSERT INTO users (name, zone, type, password_hash, auth, info, create_ns, modify_ns)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.Name, u.Zone, string(u.Type), u.PasswordHash, string(u.Auth), u.Info, n, n)
		if err != nil {
			return mapErr("insert", err)
		}
		id, err := res.LastInsertId()
		u.ID, u.CreateTime, u.ModifyTime = catalog.ID(id), t, t
		return err
	})
	if err != nil {
		return fail(err)
	}
	return u, nil
}

// User returns the account id.
func (c *Catalog) User(ctx context.Context, id catalog.UserID) (catalog.User, error) {
	var u catalog.User
	err := c.read(ctx, func(q *rtx) (err error) {
		u, err = scanUser(q.queryRow(`SELECT `+userCols+` FROM users WHERE name = ? AND zone = ?`, id.Name, id.Zone))
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrNotFound
		}
		return err
	})
	if err != nil {
		return catalog.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// Users returns every account, ordered by name and zone.
func (c *Catalog) Users(ctx context.Context) ([]catalog.User, error) {
	out, err := c.listUsers(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// listUsers returns the rows of users that match where (SQL after WHERE,
// empty for all), ordered by name and zone.
func (c *Catalog) listUsers(ctx context.Context, where string, args ...any) ([]catalog.User, error) {
	q := `SELECT ` + userCols + ` FROM users`
	if where != "" {
		q += ` WHERE ` + where
	}
	q += ` ORDER BY name, zone`
	var out []catalog.User
	err := c.read(ctx, func(r *rtx) error {
		rows, err := r.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, err
}

// UpdateUser stores the type, password hash, authentication and info of u.
func (c *Catalog) UpdateUser(ctx context.Context, u catalog.User) error {
	fail := func(err error) error { return fmt.Errorf("update user %s: %w", u.UserID(), err) }
	if err := u.Type.Validate(); err != nil {
		return fail(err)
	}
	if err := u.Auth.Validate(); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(w *wtx) error {
		_, old, err := userRow(w, u.UserID())
		if err != nil {
			return err
		}
		if (old == catalog.UserTypeGroup) != (u.Type == catalog.UserTypeGroup) {
			return invalid("a group cannot become a user, nor a user a group")
		}
		_, n := now()
		res, err := w.exec(`UPDATE users SET type = ?, password_hash = ?, auth = ?, info = ?, modify_ns = ?
			WHERE name = ? AND zone = ?`, string(u.Type), u.PasswordHash, string(u.Auth), u.Info, n, u.Name, u.Zone)
		return affected(res, err)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// affected turns "no row changed" into ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return catalog.ErrNotFound
	}
	return nil
}

// RemoveUser deletes an account with its grants and sessions. What it owns
// keeps naming it as owner.
func (c *Catalog) RemoveUser(ctx context.Context, id catalog.UserID) error {
	err := c.write(ctx, func(w *wtx) error {
		var uid int64
		err := w.queryRow(`SELECT id FROM users WHERE name = ? AND zone = ?`, id.Name, id.Zone).Scan(&uid)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrNotFound
		} else if err != nil {
			return err
		}
		if err := deleteAVUsOf(w, kindUser, uid); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM group_members WHERE group_id = ? OR user_id = ?`, uid, uid); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM users WHERE id = ?`, uid); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM access WHERE user_name = ? AND user_zone = ?`, id.Name, id.Zone); err != nil {
			return err
		}
		// The tickets of the user end with it. Where the user is among the
		// allowed users of another's ticket, the entry stays: dropping it
		// could leave the list empty, which would open the ticket to all.
		if _, err := w.exec(`DELETE FROM ticket_allowed WHERE ticket_id IN (SELECT id FROM tickets WHERE owner_name = ? AND owner_zone = ?)`,
			id.Name, id.Zone); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM tickets WHERE owner_name = ? AND owner_zone = ?`, id.Name, id.Zone); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM quotas WHERE kind IN ('user', 'group') AND name = ? AND zone = ?`, id.Name, id.Zone); err != nil {
			return err
		}
		_, err = w.exec(`DELETE FROM sessions WHERE user_name = ? AND user_zone = ?`, id.Name, id.Zone)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove user %s: %w", id, err)
	}
	return nil
}

// CreateSession stores a login session.
func (c *Catalog) CreateSession(ctx context.Context, s catalog.Session) error {
	fail := func(err error) error { return fmt.Errorf("create session of %s: %w", s.User, err) }
	if err := s.Validate(); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(w *wtx) error {
		created := nanos(s.CreateTime)
		if created == 0 {
			_, created = now()
		}
		_, err := w.exec(`INSERT INTO sessions (token_hash, user_name, user_zone, create_ns, expires_ns)
			VALUES (?, ?, ?, ?, ?)`, s.TokenHash, s.User.Name, s.User.Zone, created, nanos(s.Expires))
		return mapErr("insert", err)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// Session returns the session whose token hashes to tokenHash, expired or
// not: the caller compares Expires with its clock, and can so tell an
// expired session from one that was ended.
func (c *Catalog) Session(ctx context.Context, tokenHash string) (catalog.Session, error) {
	var s catalog.Session
	err := c.read(ctx, func(q *rtx) error {
		var cr, ex int64
		err := q.queryRow(`SELECT token_hash, user_name, user_zone, create_ns, expires_ns FROM sessions
			WHERE token_hash = ?`, tokenHash).Scan(&s.TokenHash, &s.User.Name, &s.User.Zone, &cr, &ex)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrNotFound
		}
		if err != nil {
			return err
		}
		s.CreateTime, s.Expires = fromNanos(cr), fromNanos(ex)
		return nil
	})
	if err != nil {
		return catalog.Session{}, fmt.Errorf("session: %w", err)
	}
	return s, nil
}

// RemoveSession ends one session.
func (c *Catalog) RemoveSession(ctx context.Context, tokenHash string) error {
	err := c.write(ctx, func(w *wtx) error {
		return affected(w.exec(`DELETE FROM sessions WHERE token_hash = ?`, tokenHash))
	})
	if err != nil {
		return fmt.Errorf("remove session: %w", err)
	}
	return nil
}

// RemoveSessions ends every session of user.
func (c *Catalog) RemoveSessions(ctx context.Context, user catalog.UserID) (int, error) {
	var n int64
	err := c.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM sessions WHERE user_name = ? AND user_zone = ?`, user.Name, user.Zone)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("remove sessions of %s: %w", user, err)
	}
	return int(n), nil
}

// SessionUsers returns the users with a session that has not expired at now.
func (c *Catalog) SessionUsers(ctx context.Context, now time.Time) ([]catalog.UserID, error) {
	if err := catalog.CheckTime("time", now); err != nil {
		return nil, fmt.Errorf("session users: %w", err)
	}
	var out []catalog.UserID
	err := c.read(ctx, func(q *rtx) error {
		var err error
		out, err = collectUserIDs(q.query(`SELECT DISTINCT user_name, user_zone FROM sessions
			WHERE expires_ns >= ? ORDER BY user_name, user_zone`, nanos(now)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("session users: %w", err)
	}
	return out, nil
}

// RemoveExpiredSessions deletes sessions that expired before at.
func (c *Catalog) RemoveExpiredSessions(ctx context.Context, at time.Time) (int, error) {
	if err := catalog.CheckTime("time", at); err != nil {
		return 0, fmt.Errorf("remove expired sessions: %w", err)
	}
	var n int64
	err := c.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM sessions WHERE expires_ns < ?`, nanos(at))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("remove expired sessions: %w", err)
	}
	return int(n), nil
}
