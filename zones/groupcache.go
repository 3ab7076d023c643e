package zones

import (
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
)

// groupCacheTTL is how long a server trusts the groups of a user it has
// checked without asking the catalog again; another server of the zone
// notices a change of membership within it.
const groupCacheTTL = 5 * time.Second

// groupCache remembers the groups of recently checked users for
// groupCacheTTL, so that a burst of requests does not ask the catalog for
// them on every permission check. A change of membership made by this
// server forgets the user at once; other servers of the zone notice within
// the TTL, as they notice a logout.
type groupCache struct {
	mu      sync.Mutex
	entries map[catalog.UserID]cachedGroups
}

type cachedGroups struct {
	groups  []catalog.UserID
	expires time.Time
}

func (c *groupCache) get(u catalog.UserID, now time.Time) ([]catalog.UserID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[u]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.groups, true
}

func (c *groupCache) put(u catalog.UserID, groups []catalog.UserID, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 10_000 {
		c.entries = map[catalog.UserID]cachedGroups{} // crude bound: start over
	}
	c.entries[u] = cachedGroups{groups: groups, expires: now.Add(groupCacheTTL)}
}

// forget drops user, or with the zero id everyone (a group was removed).
func (c *groupCache) forget(u catalog.UserID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u == (catalog.UserID{}) {
		clear(c.entries)
		return
	}
	delete(c.entries, u)
}
