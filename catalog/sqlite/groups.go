package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// userRow reads the id and type of the account id.
func userRow(q querier, id catalog.UserID) (int64, catalog.UserType, error) {
	var (
		uid int64
		typ string
	)
	err := q.queryRow(`SELECT id, type FROM users WHERE name = ? AND zone = ?`, id.Name, id.Zone).Scan(&uid, &typ)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("%s: %w", id, catalog.ErrNotFound)
	}
	return uid, catalog.UserType(typ), err
}

// groupRow reads the id of the group g, refusing an account that is not one.
func groupRow(q querier, g catalog.UserID) (int64, error) {
	id, typ, err := userRow(q, g)
	if err != nil {
		return 0, err
	}
	if typ != catalog.UserTypeGroup {
		return 0, fmt.Errorf("%s is a %s, not a group: %w", g, typ, catalog.ErrNotFound)
	}
	return id, nil
}

// CreateGroup adds an account of type rodsgroup.
func (c *Catalog) CreateGroup(ctx context.Context, g catalog.UserID) (catalog.User, error) {
	return c.CreateUser(ctx, catalog.User{Name: g.Name, Zone: g.Zone, Type: catalog.UserTypeGroup})
}

// RemoveGroup deletes a group with its memberships, grants and AVUs.
func (c *Catalog) RemoveGroup(ctx context.Context, g catalog.UserID) error {
	err := c.read(ctx, func(q *rtx) error {
		_, err := groupRow(q, g)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove group %s: %w", g, err)
	}
	// RemoveUser checks again in its own transaction; a group cannot turn
	// into a user in between, as UpdateUser keeps groups groups.
	if err := c.RemoveUser(ctx, g); err != nil {
		return fmt.Errorf("remove group: %w", err)
	}
	return nil
}

// ListGroups returns every group, ordered by name and zone.
func (c *Catalog) ListGroups(ctx context.Context) ([]catalog.User, error) {
	out, err := c.listUsers(ctx, `type = ?`, string(catalog.UserTypeGroup))
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return out, nil
}

// AddMember puts user in group.
func (c *Catalog) AddMember(ctx context.Context, group, user catalog.UserID) error {
	err := c.write(ctx, func(w *wtx) error {
		gid, err := groupRow(w, group)
		if err != nil {
			return err
		}
		uid, typ, err := userRow(w, user)
		if err != nil {
			return err
		}
		if typ == catalog.UserTypeGroup {
			return invalid("%s is a group; groups do not nest", user)
		}
		_, err = w.exec(`INSERT INTO group_members (group_id, user_id) VALUES (?, ?)`, gid, uid)
		return mapErr("insert member", err)
	})
	if err != nil {
		return fmt.Errorf("add %s to group %s: %w", user, group, err)
	}
	return nil
}

// RemoveMember takes user out of group.
func (c *Catalog) RemoveMember(ctx context.Context, group, user catalog.UserID) error {
	err := c.write(ctx, func(w *wtx) error {
		gid, err := groupRow(w, group)
		if err != nil {
			return err
		}
		uid, _, err := userRow(w, user)
		if err != nil {
			return err
		}
		return affected(w.exec(`DELETE FROM group_members WHERE group_id = ? AND user_id = ?`, gid, uid))
	})
	if err != nil {
		return fmt.Errorf("remove %s from group %s: %w", user, group, err)
	}
	return nil
}

func collectUserIDs(rows *sql.Rows, err error) ([]catalog.UserID, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalog.UserID
	for rows.Next() {
		var u catalog.UserID
		if err := rows.Scan(&u.Name, &u.Zone); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Members returns the members of group.
func (c *Catalog) Members(ctx context.Context, group catalog.UserID) ([]catalog.UserID, error) {
	var out []catalog.UserID
	err := c.read(ctx, func(q *rtx) error {
		gid, err := groupRow(q, group)
		if err != nil {
			return err
		}
		out, err = collectUserIDs(q.query(`SELECT u.name, u.zone FROM group_members m JOIN users u ON u.id = m.user_id
			WHERE m.group_id = ? ORDER BY u.name, u.zone`, gid))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", group, err)
	}
	return out, nil
}

// GroupsOf returns the groups user belongs to.
func (c *Catalog) GroupsOf(ctx context.Context, user catalog.UserID) ([]catalog.UserID, error) {
	var out []catalog.UserID
	err := c.read(ctx, func(q *rtx) error {
		var err error
		out, err = collectUserIDs(q.query(`SELECT g.name, g.zone FROM users u
			JOIN group_members m ON m.user_id = u.id JOIN users g ON g.id = m.group_id
			WHERE u.name = ? AND u.zone = ? ORDER BY g.name, g.zone`, user.Name, user.Zone))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", user, err)
	}
	return out, nil
}
