package zones

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones/ldapauth"
)

// ErrDirectoryUnavailable means a login needed the LDAP directory and could
// not reach it. The client hears only this; the server logs the cause.
var ErrDirectoryUnavailable = errors.New("the LDAP directory is unavailable; try again later")

// Directory checks passwords against an LDAP directory (an *ldapauth.Client).
type Directory interface {
	Authenticate(ctx context.Context, name, password string) (ldapauth.Identity, error)
	// Exists reports whether a login of name would still find its entry.
	Exists(ctx context.Context, name string) (bool, error)
}

// DefaultLDAPRecheck is how often, by default, the users with live
// sessions are looked up in the directory.
const DefaultLDAPRecheck = 10 * time.Minute

// LDAPLogin is how a zone logs users in with a directory.
//
// Who is checked where: the user's record decides. A user whose auth is
// native (rods, and everyone made with iadmin mkuser) is checked against
// the argon2id hash only, never against the directory, so an entry in the
// directory with the same name cannot log in as them. A user whose auth is
// ldap is checked against the directory only; Arca stores no password of
// theirs. A name the zone does not know is tried against the directory
// only when Provision is on; a success creates the user (auth ldap, type
// rodsuser) with a home collection. With Provision off an administrator
// makes the account first: iadmin mkuser NAME rodsuser, then iadmin moduser
// NAME auth ldap.
type LDAPLogin struct {
	Directory Directory
	Provision bool
	// GroupMap maps directory group names to Arca group names. Empty: every
	// directory group becomes the Arca group of the same name (names Arca
	// cannot hold are skipped). Not empty: only the groups it names are
	// mapped.
	GroupMap map[string]string
	// RecheckInterval is how often the maintenance loop looks up, in the
	// directory, the LDAP users who have live sessions, and ends the
	// sessions of those no longer found (see RecheckLDAPSessions); 0 means
	// DefaultLDAPRecheck. A session is not checked against the directory
	// on every call: that would make the directory a part of every
	// request. So a user removed from the directory keeps working for at
	// most this long.
	RecheckInterval time.Duration
}

// recheckInterval is RecheckInterval with its default.
func (l *LDAPLogin) recheckInterval() time.Duration {
	if l.RecheckInterval > 0 {
		return l.RecheckInterval
	}
	return DefaultLDAPRecheck
}

// RecheckLDAPSessions looks up, in the directory, every LDAP user of the
// zone with a live session, and ends the sessions of those it no longer
// holds. It returns how many users lost their sessions. When the directory
// cannot be asked, nothing is ended: an unreachable directory is not a
// removal.
func (z *Zone) RecheckLDAPSessions(ctx context.Context) (int, error) {
	if z.ldap == nil {
		return 0, nil
	}
	ids, err := z.cat.SessionUsers(ctx, time.Now())
	if err != nil {
		return 0, err
	}
	ended := 0
	for _, id := range ids {
		if id.Zone != z.name {
			continue
		}
		u, err := z.cat.User(ctx, id)
		if errors.Is(err, catalog.ErrNotFound) {
			continue // removed meanwhile, sessions with it
		}
		if err != nil {
			return ended, err
		}
		if u.Auth != catalog.AuthLDAP || u.Type == catalog.UserTypeGroup {
			continue
		}
		ok, err := z.ldap.Directory.Exists(ctx, id.Name)
		if err != nil {
			return ended, fmt.Errorf("look up %s in the directory: %w", id, err)
		}
		if ok {
			continue
		}
		n, err := z.cat.RemoveSessions(ctx, id)
		if err != nil {
			return ended, err
		}
		z.sessions.forget("", id)
		ended++
		z.log.Info("ended the sessions of a user the LDAP directory no longer holds", "user", id.String(), "sessions", n)
	}
	return ended, nil
}

// arcaGroup is the Arca group a directory group maps to.
func (l *LDAPLogin) arcaGroup(name string) (string, bool) {
	if len(l.GroupMap) == 0 {
		return name, true
	}
	g, ok := l.GroupMap[name]
	return g, ok
}

