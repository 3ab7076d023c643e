package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
)

// basicTTL is how long a session opened for HTTP Basic credentials is
// reused for the same credentials. WebDAV clients send the password with
// every request; checking it with argon2id each time would cost a login
// per file.
const basicTTL = 10 * time.Minute

// basicLogins turns HTTP Basic credentials into sessions, logging in (with
// zones/auth, native or LDAP, throttled) once per basicTTL. Credentials are
// remembered only as an HMAC under a key that lives in memory.
type basicLogins struct {
	auth *auth.Authenticator
	key  []byte
	mu   sync.Mutex
	m    map[string]basicSession
}

type basicSession struct {
	token   string
	expires time.Time
}

func newBasicLogins(a *auth.Authenticator) *basicLogins {
	key := make([]byte, 32)
	rand.Read(key)
	return &basicLogins{auth: a, key: key, m: map[string]basicSession{}}
}

func (b *basicLogins) keyOf(user, password string) string {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	return hex.EncodeToString(m.Sum(nil))
}

// token returns a session token of user with password, logging in when no
// recent one is known.
func (b *basicLogins) token(ctx context.Context, zone, user, password, host string) (string, error) {
	k, now := b.keyOf(user, password), time.Now()
	b.mu.Lock()
	s, ok := b.m[k]
	b.mu.Unlock()
	if ok && now.Before(s.expires) {
		return s.token, nil
	}
	id, err := catalog.ParseUserID(user, zone)
	if err != nil {
		return "", err
	}
	if id.Zone != zone {
		return "", fmt.Errorf("%w: zone %q is not this zone (%q)", zones.ErrUnauthenticated, id.Zone, zone)
	}
	token, sess, _, err := b.auth.Login(ctx, id, password, host)
	if err != nil {
		return "", err
	}
	expires := now.Add(basicTTL)
	if sess.Expires.Before(expires) {
		expires = sess.Expires
	}
	b.mu.Lock()
	if len(b.m) > 10_000 {
		for k, s := range b.m {
			if now.After(s.expires) {
				delete(b.m, k)
			}
		}
		if len(b.m) > 10_000 {
			b.m = map[string]basicSession{}
		}
	}
	b.m[k] = basicSession{token: token, expires: expires}
	b.mu.Unlock()
	return token, nil
}

func (b *basicLogins) forget(user, password string) {
	k := b.keyOf(user, password)
	b.mu.Lock()
	delete(b.m, k)
	b.mu.Unlock()
}
