package zones

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones/ldapauth"
)

// ErrUnauthenticated means a login failed or a session is missing, expired or ended.
var ErrUnauthenticated = errors.New("not authenticated")

// Login checks a password, natively or with the LDAP directory as the
// user's record says (see LDAPLogin), and opens a session. It returns the
// token, which the catalog never sees in clear, only its hash. Neither the
// password nor the token is ever logged.
//
// Failed logins are slowed down per account and per client host (see
// loginThrottle); a little jitter hides which check failed.
func (z *Zone) Login(ctx context.Context, id catalog.UserID, password string) (string, catalog.Session, catalog.User, error) {
	host := clientHost(ctx)
	try, err := z.throttle.admit(ctx, id, host)
	if err != nil {
		return "", catalog.Session{}, catalog.User{}, err
	}
	defer try.release()
	auth := catalog.AuthNative
	fail := func(reason error) (string, catalog.Session, catalog.User, error) {
		z.log.Info("login refused", "user", id.String(), "auth", auth.String(), "host", host, "reason", reason.Error())
		// Not cut short by the caller's cancellation: the account stays
		// held for the whole delay.
		time.Sleep(try.failed() + time.Duration(mrand.Int64N(int64(100*time.Millisecond))))
		if errors.Is(reason, ldapauth.ErrUnavailable) {
			return "", catalog.Session{}, catalog.User{}, ErrDirectoryUnavailable
		}
		if errors.Is(reason, rules.ErrDenied) {
			// Only who knows the password gets this far: the rule's
			// message tells them why.
			return "", catalog.Session{}, catalog.User{}, fmt.Errorf("login of %s refused: %w", id, reason)
		}
		return "", catalog.Session{}, catalog.User{}, fmt.Errorf("%w: wrong user name or password for %s", ErrUnauthenticated, id)
	}
	if password == "" {
		return fail(errors.New("empty password"))
	}
	u, err := z.cat.User(ctx, id)
	switch {
	case errors.Is(err, catalog.ErrNotFound) && z.ldap != nil && z.ldap.Provision:
		auth = catalog.AuthLDAP
		if u, err = z.ldapLogin(ctx, id, password, nil); err != nil {
			return fail(err)
		}
	case errors.Is(err, catalog.ErrNotFound):
		// Spend the same time as a real check, so timing does not reveal
		// which user names exist.
		CheckPassword(z.dummyHash, password)
		return fail(errors.New("no such user"))
	case err != nil:
		return "", catalog.Session{}, catalog.User{}, err
	case u.Type == catalog.UserTypeGroup:
		return fail(errors.New("a group cannot log in"))
	case u.Auth == catalog.AuthLDAP:
		auth = catalog.AuthLDAP
		if z.ldap == nil {
			return fail(errors.New("the user authenticates with LDAP, and this server has no LDAP directory configured"))
		}
		if u, err = z.ldapLogin(ctx, id, password, &u); err != nil {
			return fail(err)
		}
	case u.PasswordHash == "":
		return fail(errors.New("the user has no password"))
	case !CheckPassword(u.PasswordHash, password):
		return fail(errors.New("wrong password"))
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", catalog.Session{}, catalog.User{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := time.Now().UTC()
	s := catalog.Session{TokenHash: hashToken(token), User: id, CreateTime: now, Expires: now.Add(z.sessionTTL)}
	if err := z.cat.CreateSession(ctx, s); err != nil {
		return "", catalog.Session{}, catalog.User{}, fmt.Errorf("open session: %w", err)
	}
	try.succeeded()
	z.log.Info("login", "user", id.String(), "auth", auth.String(), "host", host, "expires", s.Expires.Format(time.RFC3339))
	return token, s, u, nil
}

// hashToken is what the catalog stores of a token. Tokens are 256 random
// bits, so a fast hash is enough: there is nothing to guess.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the user behind a session token.
func (z *Zone) Authenticate(ctx context.Context, token string) (catalog.User, error) {
	if token == "" {
		return catalog.User{}, fmt.Errorf("%w: no session token; run iinit", ErrUnauthenticated)
	}
	h, now := hashToken(token), time.Now()
	if u, ok := z.sessions.get(h, now); ok {
		return u, nil
	}
	s, err := z.cat.Session(ctx, h)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.User{}, fmt.Errorf("%w: the session has ended; run iinit", ErrUnauthenticated)
	}
	if err != nil {
		return catalog.User{}, err
	}
	if time.Now().After(s.Expires) {
		return catalog.User{}, fmt.Errorf("%w: the session expired at %s; run iinit", ErrUnauthenticated, s.Expires.Format(time.RFC3339))
	}
	u, err := z.cat.User(ctx, s.User)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.User{}, fmt.Errorf("%w: user %s no longer exists", ErrUnauthenticated, s.User)
	}
	if err != nil {
		return catalog.User{}, err
	}
	z.sessions.put(h, u, s.Expires, now)
	return u, nil
}

