package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
	ldapauth "github.com/arca-data/arca/zones/auth/ldap"
)

// ErrDirectoryUnavailable means a login needed the LDAP directory and could
// not reach it. The client hears only this; the server logs the cause.
var ErrDirectoryUnavailable error = directoryUnavailable{}

type directoryUnavailable struct{}

func (directoryUnavailable) Error() string {
	return "the LDAP directory is unavailable; try again later"
}

// ErrorKind makes every transport answer "unavailable" (see zones.KindOf).
func (directoryUnavailable) ErrorKind() zones.ErrorKind { return zones.KindUnavailable }

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

// Recheck is RecheckInterval with its default.
func (l *LDAPLogin) Recheck() time.Duration {
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
func (a *Authenticator) RecheckLDAPSessions(ctx context.Context) (int, error) {
	if a.ldap == nil {
		return 0, nil
	}
	ids, err := a.cat.SessionUsers(ctx, time.Now())
	if err != nil {
		return 0, err
	}
	ended := 0
	for _, id := range ids {
		if id.Zone != a.zone.Name() {
			continue
		}
		u, err := a.cat.User(ctx, id)
		if errors.Is(err, catalog.ErrNotFound) {
			continue // removed meanwhile, sessions with it
		}
		if err != nil {
			return ended, err
		}
		if u.Auth != catalog.AuthLDAP || u.Type == catalog.UserTypeGroup {
			continue
		}
		ok, err := a.ldap.Directory.Exists(ctx, id.Name)
		if err != nil {
			return ended, fmt.Errorf("look up %s in the directory: %w", id, err)
		}
		if ok {
			continue
		}
		n, err := a.cat.RemoveSessions(ctx, id)
		if err != nil {
			return ended, err
		}
		a.sessions.forget("", id)
		ended++
		a.log.Info("ended the sessions of a user the LDAP directory no longer holds", "user", id.String(), "sessions", n)
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

// arcaGroups maps directory groups to the Arca groups they become; the
// zone skips names it cannot hold.
func (l *LDAPLogin) arcaGroups(dirGroups []string) map[string]string {
	out := map[string]string{}
	for _, g := range dirGroups {
		if name, ok := l.arcaGroup(g); ok {
			out[name] = g
		}
	}
	return out
}

// Run ends, every RecheckInterval, the sessions of LDAP users the
// directory no longer holds, until ctx ends. Without a directory it
// returns at once.
func (a *Authenticator) Run(ctx context.Context) {
	if a.ldap == nil {
		return
	}
	t := time.NewTicker(a.ldap.Recheck())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := a.RecheckLDAPSessions(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("re-check LDAP users with sessions", "err", err)
			}
		}
	}
}

// ldapLogin checks id's password with the directory, provisions the user
// when existing is nil, and brings their group memberships in line with
// the directory.
func (a *Authenticator) ldapLogin(ctx context.Context, id catalog.UserID, password string, existing *catalog.User) (catalog.User, error) {
	if existing == nil && (id.Name == zones.AnonymousUser || id.Name == zones.PublicGroup) {
		// Names with a meaning of their own are never accounts from a directory.
		return catalog.User{}, fmt.Errorf("%w: %s is reserved", ldapauth.ErrInvalidCredentials, id.Name)
	}
	ident, err := a.ldap.Directory.Authenticate(ctx, id.Name, password)
	if err != nil {
		return catalog.User{}, err
	}
	var u catalog.User
	if existing != nil {
		u = *existing
	} else if u, err = a.zone.ProvisionUser(ctx, id, ident.DN); err != nil {
		return catalog.User{}, err
	}
	if ident.Groups != nil {
		if err := a.zone.SyncDirectoryGroups(ctx, u, a.ldap.arcaGroups(ident.Groups)); err != nil {
			return catalog.User{}, fmt.Errorf("groups of %s: %w", id, err)
		}
	}
	return u, nil
}
