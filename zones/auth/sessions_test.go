package auth

import (
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

func TestSessionCache(t *testing.T) {
	alice := catalog.User{Name: "alice", Zone: "tempZone", Type: catalog.UserTypeUser}
	bob := catalog.User{Name: "bob", Zone: "tempZone", Type: catalog.UserTypeUser}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		setup  func(c *sessionCache)
		token  string
		at     time.Time
		want   bool
		wantIs catalog.User
	}{
		{name: "miss", setup: func(c *sessionCache) {}, token: "a", at: now},
		{name: "hit", setup: func(c *sessionCache) { c.put("a", alice, now.Add(time.Hour), now) }, token: "a", at: now.Add(time.Second), want: true, wantIs: alice},
		{name: "ttl over", setup: func(c *sessionCache) { c.put("a", alice, now.Add(time.Hour), now) }, token: "a", at: now.Add(sessionCacheTTL + time.Second)},
		{name: "session ends before ttl", setup: func(c *sessionCache) { c.put("a", alice, now.Add(time.Second), now) }, token: "a", at: now.Add(2 * time.Second)},
		{name: "forget token", setup: func(c *sessionCache) {
			c.put("a", alice, now.Add(time.Hour), now)
			c.forget("a", alice.UserID())
		}, token: "a", at: now},
		{name: "forget user keeps others", setup: func(c *sessionCache) {
			c.put("a", alice, now.Add(time.Hour), now)
			c.put("b", bob, now.Add(time.Hour), now)
			c.forget("", alice.UserID())
		}, token: "b", at: now, want: true, wantIs: bob},
		{name: "forget user drops all its tokens", setup: func(c *sessionCache) {
			c.put("a", alice, now.Add(time.Hour), now)
			c.put("a2", alice, now.Add(time.Hour), now)
			c.forget("", alice.UserID())
		}, token: "a2", at: now},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c sessionCache
			tc.setup(&c)
			got, ok := c.get(tc.token, tc.at)
			if ok != tc.want || got != tc.wantIs {
				t.Fatalf("get(%q) = %v, %v; want %v, %v", tc.token, got, ok, tc.wantIs, tc.want)
			}
		})
	}
}
