package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/arca-data/arca/api/arcapb"
)

// basicStatus sends PROPFIND (depth 0) of user's home to /dav/ with HTTP
// Basic credentials and returns the status.
func basicStatus(e *env, user, password string) (int, error) {
	req, err := http.NewRequest("PROPFIND", e.base+"/dav/tempZone/home/"+user+"/", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Depth", "0")
	req.SetBasicAuth(user, password)
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("PROPFIND as %s: %w", user, err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// logins counts the logins of user the server logged.
func logins(e *env, user string) int {
	return strings.Count(e.z.Log(), "msg=login user="+user+"#tempZone ")
}

// TestBasicPasswordCache: a WebDAV client's requests with the same
// password cost one login (argon2id) between them, concurrent ones too;
// a wrong password is refused, throttled, even right after the right one
// was cached; a password changed by an administrator or by the user, and
// a removed account, stop the old credentials at once.
func TestBasicPasswordCache(t *testing.T) {
	e := startEnv(t)
	mkUser(t, e, "carol", "carol-1")
	conn, admin := adminConn(t, e)
	adm := arcapb.NewAdminClient(conn)

	steps := []struct {
		name     string
		before   func(t *testing.T)
		password string
		times    int // requests sent at once
		want     int
		logins   int // carol's logins the server has logged after the step
		slow     bool
	}{
		{name: "first request logs in", password: "carol-1", times: 1, want: 207, logins: 1},
		{name: "later requests reuse the session", password: "carol-1", times: 5, want: 207, logins: 1},
		{name: "wrong password after the cached right one", password: "carol-x", times: 1, want: 401, logins: 1, slow: true},
		{name: "the right one still cached", password: "carol-1", times: 1, want: 207, logins: 1},
		{name: "administrator changes the password", before: func(t *testing.T) {
			if _, err := adm.ModifyUser(admin, &arcapb.ModifyUserRequest{Name: "carol", Field: "password", Value: "carol-2"}); err != nil {
				t.Fatal(err)
			}
		}, password: "carol-1", times: 1, want: 401, logins: 1, slow: true},
		{name: "new password, concurrent requests log in once", password: "carol-2", times: 8, want: 207, logins: 2},
		{name: "carol changes her password", before: func(t *testing.T) {
			token := e.login("carol", "carol-2")
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
			if _, err := arcapb.NewAdminClient(conn).ChangePassword(ctx, &arcapb.ChangePasswordRequest{CurrentPassword: "carol-2", NewPassword: "carol-3"}); err != nil {
				t.Fatal(err)
			}
		}, password: "carol-2", times: 1, want: 401, logins: 4, slow: true}, // its bearer login and ipasswd's check of the current password
		{name: "and uses the new one", password: "carol-3", times: 3, want: 207, logins: 5},
		{name: "account removed", before: func(t *testing.T) {
			if _, err := adm.RemoveUser(admin, &arcapb.RemoveUserRequest{Name: "carol"}); err != nil {
				t.Fatal(err)
			}
		}, password: "carol-3", times: 1, want: 401, logins: 5, slow: true},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before(t)
		}
		start := time.Now()
		got := make([]int, st.times)
		errs := make([]error, st.times)
		var wg sync.WaitGroup
		for i := range st.times {
			wg.Go(func() { got[i], errs[i] = basicStatus(e, "carol", st.password) })
		}
		wg.Wait()
		for i, status := range got {
			if errs[i] != nil {
				t.Fatalf("%s: %v", st.name, errs[i])
			}
			if status != st.want {
				t.Errorf("%s: request %d: %d, want %d", st.name, i, status, st.want)
			}
		}
		if n := logins(e, "carol"); n != st.logins {
			t.Errorf("%s: %d logins of carol logged, want %d", st.name, n, st.logins)
		}
		// A refused password waits out the throttle's delay (300 ms at
		// the first failure): it went to the login, not to a cache.
		if took := time.Since(start); st.slow && took < 250*time.Millisecond {
			t.Errorf("%s: refused in %v: not throttled", st.name, took)
		}
	}
}
