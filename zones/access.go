package zones

import (
	"context"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// SetAccess grants principal, a user or group as "name" or "name#zone",
// level on p (ichmod); AccessNull removes its grant. It needs own on p, or
// adminMode (ichmod -M) from a rodsadmin. With recursive it also changes
// everything below a collection that the caller owns, leaving alone what it
// does not own (a rodsadmin changes everything).
func (z *Zone) SetAccess(ctx context.Context, caller Principal, p catalog.Path, principal string, level catalog.AccessLevel, recursive, adminMode bool) error {
	id, err := catalog.ParseUserID(principal, z.name)
	if err != nil {
		return err
	}
	op := &Op{Name: "acl.set", Caller: caller, Path: p, Group: id, Level: level, Recursive: recursive, AdminMode: adminMode}
	return z.do(ctx, op, func(ctx context.Context) error {
		if _, err := z.cat.User(ctx, id); err != nil {
			return fmt.Errorf("user or group %s: %w", id, catalog.ErrNotFound)
		}
		set := func(q catalog.Path) error { return z.cat.SetAccess(ctx, q, id, level) }
		if !recursive {
			return set(p)
		}
		if err := z.checkRulesBelow(ctx, op, p, recursive, catalog.AccessOwn); err != nil {
			return err
		}
		// Below first: granting null to oneself on p must not stop the walk.
		if err := z.walkOwned(ctx, caller, p, true, set); err != nil {
			return err
		}
		return set(p)
	})
}

// SetInheritance sets the inheritance flag of the collection p (ichmod
// inherit|noinherit), and with recursive of the collections below it that
// the caller owns.
func (z *Zone) SetInheritance(ctx context.Context, caller Principal, p catalog.Path, inherit, recursive, adminMode bool) error {
	op := &Op{Name: "acl.inherit", Caller: caller, Path: p, Recursive: recursive, AdminMode: adminMode}
	return z.do(ctx, op, func(ctx context.Context) error {
		if err := z.checkRulesBelow(ctx, op, p, recursive, catalog.AccessOwn); err != nil {
			return err
		}
		set := func(q catalog.Path) error { return z.cat.SetInheritance(ctx, q, inherit) }
		if err := set(p); err != nil || !recursive {
			return err
		}
		return z.walkOwned(ctx, caller, p, false, set)
	})
}

// walkOwned calls fn with every collection below p, and with objects every
// data object, that caller owns (everything for a rodsadmin). p itself is
// not visited; a data object at p has nothing below it.
func (z *Zone) walkOwned(ctx context.Context, caller Principal, p catalog.Path, objects bool, fn func(catalog.Path) error) error {
	e, err := z.cat.Stat(ctx, p)
	if err != nil || e.Collection == nil {
		return err
	}
	groups, err := z.groupsOf(ctx, caller.User)
	if err != nil {
		return err
	}
	owns := func(acl []catalog.ACE) bool {
		return isAdmin(caller.User, z.name) || accessOf(caller.User, groups, acl) >= catalog.AccessOwn
	}
	var walk func(catalog.Path) error
	walk = func(c catalog.Path) error {
		if objects {
			for after := ""; ; {
				objs, err := z.cat.ListObjects(ctx, c, after, listPage)
				if err != nil {
					return err
				}
				for _, o := range objs {
					if owns(o.ACL) {
						if err := fn(o.Path); err != nil {
							return err
						}
					}
				}
				if len(objs) < listPage {
					break
				}
				after = objs[len(objs)-1].Path.Name()
			}
		}
		colls, err := z.allCollections(ctx, c)
		if err != nil {
			return err
		}
		for _, sub := range colls {
			if err := walk(sub.Path); err != nil {
				return err
			}
			if owns(sub.ACL) {
				if err := fn(sub.Path); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(p)
}
