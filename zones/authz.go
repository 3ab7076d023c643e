package zones

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/arca-data/arca/catalog"
)

// PublicGroup is granted to everyone, as iRODS's "public" group.
const PublicGroup = "public"

// need is one permission an operation requires: level on the entry at path.
// The entry must exist, except where parentIfMissing says to check its parent
// collection instead (a put of a new object needs write on the collection).
// tree asks for level on everything below a collection too: iRODS checks
// delete permission on every data object a recursive removal takes.
//
// groupAdminOf, when set, is instead the need of a groupadmin to manage the
// members of a group: the caller must be a groupadmin and belong to it.
type need struct {
	path            catalog.Path
	level           catalog.AccessLevel
	parentIfMissing bool
	tree            bool
	groupAdminOf    catalog.UserID
	// ownerOf, when set, is instead the need to be this user: the owner of
	// a ticket that is changed, shown or removed.
	ownerOf catalog.UserID
	// steward, when set, is instead the need to be rodsadmin or a member
	// of the group stewards (rodsadmin only when that is zero): who may
	// issue certificates.
	steward  bool
	stewards catalog.UserID
}

var errAdminOnly = errors.New("administrators only")

// errByZone marks operations the zone does on a user's behalf, which no
// gRPC method runs: they pass authorization whoever the caller is.
var errByZone = errors.New("done by the zone")

// isPathTarget reports whether t is a data object or a collection.
func isPathTarget(t catalog.AVUTarget) bool {
	return t.Kind == catalog.TargetDataObject || t.Kind == catalog.TargetCollection
}

// authorize checks op against requirements for its caller. When the
// caller's own access falls short and the call presents a ticket, the
// ticket decides (authorizeTicket); the anonymous caller has only a ticket.
func (z *Zone) authorize(ctx context.Context, op *Op) error {
	if err := z.checkZone(op); err != nil {
		return err
	}
	if _, err := requirements(op); errors.Is(err, errByZone) {
		return nil
	}
	hasTicket := op.Caller.Ticket != ""
	if isAnonymous(op.Caller.User) {
		if !hasTicket {
			return fmt.Errorf("%s: %w: no session", op.Name, ErrUnauthenticated)
		}
		if op.Name == OpWhoAmI {
			return nil // who holds a ticket may learn that it acts as anonymous
		}
		if err := z.authorizeTicket(ctx, op); err != nil {
			return fmt.Errorf("%s: %w", op.Name, err)
		}
		return nil
	}
	err := z.authorizeCaller(ctx, op)
	if err == nil || !hasTicket || !errors.Is(err, catalog.ErrPermission) {
		return err
	}
	if terr := z.authorizeTicket(ctx, op); terr != nil {
		return fmt.Errorf("%w; with the ticket: %v", err, terr)
	}
	return nil
}

// authorizeCaller checks op against requirements for the caller's own
// access: its grants, its groups' and public's, or its being an administrator.
func (z *Zone) authorizeCaller(ctx context.Context, op *Op) error {
	needs, err := requirements(op)
	admin := isAdmin(op.Caller.User, z.name)
	if op.Caller.AdminMode && !admin {
		return fmt.Errorf("%s: %w: admin mode (-M) is for rodsadmin", op.Name, catalog.ErrPermission)
	}
	switch {
	case errors.Is(err, errAdminOnly) && !admin:
		return fmt.Errorf("%s: %w: %s", op.Name, catalog.ErrPermission, err)
	case errors.Is(err, errAdminOnly):
		return nil
	case err != nil:
		return err
	case len(needs) == 0, adminMode(op, z.name), admin && operations[op.Name].adminReads:
		return nil
	}
	groups, err := z.groupsOf(ctx, op.Caller.User)
	if err != nil {
		return err
	}
	for _, n := range needs {
		if n.groupAdminOf != (catalog.UserID{}) {
			if admin {
				continue // managing members is the administrators' (iadmin atg)
			}
			if op.Caller.Type != catalog.UserTypeGroupAdmin || !slices.Contains(groups, n.groupAdminOf) {
				return fmt.Errorf("%s %s: %w: administrators only, or a groupadmin of the group", op.Name, n.groupAdminOf, catalog.ErrPermission)
			}
			continue
		}
		if n.steward {
			if admin || (n.stewards != (catalog.UserID{}) && slices.Contains(groups, n.stewards)) {
				continue
			}
			if n.stewards == (catalog.UserID{}) {
				return fmt.Errorf("%s: %w: rodsadmin only (no steward group is configured)", op.Name, catalog.ErrPermission)
			}
			return fmt.Errorf("%s: %w: rodsadmin or a member of %s only", op.Name, catalog.ErrPermission, n.stewards.Name)
		}
		if n.ownerOf != (catalog.UserID{}) {
			if op.Caller.UserID() != n.ownerOf {
				what := "the ticket"
				if op.Name == OpRAiDLink || op.Name == OpRAiDUnlink {
					what = "the RAiD"
				}
				return fmt.Errorf("%s: %w: %s belongs to %s", op.Name, catalog.ErrPermission, what, n.ownerOf)
			}
			continue
		}
		if err := z.check(ctx, op.Caller, groups, n); err != nil {
			return fmt.Errorf("%s %s: %w", op.Name, n.path, err)
		}
	}
	return nil
}

