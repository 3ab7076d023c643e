package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// fakeLogins is the login a passwordCache calls: it accepts the passwords
// in good, each with a new token, and counts its calls.
type fakeLogins struct {
	good  map[string]string // user name: password
	calls atomic.Int64
	end   time.Time // of every session
}

func (f *fakeLogins) login(id catalog.UserID, password string) func(context.Context) (string, time.Time, error) {
	return func(context.Context) (string, time.Time, error) {
		n := f.calls.Add(1)
		if f.good[id.Name] != password {
			return "", time.Time{}, fmt.Errorf("%w: wrong user name or password", zones.ErrUnauthenticated)
		}
		return fmt.Sprintf("token-%s-%d", id.Name, n), f.end, nil
	}
}

func TestPasswordCache(t *testing.T) {
	alice := catalog.UserID{Name: "alice", Zone: "tempZone"}
	bob := catalog.UserID{Name: "bob", Zone: "tempZone"}
	type req struct {
		id       catalog.UserID
		password string
	}
	tests := []struct {
		name      string
		sessionIn time.Duration // how long the sessions last
		first     []req         // requests before between
		between   func(c *passwordCache, lastToken string)
		then      req
		wantErr   bool
		wantCalls int64 // logins, all requests together
	}{
		{name: "reused", sessionIn: time.Hour, first: []req{{alice, "a"}, {alice, "a"}}, then: req{alice, "a"}, wantCalls: 1},
		{name: "wrong password after the right one logs in and fails", sessionIn: time.Hour,
			first: []req{{alice, "a"}}, then: req{alice, "b"}, wantErr: true, wantCalls: 2},
		{name: "a failure is not cached", sessionIn: time.Hour,
			first: []req{{alice, "b"}}, then: req{alice, "b"}, wantErr: true, wantCalls: 2},
		{name: "same password, other user", sessionIn: time.Hour,
			first: []req{{alice, "a"}}, then: req{bob, "a"}, wantErr: true, wantCalls: 2},
		{name: "session ended", sessionIn: -time.Second, first: []req{{alice, "a"}}, then: req{alice, "a"}, wantCalls: 2},
		{name: "forget the user", sessionIn: time.Hour, first: []req{{alice, "a"}, {bob, "b"}},
			between: func(c *passwordCache, _ string) { c.forgetUser(alice) }, then: req{alice, "a"}, wantCalls: 3},
		{name: "forgetting a user keeps the others", sessionIn: time.Hour, first: []req{{alice, "a"}, {bob, "b"}},
			between: func(c *passwordCache, _ string) { c.forgetUser(alice) }, then: req{bob, "b"}, wantCalls: 2},
		{name: "forget the token", sessionIn: time.Hour, first: []req{{alice, "a"}},
			between: func(c *passwordCache, token string) { c.forgetToken(token) }, then: req{alice, "a"}, wantCalls: 2},
		{name: "forget the password", sessionIn: time.Hour, first: []req{{alice, "a"}},
			between: func(c *passwordCache, _ string) { c.forget(alice, "a") }, then: req{alice, "a"}, wantCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newPasswordCache()
			f := &fakeLogins{good: map[string]string{"alice": "a", "bob": "b"}, end: time.Now().Add(tc.sessionIn)}
			ctx := context.Background()
			var last string
			for _, r := range tc.first {
				last, _ = c.token(ctx, r.id, r.password, f.login(r.id, r.password))
			}
			if tc.between != nil {
				tc.between(c, last)
			}
			_, err := c.token(ctx, tc.then.id, tc.then.password, f.login(tc.then.id, tc.then.password))
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want an error: %v", err, tc.wantErr)
			}
			if n := f.calls.Load(); n != tc.wantCalls {
				t.Errorf("%d logins, want %d", n, tc.wantCalls)
			}
			for k := range c.entries {
				if len(k) != 32 {
					t.Errorf("a key of %d bytes: want the HMAC alone", len(k))
				}
			}
		})
	}
}

// TestPasswordCacheConcurrent: requests that arrive while the login of
// their credentials runs wait for it; a failed one fails them all, a
// canceled one lets the next try itself.
func TestPasswordCacheConcurrent(t *testing.T) {
	alice := catalog.UserID{Name: "alice", Zone: "tempZone"}
	tests := []struct {
		name      string
		password  string
		leaderErr error // the first login's error instead of its result
		wantErr   bool
		wantCalls int64
	}{
		{name: "one login for all", password: "a", wantCalls: 1},
		{name: "one failure for all", password: "x", wantErr: true, wantCalls: 1},
		{name: "canceled login: the others try", password: "a", leaderErr: context.Canceled, wantCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newPasswordCache()
			f := &fakeLogins{good: map[string]string{"alice": "a"}, end: time.Now().Add(time.Hour)}
			release := make(chan struct{})
			started := make(chan struct{})
			var leaderErr error
			var wg sync.WaitGroup
			wg.Go(func() {
				_, leaderErr = c.token(context.Background(), alice, tc.password, func(ctx context.Context) (string, time.Time, error) {
					close(started)
					<-release
					if tc.leaderErr != nil {
						f.calls.Add(1)
						return "", time.Time{}, tc.leaderErr
					}
					return f.login(alice, tc.password)(ctx)
				})
			})
			<-started
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = c.token(context.Background(), alice, tc.password, f.login(alice, tc.password))
				})
			}
			// Let the followers find the login under way.
			time.Sleep(20 * time.Millisecond)
			close(release)
			wg.Wait()
			if tc.leaderErr != nil && !errors.Is(leaderErr, tc.leaderErr) {
				t.Errorf("first login: %v, want %v", leaderErr, tc.leaderErr)
			}
			for i, err := range errs {
				if (err != nil) != tc.wantErr {
					t.Errorf("request %d: %v, want an error: %v", i, err, tc.wantErr)
				}
			}
			if n := f.calls.Load(); n != tc.wantCalls {
				t.Errorf("%d logins, want %d", n, tc.wantCalls)
			}
		})
	}
}

// TestPasswordCacheChangeDuringLogin: a session whose login ran while an
// account changed is not reused (the change may have ended it).
func TestPasswordCacheChangeDuringLogin(t *testing.T) {
	alice := catalog.UserID{Name: "alice", Zone: "tempZone"}
	c := newPasswordCache()
	f := &fakeLogins{good: map[string]string{"alice": "a"}, end: time.Now().Add(time.Hour)}
	ctx := context.Background()
	if _, err := c.token(ctx, alice, "a", func(ctx context.Context) (string, time.Time, error) {
		c.forgetUser(alice) // ipasswd, say, while the password is checked
		return f.login(alice, "a")(ctx)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.token(ctx, alice, "a", f.login(alice, "a")); err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("%d logins, want 2: the first session was reused", n)
	}
}
