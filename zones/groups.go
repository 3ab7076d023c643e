package zones

import (
	"context"
	"errors"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// groupID reads a group name, "name" or "name#zone", of this zone.
func (z *Zone) groupID(name string) (catalog.UserID, error) {
	return catalog.ParseUserID(name, z.name)
}

// MakeGroup creates a group (iadmin mkgroup).
func (z *Zone) MakeGroup(ctx context.Context, caller Principal, name string) (catalog.User, error) {
	var g catalog.User
	id, err := z.groupID(name)
	if err != nil {
		return g, err
	}
	err = z.do(ctx, &Op{Name: "group.create", Caller: caller, Group: id}, func(ctx context.Context) error {
		if id.Zone != z.name {
			return fmt.Errorf("%w: groups of zone %q are made there", catalog.ErrInvalidArgument, id.Zone)
		}
		var err error
		g, err = z.cat.CreateGroup(ctx, id)
		return err
	})
	return g, err
}

// RemoveGroup deletes a group with its memberships and grants (iadmin rmgroup).
func (z *Zone) RemoveGroup(ctx context.Context, caller Principal, name string) error {
	id, err := z.groupID(name)
	if err != nil {
		return err
	}
	return z.do(ctx, &Op{Name: "group.remove", Caller: caller, Group: id}, func(ctx context.Context) error {
		if id.Name == PublicGroup {
			return fmt.Errorf("%w: %s holds everyone and cannot be removed", catalog.ErrInvalidArgument, id)
		}
		err := z.cat.RemoveGroup(ctx, id)
		z.groupCache.forget(catalog.UserID{})
		if err != nil {
			return err
		}
		return z.forgetInTickets(ctx, id)
	})
}

// AddToGroup puts a user in a group (iadmin atg).
func (z *Zone) AddToGroup(ctx context.Context, caller Principal, group, user string) error {
	return z.changeMember(ctx, caller, "group.add", group, user)
}

// RemoveFromGroup takes a user out of a group (iadmin rfg).
func (z *Zone) RemoveFromGroup(ctx context.Context, caller Principal, group, user string) error {
	return z.changeMember(ctx, caller, "group.remove_member", group, user)
}

func (z *Zone) changeMember(ctx context.Context, caller Principal, name OpName, group, user string) error {
	gid, err := z.groupID(group)
	if err != nil {
		return err
	}
	uid, err := catalog.ParseUserID(user, z.name)
	if err != nil {
		return err
	}
	return z.do(ctx, &Op{Name: name, Caller: caller, Group: gid, Account: uid}, func(ctx context.Context) error {
		if gid.Name == PublicGroup {
			return fmt.Errorf("%w: every user belongs to %s", catalog.ErrInvalidArgument, gid)
		}
		defer z.groupCache.forget(uid)
		if name == "group.add" {
			return z.cat.AddMember(ctx, gid, uid)
		}
		return z.cat.RemoveMember(ctx, gid, uid)
	})
}

// ListGroups returns every group (iadmin lg).
func (z *Zone) ListGroups(ctx context.Context, caller Principal) ([]catalog.User, error) {
	var out []catalog.User
	err := z.do(ctx, &Op{Name: "group.list", Caller: caller}, func(ctx context.Context) error {
		var err error
		out, err = z.cat.ListGroups(ctx)
		return err
	})
	return out, err
}

// GroupMembers returns the members of a group (iadmin lg GROUP). Those of
// public are every user of the zone.
func (z *Zone) GroupMembers(ctx context.Context, caller Principal, group string) ([]catalog.UserID, error) {
	gid, err := z.groupID(group)
	if err != nil {
		return nil, err
	}
	var out []catalog.UserID
	err = z.do(ctx, &Op{Name: "group.list", Caller: caller, Group: gid}, func(ctx context.Context) error {
		var err error
		out, err = z.members(ctx, gid)
		return err
	})
	return out, err
}

func (z *Zone) members(ctx context.Context, gid catalog.UserID) ([]catalog.UserID, error) {
	if gid != (catalog.UserID{Name: PublicGroup, Zone: z.name}) {
		return z.cat.Members(ctx, gid)
	}
	users, err := z.cat.Users(ctx)
	var out []catalog.UserID
	for _, u := range users {
		if u.Type != catalog.UserTypeGroup && u.Zone == z.name {
			out = append(out, u.UserID())
		}
	}
	return out, err
}

// UserInfo is what iuserinfo shows of an account.
type UserInfo struct {
	User catalog.User
	// Groups are the groups a user belongs to, public included; Members
	// the members of a group.
	Groups, Members []catalog.UserID
}

// DescribeUser returns an account with its groups, or a group with its
// members (iuserinfo). Every user may ask about every account.
func (z *Zone) DescribeUser(ctx context.Context, caller Principal, name string) (UserInfo, error) {
	var info UserInfo
	id := caller.UserID()
	if name != "" {
		var err error
		if id, err = catalog.ParseUserID(name, z.name); err != nil {
			return info, err
		}
	}
	err := z.do(ctx, &Op{Name: "user.info", Caller: caller, Account: id}, func(ctx context.Context) error {
		u, err := z.cat.User(ctx, id)
		if err != nil {
			return err
		}
		info.User = u
		if u.Type == catalog.UserTypeGroup {
			info.Members, err = z.members(ctx, id)
			return err
		}
		gs, err := z.cat.GroupsOf(ctx, id)
		if err != nil {
			return err
		}
		if u.Zone == z.name {
			info.Groups = append(info.Groups, catalog.UserID{Name: PublicGroup, Zone: z.name})
		}
		info.Groups = append(info.Groups, gs...)
		return nil
	})
	return info, err
}

// ensurePublic makes the public group of a zone made before groups existed.
func (z *Zone) ensurePublic(ctx context.Context) error {
	_, err := z.cat.CreateGroup(ctx, catalog.UserID{Name: PublicGroup, Zone: z.name})
	if errors.Is(err, catalog.ErrExists) {
		return nil
	}
	return err
}
