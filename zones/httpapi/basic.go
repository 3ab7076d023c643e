package httpapi

import (
	"context"
	"fmt"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// basicUser is the account HTTP Basic's user name names: "name" or
// "name#zone", of this zone only.
func (a *API) basicUser(user string) (catalog.UserID, error) {
	id, err := catalog.ParseUserID(user, a.zone.Name())
	if err != nil {
		return catalog.UserID{}, fmt.Errorf("HTTP Basic user name: %w", err)
	}
	if id.Zone != a.zone.Name() {
		return catalog.UserID{}, fmt.Errorf("%w: zone %q is not this zone (%q)", zones.ErrUnauthenticated, id.Zone, a.zone.Name())
	}
	return id, nil
}

// basicToken is the session of HTTP Basic credentials. WebDAV clients send
// the password with every request: zones/auth checks it with argon2id
// (throttled, as every login) once, and answers the same credentials with
// the same session for a few minutes (auth.PasswordSession).
func (a *API) basicToken(ctx context.Context, user, password, host string) (string, error) {
	id, err := a.basicUser(user)
	if err != nil {
		return "", err
	}
	return a.auth.PasswordSession(ctx, id, password, host)
}

// forgetBasic stops reusing the session of the credentials.
func (a *API) forgetBasic(user, password string) {
	if id, err := a.basicUser(user); err == nil {
		a.auth.ForgetPasswordSession(id, password)
	}
}
