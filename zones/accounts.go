package zones

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
	"github.com/arca-data/arca/internal/passwordhash"
)

// ErrUnauthenticated means a login failed or a session is missing, expired or ended.
var ErrUnauthenticated = errors.New("not authenticated")

// Logout ends the session whose token hashes to tokenHash, or with all
// every session of the caller.
func (z *Zone) Logout(ctx context.Context, caller Principal, tokenHash string, all bool) (int, error) {
	var n int
	err := z.do(ctx, &Op{Name: "logout", Caller: caller, Account: caller.UserID()}, func(ctx context.Context) error {
		if all {
			var err error
			n, err = z.cat.RemoveSessions(ctx, caller.UserID())
			return err
		}
		n = 1
		return z.cat.RemoveSession(ctx, tokenHash)
	})
	return n, err
}

// MakeUser creates an account with its home and trash collections.
func (z *Zone) MakeUser(ctx context.Context, caller Principal, name string, typ catalog.UserType, password string) (catalog.User, error) {
	var u catalog.User
	err := z.do(ctx, &Op{Name: "user.create", Caller: caller, Account: catalog.UserID{Name: name, Zone: z.name}}, func(ctx context.Context) error {
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
			if hash, err = passwordhash.Hash(password); err != nil {
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
func (z *Zone) ModifyUser(ctx context.Context, caller Principal, name, field, value string) (catalog.User, error) {
	var u catalog.User
	err := z.do(ctx, &Op{Name: "user.modify", Caller: caller, Account: catalog.UserID{Name: name, Zone: z.name}}, func(ctx context.Context) error {
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
			if u.PasswordHash, err = passwordhash.Hash(value); err != nil {
				return err
			}
		case "type":
			typ, err := catalog.ParseUserType(value)
			if err != nil {
				return err
			}
			if err := z.checkTypeChange(As(u), caller, typ); err != nil {
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
			if auth == catalog.AuthLDAP && !z.directory {
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
		if field == "password" || field == "auth" {
			_, err = z.cat.RemoveSessions(ctx, u.UserID())
		}
		return err
	})
	return u, err
}

// ChangePassword sets the caller's own password (ipasswd) to the one
// newHash holds. checkCurrent checks the current password as a login does,
// throttled alike (zones/auth), so that a session token left on a shared
// machine is not enough to take the account over; it runs only once the
// operation is allowed. Every session of the caller ends, as with iadmin
// moduser password.
func (z *Zone) ChangePassword(ctx context.Context, caller Principal, checkCurrent func(ctx context.Context) error, newHash string) error {
	return z.do(ctx, &Op{Name: "user.password", Caller: caller, Account: caller.UserID()}, func(ctx context.Context) error {
		if caller.Auth == catalog.AuthLDAP {
			return fmt.Errorf("%w: %s logs in with LDAP: change the password in the directory", catalog.ErrInvalidArgument, caller.Name)
		}
		if newHash == "" {
			return fmt.Errorf("%w: empty password", catalog.ErrInvalidArgument)
		}
		if err := checkCurrent(ctx); err != nil {
			return err
		}
		u, err := z.cat.User(ctx, caller.UserID())
		if err != nil {
			return err
		}
		u.PasswordHash = newHash
		if err := z.cat.UpdateUser(ctx, u); err != nil {
			return err
		}
		_, err = z.cat.RemoveSessions(ctx, u.UserID())
		return err
	})
}

// checkTypeChange refuses the type changes that would leave the zone
// without its administrator or turn a group into an account: rods stays
// rodsadmin, an administrator does not demote itself, and a group's type
// is not a user type.
func (z *Zone) checkTypeChange(u, caller Principal, typ catalog.UserType) error {
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
func (z *Zone) RemoveUser(ctx context.Context, caller Principal, name string) error {
	return z.do(ctx, &Op{Name: "user.remove", Caller: caller, Account: catalog.UserID{Name: name, Zone: z.name}}, func(ctx context.Context) error {
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
func (z *Zone) ownedBy(ctx context.Context, caller Principal, id catalog.UserID) (string, error) {
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
func (z *Zone) ListUsers(ctx context.Context, caller Principal) ([]catalog.User, error) {
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