// ldapLogin checks id's password with the directory, provisions the user
// when existing is nil, and brings their group memberships in line with
// the directory.
func (z *Zone) ldapLogin(ctx context.Context, id catalog.UserID, password string, existing *catalog.User) (catalog.User, error) {
	if existing == nil && (id.Name == AnonymousUser || id.Name == PublicGroup) {
		// Names with a meaning of their own are never accounts from a directory.
		return catalog.User{}, fmt.Errorf("%w: %s is reserved", ldapauth.ErrInvalidCredentials, id.Name)
	}
	ident, err := z.ldap.Directory.Authenticate(ctx, id.Name, password)
	if err != nil {
		return catalog.User{}, err
	}
	var u catalog.User
	if existing != nil {
		u = *existing
	} else if u, err = z.provision(ctx, id, ident); err != nil {
		return catalog.User{}, err
	}
	if ident.Groups != nil {
		if err := z.syncLDAPGroups(ctx, u, ident.Groups); err != nil {
			return catalog.User{}, fmt.Errorf("groups of %s: %w", id, err)
		}
	}
	return u, nil
}

// provision creates the account of a user the directory has just
// authenticated, with its home, as the operation "user.provision": the
// zone does it on the user's behalf (the caller is the user-to-be), no
// permission is needed beyond the directory's word, and rules may deny or
// annotate it.
func (z *Zone) provision(ctx context.Context, id catalog.UserID, ident ldapauth.Identity) (catalog.User, error) {
	u := catalog.User{Name: id.Name, Zone: id.Zone, Type: catalog.UserTypeUser, Auth: catalog.AuthLDAP, Info: "provisioned from LDAP"}
	op := &Op{Name: "user.provision", Caller: u, Path: z.Home(id.Name)}
	err := z.do(ctx, op, func(ctx context.Context) error {
		var err error
		u, err = z.cat.CreateUser(ctx, u)
		if errors.Is(err, catalog.ErrExists) {
			// Another login of the same user, or an administrator, was faster.
			if u, err = z.cat.User(ctx, id); err == nil && u.Auth != catalog.AuthLDAP {
				return fmt.Errorf("%w: %s was made a native account meanwhile", ldapauth.ErrInvalidCredentials, id)
			}
		}
		if err != nil {
			return fmt.Errorf("provision %s: %w", id, err)
		}
		// Post rules act as the user now stored, owner of the new home.
		op.Caller = u
		if err := z.ensureHome(ctx, id); err != nil {
			return fmt.Errorf("provision %s: %w", id, err)
		}
		z.log.Info("provisioned a user from LDAP", "user", id.String(), "dn", ident.DN)
		return nil
	})
	return u, err
}

// syncLDAPGroups makes user a member of the Arca groups its directory
// groups map to, creating missing ones, and takes it out of the groups the
// directory manages but no longer lists it in. A group the directory
// manages is marked auth ldap: made for a directory group, or filled from
// one. Groups made and filled only with iadmin are left alone.
//
// Each change is an operation done by the zone on the user's behalf:
// "group.sync.join" (Group: the Arca group, created if missing) and
// "group.sync.leave". A rule that denies one skips that change only: the
// login goes on, and the next login asks again.
func (z *Zone) syncLDAPGroups(ctx context.Context, user catalog.User, dirGroups []string) error {
	uid := user.UserID()
	defer z.groupCache.forget(uid)
	want := map[string]bool{}
	for _, g := range dirGroups {
		name, ok := z.ldap.arcaGroup(g)
		if !ok {
			continue
		}
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
		err := z.do(ctx, &Op{Name: "group.sync.join", Caller: user, Group: gid}, func(ctx context.Context) error {
			return z.joinLDAPGroup(ctx, uid, gid)
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
		err = z.do(ctx, &Op{Name: "group.sync.leave", Caller: user, Group: gid}, func(ctx context.Context) error {
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

// joinLDAPGroup adds user to gid, creating the group if missing and
// marking it as managed by the directory.
func (z *Zone) joinLDAPGroup(ctx context.Context, user, gid catalog.UserID) error {
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
