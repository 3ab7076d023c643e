package auth

import (
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
)

// sessionCacheTTL is how long a server trusts a session it has checked
// without asking the catalog again. It bounds how late another server of the
// zone notices a logout or a removed user; on this server both take effect
// at once.
const sessionCacheTTL = 5 * time.Second

// sessionCache remembers recently authenticated tokens, so that a burst of
// requests (an iput -r of many files) does not query the catalog for the
// session and the user on every call.
type sessionCache struct {
	mu      sync.Mutex
	entries map[string]cachedSession
}

type cachedSession struct {
	user    catalog.User
	expires time.Time // the earlier of the session's end and the cache TTL
}

func (c *sessionCache) get(tokenHash string, now time.Time) (catalog.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[tokenHash]
	if !ok || now.After(e.expires) {
		return catalog.User{}, false
	}
	return e.user, true
}

func (c *sessionCache) put(tokenHash string, u catalog.User, sessionEnd, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 10_000 {
		c.entries = map[string]cachedSession{} // crude bound: start over
	}
	expires := now.Add(sessionCacheTTL)
	if sessionEnd.Before(expires) {
		expires = sessionEnd
	}
	c.entries[tokenHash] = cachedSession{user: u, expires: expires}
}

// forget drops tokenHash, or with an empty hash every token of user.
func (c *sessionCache) forget(tokenHash string, user catalog.UserID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.entries {
		if h == tokenHash || (tokenHash == "" && e.user.UserID() == user) {
			delete(c.entries, h)
		}
	}
}