// Logout ends the session of token, or with all every session of its user.
func (z *Zone) Logout(ctx context.Context, caller catalog.User, token string, all bool) (int, error) {
	var n int
	err := z.do(ctx, &Op{Name: "logout", Caller: caller}, func(ctx context.Context) error {
		if all {
			z.sessions.forget("", caller.UserID())
			var err error
			n, err = z.cat.RemoveSessions(ctx, caller.UserID())
			return err
		}
		n = 1
		z.sessions.forget(hashToken(token), caller.UserID())
		return z.cat.RemoveSession(ctx, hashToken(token))
	})
	return n, err
}

// MakeUser creates an account with its home and trash collections.
func (z *Zone) MakeUser(ctx context.Context, caller catalog.User, name string, typ catalog.UserType, password string) (catalog.User, error) {
	var u catalog.User
	err := z.do(ctx, &Op{Name: "user.create", Caller: caller}, func(ctx context.Context) error {
		if err := catalog.ValidateUserName(name); err != nil {
			return err
		}
		if name == PublicGroup {
			return fmt.Errorf("%w: %q is reserved", catalog.ErrInvalidName, name)
		}
		// A home left behind by someone else would not be the new user's:
		// refuse, as iRODS does, rather than make an account locked out of
		// its own home.
		for _, p := range []catalog.Path{z.Home(name), z.TrashHome(name)} {
			if _, err := z.cat.Stat(ctx, p); err == nil {
				return fmt.Errorf("create user %s: %s: %w; remove or rename it first", name, p, catalog.ErrExists)
			} else if !errors.Is(err, catalog.ErrNotFound) {
				return err
			}
		}
		hash := ""
		if password != "" {
			var err error
			if hash, err = HashPassword(password); err != nil {
				return err
			}
		}
		var err error
		u, err = z.cat.CreateUser(ctx, catalog.User{Name: name, Zone: z.name, Type: typ, PasswordHash: hash})
		if err != nil {
			return err
		}
		return z.ensureHome(ctx, u.UserID())
	})
	return u, err
}

// ModifyUser changes one field of an account: password, type, info or auth
// (native or ldap: what checks the password at login).
func (z *Zone) ModifyUser(ctx context.Context, caller catalog.User, name, field, value string) (catalog.User, error) {
	var u catalog.User
	err := z.do(ctx, &Op{Name: "user.modify", Caller: caller}, func(ctx context.Context) error {
		var err error
		if u, err = z.cat.User(ctx, catalog.UserID{Name: name, Zone: z.name}); err != nil {
			return err
		}
		switch field {
		case "password":
			if value == "" {
				return fmt.Errorf("%w: empty password", catalog.ErrInvalidArgument)
			}
			if u.Type == catalog.UserTypeGroup {
				return fmt.Errorf("%w: %s is a group; groups do not log in", catalog.ErrInvalidArgument, u.Name)
			}
			if u.Auth == catalog.AuthLDAP {
				return fmt.Errorf("%w: %s logs in with LDAP, whose directory holds the password (iadmin moduser %s auth native first)", catalog.ErrInvalidArgument, u.Name, u.Name)
			}
			if u.PasswordHash, err = HashPassword(value); err != nil {
				return err
			}
		case "type":
			typ, err := catalog.ParseUserType(value)
			if err != nil {
				return err
			}
			if err := z.checkTypeChange(u, caller, typ); err != nil {
				return err
			}
			u.Type = typ
		case "info":
			u.Info = value
		case "auth":
			if u.Type == catalog.UserTypeGroup {
				return fmt.Errorf("%w: %s is a group; groups do not log in", catalog.ErrInvalidArgument, u.Name)
			}
			auth, err := catalog.ParseAuthSource(value)
			if err != nil {
				return err
			}
			if auth != catalog.AuthNative && u.Name == DefaultAdmin {
				// The way in when the directory is down or misconfigured.
				return fmt.Errorf("%w: %s logs in with Arca's own password, always", catalog.ErrPermission, u.UserID())
			}
			if auth == catalog.AuthLDAP && z.ldap == nil {
				return fmt.Errorf("%w: this server has no LDAP directory (--ldap-url): %s could not log in", catalog.ErrInvalidArgument, u.Name)
			}
			u.Auth = auth
			if u.Auth == catalog.AuthLDAP {
				u.PasswordHash = "" // Arca keeps no password of a directory user
			}
		default:
			return fmt.Errorf("%w: cannot modify %q of a user (want password, type, info or auth)", catalog.ErrInvalidArgument, field)
		}
		if err := z.cat.UpdateUser(ctx, u); err != nil {
			return err
		}
		z.sessions.forget("", u.UserID()) // the cached copy has the old type
		if field == "password" || field == "auth" {
			_, err = z.cat.RemoveSessions(ctx, u.UserID())
		}
		return err
	})
	return u, err
}

