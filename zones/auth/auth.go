// Package auth establishes who calls: it checks passwords (argon2id, or an
// LDAP directory through auth/ldap), throttles failed logins, opens and
// checks sessions, and hands the transports an explicit zones.Principal.
// It sits above the zone: what a login changes in the zone (a provisioned
// account, directory groups) goes through the zone's dispatcher.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/passwordhash"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
	ldapauth "github.com/arca-data/arca/zones/auth/ldap"
)

// DefaultSessionTTL is how long a session lasts unless configured.
const DefaultSessionTTL = 8 * time.Hour

// Options configures an Authenticator.
type Options struct {
	// SessionTTL is how long a session lasts; 0 is DefaultSessionTTL.
	SessionTTL time.Duration
	// LDAP, if set, logs users in with a directory as well.
	LDAP   *LDAPLogin
	Logger *slog.Logger
}

// Authenticator logs users in to one zone and finds the user behind a
// session token.
type Authenticator struct {
	zone       *zones.Zone
	cat        catalog.Catalog
	log        *slog.Logger
	sessionTTL time.Duration
	sessions   sessionCache
	passwords  *passwordCache // HTTP Basic: password to session (basic.go)
	throttle   *loginThrottle
	ldap       *LDAPLogin
	// dummyHash is checked when a login names no user, so that a failed
	// login takes as long whether or not the user exists.
	dummyHash string
}

// New returns the authenticator of zone. It watches the zone's operations
// so that a changed or removed account, or a logout, drops its cached
// sessions at once.
func New(zone *zones.Zone, opts Options) *Authenticator {
	if opts.SessionTTL == 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	boot := make([]byte, 12)
	rand.Read(boot)
	dummy, _ := passwordhash.Hash(hex.EncodeToString(boot))
	a := &Authenticator{
		zone:       zone,
		cat:        zone.Catalog(),
		log:        opts.Logger,
		sessionTTL: opts.SessionTTL,
		passwords:  newPasswordCache(),
		throttle:   newLoginThrottle(),
		ldap:       opts.LDAP,
		dummyHash:  dummy,
	}
	zone.AddHook(accountWatch{a})
	return a
}

// Principal is who calls with token, ticket and host. A call that presents
// a ticket without a valid session runs as the anonymous user, which may do
// only what the ticket allows (the zone decides).
func (a *Authenticator) Principal(ctx context.Context, token, ticket, host string) (zones.Principal, error) {
	u, err := a.Authenticate(ctx, token)
	if err != nil && ticket != "" && errors.Is(err, zones.ErrUnauthenticated) {
		u, err = a.zone.Anonymous(), nil
	}
	if err != nil {
		return zones.Principal{}, err
	}
	return zones.Principal{User: u, Ticket: ticket, Host: host}, nil
}

// Logout ends the session of token, or with all every session of the
// caller's user.
func (a *Authenticator) Logout(ctx context.Context, who zones.Principal, token string, all bool) (int, error) {
	n, err := a.zone.Logout(ctx, who, HashToken(token), all)
	if err == nil {
		if all {
			a.sessions.forget("", who.UserID())
			a.passwords.forgetUser(who.UserID())
		} else {
			a.sessions.forget(HashToken(token), who.UserID())
			a.passwords.forgetToken(token)
		}
	}
	return n, err
}

// ChangePassword sets the caller's own password (ipasswd) after checking
// the current one as a login, throttled alike.
func (a *Authenticator) ChangePassword(ctx context.Context, who zones.Principal, current, next string) error {
	hash := ""
	if next != "" {
		var err error
		if hash, err = passwordhash.Hash(next); err != nil {
			return err
		}
	}
	check := func(ctx context.Context) error {
		_, _, _, err := a.Login(ctx, who.UserID(), current, who.Host)
		return err
	}
	return a.zone.ChangePassword(ctx, who, check, hash)
}

// accountWatch forgets the cached sessions and passwords of an account that
// an operation changed or removed, on this server at once; other servers of
// the zone notice within sessionCacheTTL (the operation removed the
// account's sessions from the catalog).
type accountWatch struct{ a *Authenticator }

func (accountWatch) Before(context.Context, *zones.Op) error { return nil }

