package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
)

// Bounds of the password cache of HTTP Basic logins.
const (
	// passwordCacheTTL is how long a password that logged in is answered
	// with the session it opened, without argon2id. A changed password,
	// a changed or removed account and a logout drop it at once on this
	// server; on the others the session's removal ends it within
	// sessionCacheTTL.
	passwordCacheTTL = 5 * time.Minute
	// passwordCacheEntries bounds the memory: past it, expired entries go,
	// then all of them.
	passwordCacheEntries = 10_000
)

// passwordCache maps a user's password, as HTTP Basic sends it with every
// request, to the session its login opened, so that a WebDAV client's
// hundreds of requests cost one argon2id check, not one each. It never
// holds a password: an entry's key is an HMAC of user and password under a
// key that lives only in this process. A password it does not know (a
// wrong one included) goes to Login, throttled as every login.
// Concurrent requests with the same credentials share one login.
type passwordCache struct {
	key      []byte
	mu       sync.Mutex
	entries  map[string]passwordEntry
	inflight map[string]*passwordLogin
	// gen counts the forgetUser calls: a login that began before one
	// does not cache its session.
	gen uint64
}

type passwordEntry struct {
	user    catalog.UserID
	token   string
	expires time.Time // the earlier of the session's end and passwordCacheTTL
}

// passwordLogin is a login under way that requests with the same
// credentials wait for.
type passwordLogin struct {
	done  chan struct{}
	token string
	err   error
}

func newPasswordCache() *passwordCache {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand, Go 1.24 and later)
	return &passwordCache{key: key, entries: map[string]passwordEntry{}, inflight: map[string]*passwordLogin{}}
}

func (c *passwordCache) keyOf(id catalog.UserID, password string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(id.String()))
	m.Write([]byte{0})
	m.Write([]byte(password))
	return string(m.Sum(nil))
}

// token returns the session of id's password: the cached one, the one a
// concurrent login with the same credentials opens, or one that login
// opens now.
func (c *passwordCache) token(ctx context.Context, id catalog.UserID, password string, login func(context.Context) (string, time.Time, error)) (string, error) {
	k := c.keyOf(id, password)
	for {
		now := time.Now()
		c.mu.Lock()
		if e, ok := c.entries[k]; ok && now.Before(e.expires) {
			c.mu.Unlock()
			return e.token, nil
		}
		if l, ok := c.inflight[k]; ok {
			c.mu.Unlock()
			select {
			case <-l.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if l.err != nil && ctx.Err() == nil &&
				(errors.Is(l.err, context.Canceled) || errors.Is(l.err, context.DeadlineExceeded)) {
				continue // the request that logged in went away: log in here
			}
			return l.token, l.err
		}
		l := &passwordLogin{done: make(chan struct{})}
		c.inflight[k] = l
		gen := c.gen
		c.mu.Unlock()
		c.login(ctx, k, id, gen, l, login)
		return l.token, l.err
	}
}

// login runs do, the login, for the requests waiting on l, and caches the
// session it opened unless an account changed meanwhile (the session may
// be one that the change ended).
func (c *passwordCache) login(ctx context.Context, k string, id catalog.UserID, gen uint64, l *passwordLogin, do func(context.Context) (string, time.Time, error)) {
	l.err = errors.New("the login did not finish")
	var sessionEnd time.Time
	defer func() {
		c.mu.Lock()
		delete(c.inflight, k)
		if l.err == nil && gen == c.gen {
			expires := time.Now().Add(passwordCacheTTL)
			if sessionEnd.Before(expires) {
				expires = sessionEnd
			}
			c.putLocked(k, passwordEntry{user: id, token: l.token, expires: expires})
		}
		c.mu.Unlock()
		close(l.done)
	}()
	l.token, sessionEnd, l.err = do(ctx)
}

// putLocked adds e under k; c.mu is held.
func (c *passwordCache) putLocked(k string, e passwordEntry) {
	if len(c.entries) >= passwordCacheEntries {
		now := time.Now()
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= passwordCacheEntries {
			clear(c.entries)
		}
	}
	c.entries[k] = e
}

// forget drops the entry of id's password.
func (c *passwordCache) forget(id catalog.UserID, password string) {
	k := c.keyOf(id, password)
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

// forgetUser drops every entry of user.
func (c *passwordCache) forgetUser(user catalog.UserID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.entries {
		if e.user == user {
			delete(c.entries, k)
		}
	}
}

// forgetToken drops the entries whose session is token.
func (c *passwordCache) forgetToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.token == token {
			delete(c.entries, k)
		}
	}
}

// PasswordSession returns a session token of id for password, as HTTP
// Basic presents them with every request: the session of an earlier login
// with the same password while it lasts (at most passwordCacheTTL), else
// the session of a new Login (throttled, logged, as every login). A wrong
// password is never answered from the cache. A changed password, a
// changed or removed account and a logout end the reuse at once.
func (a *Authenticator) PasswordSession(ctx context.Context, id catalog.UserID, password, host string) (string, error) {
	return a.passwords.token(ctx, id, password, func(ctx context.Context) (string, time.Time, error) {
		token, s, _, err := a.Login(ctx, id, password, host)
		return token, s.Expires, err
	})
}

// ForgetPasswordSession stops reusing the session of id's password (its
// session ended, say): the next PasswordSession logs in anew.
func (a *Authenticator) ForgetPasswordSession(id catalog.UserID, password string) {
	a.passwords.forget(id, password)
}