func isAdmin(u catalog.User, zone string) bool {
	return u.Type == catalog.UserTypeAdmin && u.Zone == zone
}

// adminMode reports whether op's caller is a rodsadmin acting as such (-M,
// or the ACL request's own admin mode): then it passes every permission
// check on other users' data. Without it, as in iRODS, a rodsadmin has on
// their data only what their ACLs grant it.
func adminMode(op *Op, zone string) bool {
	return isAdmin(op.Caller.User, zone) && (op.Caller.AdminMode || op.AdminMode)
}

// checkZone refuses paths of zones this server does not serve: federation
// will route them, until then they are not found.
func (z *Zone) checkZone(op *Op) error {
	for _, p := range []catalog.Path{op.Path, op.Dest} {
		if p.IsZero() || p.IsRoot() {
			continue
		}
		if p.Zone() != z.name {
			return fmt.Errorf("%s: %w: zone %q is not known here (this is zone %q)", p, catalog.ErrNotFound, p.Zone(), z.name)
		}
	}
	return nil
}

func (z *Zone) check(ctx context.Context, caller Principal, groups []catalog.UserID, n need) error {
	e, err := z.cat.Stat(ctx, n.path)
	if errors.Is(err, catalog.ErrNotFound) && n.parentIfMissing {
		parent := n.path.Parent()
		if e, err = z.cat.Stat(ctx, parent); err != nil {
			return err
		}
		if e.Collection == nil {
			return fmt.Errorf("%s: %w", parent, catalog.ErrNotCollection)
		}
	} else if err != nil {
		return err
	}
	if level := accessOf(caller.User, groups, aclOf(e)); level < n.level {
		return fmt.Errorf("%w: %s needs %s access, %s has %s", catalog.ErrPermission, e.Path(), n.level, caller.UserID(), level)
	}
	if n.tree && e.Collection != nil {
		return z.checkTree(ctx, caller, groups, e.Collection.Path, n.level)
	}
	return nil
}

// checkTree checks that caller has level on every data object and
// collection below the collection p.
func (z *Zone) checkTree(ctx context.Context, caller Principal, groups []catalog.UserID, p catalog.Path, level catalog.AccessLevel) error {
	denied := func(q catalog.Path, acl []catalog.ACE) error {
		have := accessOf(caller.User, groups, acl)
		switch {
		case have >= level:
			return nil
		case have < catalog.AccessRead:
			// What the caller may not read it does not learn of.
			return fmt.Errorf("%w: everything below %s needs %s access, and %s may not even read some of it", catalog.ErrPermission, p, level, caller.UserID())
		}
		return fmt.Errorf("%w: %s needs %s access, %s has %s", catalog.ErrPermission, q, level, caller.UserID(), have)
	}
	for after := ""; ; {
		objs, err := z.cat.ListObjects(ctx, p, after, listPage)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := denied(o.Path, o.ACL); err != nil {
				return err
			}
		}
		if len(objs) < listPage {
			break
		}
		after = objs[len(objs)-1].Path.Name()
	}
	colls, err := z.allCollections(ctx, p)
	if err != nil {
		return err
	}
	for _, c := range colls {
		if err := denied(c.Path, c.ACL); err != nil {
			return err
		}
		if err := z.checkTree(ctx, caller, groups, c.Path, level); err != nil {
			return err
		}
	}
	return nil
}