func (w accountWatch) After(_ context.Context, op *zones.Op, err error) {
	if err != nil || op.Account == (catalog.UserID{}) {
		return
	}
	switch op.Name {
	case "user.modify", "user.remove", "user.password":
		w.a.sessions.forget("", op.Account)
		w.a.passwords.forgetUser(op.Account)
	}
}

// Login checks a password, natively or with the LDAP directory as the
// user's record says (see LDAPLogin), and opens a session. host is the
// client's address, for the throttle and the log. It returns the
// token, which the catalog never sees in clear, only its hash. Neither the
// password nor the token is ever logged.
//
// Failed logins are slowed down per account and per client host (see
// loginThrottle); a little jitter hides which check failed.
func (a *Authenticator) Login(ctx context.Context, id catalog.UserID, password, host string) (string, catalog.Session, catalog.User, error) {
	try, err := a.throttle.admit(ctx, id, host)
	if err != nil {
		return "", catalog.Session{}, catalog.User{}, err
	}
	defer try.release()
	source := catalog.AuthNative
	fail := func(reason error) (string, catalog.Session, catalog.User, error) {
		a.log.Info("login refused", "user", id.String(), "auth", source.String(), "host", host, "reason", reason.Error())
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
		return "", catalog.Session{}, catalog.User{}, fmt.Errorf("%w: wrong user name or password for %s", zones.ErrUnauthenticated, id)
	}
	if password == "" {
		return fail(errors.New("empty password"))
	}
	u, err := a.cat.User(ctx, id)
	switch {
	case errors.Is(err, catalog.ErrNotFound) && a.ldap != nil && a.ldap.Provision:
		source = catalog.AuthLDAP
		if u, err = a.ldapLogin(ctx, id, password, nil); err != nil {
			return fail(err)
		}
	case errors.Is(err, catalog.ErrNotFound):
		// Spend the same time as a real check, so timing does not reveal
		// which user names exist.
		passwordhash.Check(a.dummyHash, password)
		return fail(errors.New("no such user"))
	case err != nil:
		return "", catalog.Session{}, catalog.User{}, err
	case u.Type == catalog.UserTypeGroup:
		return fail(errors.New("a group cannot log in"))
	case u.Auth == catalog.AuthLDAP:
		source = catalog.AuthLDAP
		if a.ldap == nil {
			return fail(errors.New("the user authenticates with LDAP, and this server has no LDAP directory configured"))
		}
		if u, err = a.ldapLogin(ctx, id, password, &u); err != nil {
			return fail(err)
		}
	case u.PasswordHash == "":
		return fail(errors.New("the user has no password"))
	case !passwordhash.Check(u.PasswordHash, password):
		return fail(errors.New("wrong password"))
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", catalog.Session{}, catalog.User{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := time.Now().UTC()
	s := catalog.Session{TokenHash: HashToken(token), User: id, CreateTime: now, Expires: now.Add(a.sessionTTL)}
	if err := a.cat.CreateSession(ctx, s); err != nil {
		return "", catalog.Session{}, catalog.User{}, fmt.Errorf("open session: %w", err)
	}
	try.succeeded()
	a.log.Info("login", "user", id.String(), "auth", source.String(), "host", host, "expires", s.Expires.Format(time.RFC3339))
	return token, s, u, nil
}

// HashToken is what the catalog stores of a token. Tokens are 256 random
// bits, so a fast hash is enough: there is nothing to guess.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the user behind a session token.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (catalog.User, error) {
	if token == "" {
		return catalog.User{}, fmt.Errorf("%w: no session token; run iinit", zones.ErrUnauthenticated)
	}
	h, now := HashToken(token), time.Now()
	if u, ok := a.sessions.get(h, now); ok {
		return u, nil
	}
	s, err := a.cat.Session(ctx, h)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.User{}, fmt.Errorf("%w: the session has ended; run iinit", zones.ErrUnauthenticated)
	}
	if err != nil {
		return catalog.User{}, err
	}
	if time.Now().After(s.Expires) {
		return catalog.User{}, fmt.Errorf("%w: the session expired at %s; run iinit", zones.ErrUnauthenticated, s.Expires.Format(time.RFC3339))
	}
	u, err := a.cat.User(ctx, s.User)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.User{}, fmt.Errorf("%w: user %s no longer exists", zones.ErrUnauthenticated, s.User)
	}
	if err != nil {
		return catalog.User{}, err
	}
	a.sessions.put(h, u, s.Expires, now)
	return u, nil
}
