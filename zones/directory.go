package zones

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
)

// ProvisionUser creates the account of a user a directory has just
// authenticated (entry dn), with its home, as the operation
// "user.provision": the zone does it on the user's behalf (the caller is
// the user-to-be), no permission is needed beyond the directory's word, and
// rules may deny or annotate it. zones/auth calls it; no client can.
func (z *Zone) ProvisionUser(ctx context.Context, id catalog.UserID, dn string) (catalog.User, error) {
	u := catalog.User{Name: id.Name, Zone: id.Zone, Type: catalog.UserTypeUser, Auth: catalog.AuthLDAP, Info: "provisioned from LDAP"}
	op := &Op{Name: "user.provision", Caller: As(u), Path: z.Home(id.Name), Account: id}
	err := z.do(ctx, op, func(ctx context.Context) error {
		var err error
		u, err = z.cat.CreateUser(ctx, u)
		if errors.Is(err, catalog.ErrExists) {
			// Another login of the same user, or an administrator, was faster.
			if u, err = z.cat.User(ctx, id); err == nil && u.Auth != catalog.AuthLDAP {
				return fmt.Errorf("%w: %s was made a native account meanwhile", ErrUnauthenticated, id)
			}
		}
		if err != nil {
			return fmt.Errorf("provision %s: %w", id, err)
		}
		// Post rules act as the user now stored, owner of the new home.
		op.Caller = As(u)
		if err := z.ensureHome(ctx, id); err != nil {
			return fmt.Errorf("provision %s: %w", id, err)
		}
		z.log.Info("provisioned a user from LDAP", "user", id.String(), "dn", dn)
		return nil
	})
	return u, err
}

// SyncDirectoryGroups makes user a member of the Arca groups its directory
// groups map to (groups: Arca name → directory name), creating missing ones, and takes it out of the groups the
// directory manages but no longer lists it in. A group the directory
// manages is marked auth ldap: made for a directory group, or filled from
// one. Groups made and filled only with iadmin are left alone.
//
// Each change is an operation done by the zone on the user's behalf:
// "group.sync.join" (Group: the Arca group, created if missing) and
// "group.sync.leave". A rule that denies one skips that change only: the
// login goes on, and the next login asks again.
func (z *Zone) SyncDirectoryGroups(ctx context.Context, user catalog.User, groups map[string]string) error {
	uid := user.UserID()
	defer z.groupCache.forget(uid)
	want := map[string]bool{}
	for name, g := range groups {
		if err := catalog.ValidateUserName(name); err != nil || name == PublicGroup {
			z.log.Warn("LDAP group not mapped: not a name Arca can hold", "ldap_group", g, "group", name)
			continue
		}
		want[name] = true
	}
	current, err := z.cat.GroupsOf(ctx, uid)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, g := range current {
		if g.Zone == z.name {
			have[g.Name] = true
		}
	}
	// skip tells a change a rule denied, which is logged and skipped, from
	// a failure, which fails the login.
	skip := func(err error, change, group string) error {
		if errors.Is(err, rules.ErrDenied) {
			z.log.Info("LDAP group change denied by policy", "user", uid.String(), "change", change, "group", group, "reason", err.Error())
			return nil
		}
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if have[name] {
			continue
		}
		gid := catalog.UserID{Name: name, Zone: z.name}
		err := z.do(ctx, &Op{Name: "group.sync.join", Caller: As(user), Group: gid}, func(ctx context.Context) error {
			return z.joinDirectoryGroup(ctx, uid, gid)
		})
		if err := skip(err, "join", name); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(have)) {
		if want[name] {
			continue
		}
		gid := catalog.UserID{Name: name, Zone: z.name}
		g, err := z.cat.User(ctx, gid)
		if errors.Is(err, catalog.ErrNotFound) {
			continue // removed meanwhile, and the membership with it
		}
		if err != nil {
			return err
		}
		if g.Auth != catalog.AuthLDAP {
			continue // the zone's own group
		}
		err = z.do(ctx, &Op{Name: "group.sync.leave", Caller: As(user), Group: gid}, func(ctx context.Context) error {
			if err := z.cat.RemoveMember(ctx, gid, uid); err != nil && !errors.Is(err, catalog.ErrNotFound) {
				return err
			}
			z.log.Info("removed from a group: LDAP no longer lists the user in it", "user", uid.String(), "group", name)
			return nil
		})
		if err := skip(err, "leave", name); err != nil {
			return err
		}
	}
	return nil
}

// joinDirectoryGroup adds user to gid, creating the group if missing and
// marking it as managed by the directory.
func (z *Zone) joinDirectoryGroup(ctx context.Context, user, gid catalog.UserID) error {
	g, err := z.cat.CreateGroup(ctx, gid)
	if errors.Is(err, catalog.ErrExists) {
		g, err = z.cat.User(ctx, gid)
	} else if err == nil {
		z.log.Info("created a group for an LDAP group", "group", gid.Name)
	}
	if err != nil {
		return err
	}
	if g.Type != catalog.UserTypeGroup {
		z.log.Warn("LDAP group not mapped: a user of that name exists", "group", gid.Name)
		return nil
	}
	if g.Auth != catalog.AuthLDAP {
		g.Auth = catalog.AuthLDAP
		if err := z.cat.UpdateUser(ctx, g); err != nil {
			return err
		}
	}
	if err := z.cat.AddMember(ctx, gid, user); err != nil && !errors.Is(err, catalog.ErrExists) {
		return err
	}
	z.log.Info("added to a group from LDAP", "user", user.String(), "group", gid.Name)
	return nil
}