func aclOf(e catalog.Entry) []catalog.ACE {
	if e.Collection != nil {
		return e.Collection.ACL
	}
	return e.Object.ACL
}

// accessOf is the highest level that acl grants to u: directly, through
// one of groups (the groups u belongs to, from groupsOf) or through the
// public group, which holds every user of u's zone. It is the one place
// that decides whom a grant reaches.
func accessOf(u catalog.User, groups []catalog.UserID, acl []catalog.ACE) catalog.AccessLevel {
	best := catalog.AccessNull
	for _, ace := range acl {
		if ace.Principal == u.UserID() || (ace.Principal.Name == PublicGroup && ace.Principal.Zone == u.Zone) ||
			slices.Contains(groups, ace.Principal) {
			best = max(best, ace.Level)
		}
	}
	return best
}

// canRead reports whether u, a member of groups, may read an entry, for
// filtering listings.
func canRead(u catalog.User, groups []catalog.UserID, zone string, acl []catalog.ACE) bool {
	return isAdmin(u, zone) || accessOf(u, groups, acl) >= catalog.AccessRead
}

// readable is the filter of the listing op, after authorize: what the
// caller may read, and what the ticket that allowed op covers.
func (z *Zone) readable(ctx context.Context, op *Op) (func(p catalog.Path, acl []catalog.ACE) bool, error) {
	groups, err := z.groupsOf(ctx, op.Caller.User)
	if err != nil {
		return nil, err
	}
	t := op.ViaTicket
	return func(p catalog.Path, acl []catalog.ACE) bool {
		return (t != nil && t.Covers(p)) || canRead(op.Caller.User, groups, z.name, acl)
	}, nil
}

// ownerFor is who owns what op creates at p: the caller; the owner of the
// ticket that allowed op, so that data written through a ticket stays in
// its owner's hands (and quota); or, for what an administrator creates in
// another user's home, that user (homeOwner).
func (z *Zone) ownerFor(ctx context.Context, op *Op, p catalog.Path) catalog.User {
	if t := op.ViaTicket; t != nil {
		return catalog.User{Name: t.Owner.Name, Zone: t.Owner.Zone}
	}
	return z.homeOwner(ctx, op.Caller.User, p)
}

// homeOwner is who owns what u creates at p. What an administrator creates
// (in admin mode, or registers) below the home of another user belongs to
// that user, and counts against her quota: she must see and remove what
// is in her home, which a rodsadmin's object, with no grant to her, would
// hide from her and keep her irm -r from removing. (iRODS makes the
// creator the owner; Arca's administrator acts on the user's behalf, as
// through a ticket.) Anything else belongs to u.
func (z *Zone) homeOwner(ctx context.Context, u catalog.User, p catalog.Path) catalog.User {
	if !isAdmin(u, z.name) {
		return u
	}
	home := catalog.MustPath("/" + z.name + "/home")
	if !p.HasPrefix(home) || p == home {
		return u
	}
	name := p.Rebase(home, catalog.MustPath("/")).Components()[0]
	if name == u.Name {
		return u
	}
	owner, err := z.cat.User(ctx, catalog.UserID{Name: name, Zone: z.name})
	if err != nil || owner.Type == catalog.UserTypeGroup {
		return u // no user's home: a collection an administrator made
	}
	return owner
}

// groupsOf returns the groups u belongs to (public, implicit, is not among
// them), from a short-lived cache: a permission check asks on every call.
func (z *Zone) groupsOf(ctx context.Context, u catalog.User) ([]catalog.UserID, error) {
	if isAnonymous(u) {
		return nil, nil
	}
	id, now := u.UserID(), time.Now()
	if gs, ok := z.groupCache.get(id, now); ok {
		return gs, nil
	}
	gs, err := z.cat.GroupsOf(ctx, id)
	if err != nil {
		return nil, err
	}
	z.groupCache.put(id, gs, now)
	return gs, nil
}