// ChangePassword sets the caller's own password (ipasswd). The current one
// must be given and is checked as a login is, throttled alike: a session
// token left on a shared machine is not enough to take the account over.
// Every session of the caller ends, as with iadmin moduser password.
func (z *Zone) ChangePassword(ctx context.Context, caller catalog.User, current, next string) error {
	return z.do(ctx, &Op{Name: "user.password", Caller: caller}, func(ctx context.Context) error {
		if caller.Auth == catalog.AuthLDAP {
			return fmt.Errorf("%w: %s logs in with LDAP: change the password in the directory", catalog.ErrInvalidArgument, caller.Name)
		}
		if next == "" {
			return fmt.Errorf("%w: empty password", catalog.ErrInvalidArgument)
		}
		if _, _, _, err := z.Login(ctx, caller.UserID(), current); err != nil {
			return err
		}
		u, err := z.cat.User(ctx, caller.UserID())
		if err != nil {
			return err
		}
		if u.PasswordHash, err = HashPassword(next); err != nil {
			return err
		}
		if err := z.cat.UpdateUser(ctx, u); err != nil {
			return err
		}
		z.sessions.forget("", u.UserID())
		_, err = z.cat.RemoveSessions(ctx, u.UserID())
		return err
	})
}

// checkTypeChange refuses the type changes that would leave the zone
// without its administrator or turn a group into an account: rods stays
// rodsadmin, an administrator does not demote itself, and a group's type
// is not a user type.
func (z *Zone) checkTypeChange(u, caller catalog.User, typ catalog.UserType) error {
	switch {
	case typ == u.Type:
		return nil
	case u.Type == catalog.UserTypeGroup:
		return fmt.Errorf("%w: %s is a group, not an account", catalog.ErrInvalidArgument, u.Name)
	case u.Name == DefaultAdmin:
		return fmt.Errorf("%w: %s is the zone's administrator and stays %s", catalog.ErrPermission, u.UserID(), catalog.UserTypeAdmin)
	case u.UserID() == caller.UserID():
		return fmt.Errorf("%w: an administrator cannot change its own type; another one can", catalog.ErrPermission)
	}
	return nil
}

// RemoveUser deletes an account whose home and trash are empty and that
// owns nothing elsewhere.
func (z *Zone) RemoveUser(ctx context.Context, caller catalog.User, name string) error {
	return z.do(ctx, &Op{Name: "user.remove", Caller: caller}, func(ctx context.Context) error {
		id := catalog.UserID{Name: name, Zone: z.name}
		if name == DefaultAdmin || id == caller.UserID() {
			return fmt.Errorf("%w: %s cannot be removed", catalog.ErrPermission, id)
		}
		if u, err := z.cat.User(ctx, id); err != nil {
			return err
		} else if u.Type == catalog.UserTypeGroup {
			return fmt.Errorf("%w: %s is a group; use rmgroup", catalog.ErrInvalidArgument, id)
		}
		// Check both before removing either, so a refusal changes nothing.
		for _, p := range []catalog.Path{z.Home(name), z.TrashHome(name)} {
			objs, err := z.cat.ListObjects(ctx, p, "", 1)
			if errors.Is(err, catalog.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			colls, err := z.cat.ListCollections(ctx, p, "", 1)
			if err != nil {
				return err
			}
			if len(objs)+len(colls) > 0 {
				return fmt.Errorf("remove user %s: %s: %w", name, p, catalog.ErrNotEmpty)
			}
		}
		// Owners are kept by name: what the account still owns elsewhere
		// would belong to the next account of that name.
		if owned, err := z.ownedBy(ctx, caller, id); err != nil {
			return err
		} else if owned != "" {
			return fmt.Errorf("remove user %s: %w: it still owns %s; remove what it owns first", name, catalog.ErrNotEmpty, owned)
		}
		for _, p := range []catalog.Path{z.Home(name), z.TrashHome(name)} {
			if _, err := z.cat.RemoveCollection(ctx, p, false); err != nil && !errors.Is(err, catalog.ErrNotFound) {
				return fmt.Errorf("remove user %s: %w", name, err)
			}
		}
		z.sessions.forget("", id)
		z.groupCache.forget(id)
		if _, err := z.cat.RemoveSessions(ctx, id); err != nil {
			return err
		}
		if err := z.cat.RemoveUser(ctx, id); err != nil {
			return err
		}
		return z.forgetInTickets(ctx, id)
	})
}

// forgetInTickets takes the removed user or group id off the tickets that
// name it among those who may use them: tickets keep names, and the next
// account of that name must not inherit the place. A ticket left naming
// nobody ends, rather than opening to everyone.
func (z *Zone) forgetInTickets(ctx context.Context, id catalog.UserID) error {
	all, err := z.cat.ListTickets(ctx, catalog.UserID{})
	if err != nil {
		return fmt.Errorf("tickets naming %s: %w", id, err)
	}
	for _, t := range all {
		users := slices.DeleteFunc(slices.Clone(t.Users), func(u catalog.UserID) bool { return u == id })
		groups := slices.DeleteFunc(slices.Clone(t.Groups), func(g catalog.UserID) bool { return g == id })
		switch {
		case len(users) == len(t.Users) && len(groups) == len(t.Groups):
			continue
		case len(users)+len(groups) == 0:
			err = z.cat.RemoveTicket(ctx, t.ID)
		default:
			t.Users, t.Groups = users, groups
			err = z.cat.UpdateTicket(ctx, t)
		}
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("ticket %d naming %s: %w", t.ID, id, err)
		}
	}
	return nil
}

// ownedBy returns the path of a data object or collection that id owns
// outside its home and trash, or "" when there is none.
func (z *Zone) ownedBy(ctx context.Context, caller catalog.User, id catalog.UserID) (string, error) {
	who := catalog.Caller{User: caller.UserID(), Admin: true}
	// User and zone names hold no quotes (catalog.ValidateUserName).
	for _, text := range []string{
		fmt.Sprintf("select COLL_NAME, DATA_NAME where DATA_OWNER_NAME = '%s' and DATA_OWNER_ZONE = '%s' limit 1", id.Name, id.Zone),
		fmt.Sprintf("select COLL_NAME where COLL_OWNER_NAME = '%s' and COLL_OWNER_ZONE = '%s' and COLL_NAME <> '%s' and COLL_NAME <> '%s' limit 1",
			id.Name, id.Zone, z.TrashHome(id.Name), z.Home(id.Name)),
	} {
		q, err := query.Parse(text)
		if err != nil {
			return "", err
		}
		var found string
		err = z.cat.Query(ctx, q, who, func(row []string) error {
			found = strings.Join(row, "/")
			return nil
		})
		if err != nil || found != "" {
			return found, err
		}
	}
	return "", nil
}

// ListUsers returns every account but groups, as iadmin lu (iadmin lg
// lists groups).
func (z *Zone) ListUsers(ctx context.Context, caller catalog.User) ([]catalog.User, error) {
	var users []catalog.User
	err := z.do(ctx, &Op{Name: "user.list", Caller: caller}, func(ctx context.Context) error {
		all, err := z.cat.Users(ctx)
		for _, u := range all {
			if u.Type != catalog.UserTypeGroup {
				users = append(users, u)
			}
		}
		return err
	})
	return users, err
}
