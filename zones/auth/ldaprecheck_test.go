package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/testldap"
	"github.com/arca-data/arca/zones"
)

// ldapDelete removes the entry dn with ldapdelete, as an administrator of
// the directory would, over StartTLS.
func ldapDelete(t *testing.T, d testldap.Directory, dn string) {
	t.Helper()
	cmd := exec.Command("ldapdelete", "-H", d.URL, "-ZZ", "-x", "-D", d.AdminDN, "-y", d.AdminPasswordFile, dn)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+d.CAFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ldapdelete %s: %v\n%s", dn, err, out)
	}
}

// TestLDAPSessionsEndWithTheEntry logs in a user, deletes their entry from
// the directory, and sees the maintenance loop end their session at its
// next re-check, while another LDAP user's session and rods's stay.
func TestLDAPSessionsEndWithTheEntry(t *testing.T) {
	d := testldap.Get(t)
	z, _ := ldapZone(t, d, nil)
	z.ldap.RecheckInterval = 200 * time.Millisecond
	ctx := context.Background()

	name := fmt.Sprintf("gone%d", time.Now().UnixNano())
	dn := "uid=" + name + "," + d.People
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("uid", []string{name})
	add.Attribute("cn", []string{name})
	add.Attribute("sn", []string{name})
	add.Attribute("userPassword", []string{"gone-secret"})
	conn := ldapAdmin(t, d)
	if err := conn.Add(add); err != nil {
		t.Fatal(err)
	}
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			conn.Del(ldap.NewDelRequest(dn, nil))
		}
	})

	goneToken, _, err := z.testLogin(name, "gone-secret")
	if err != nil {
		t.Fatal(err)
	}
	aliceToken, _, err := z.testLogin("alice", d.Passwords["alice"])
	if err != nil {
		t.Fatal(err)
	}
	rodsToken, _, err := z.testLogin("rods", ldapTestAdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	// Nobody is gone yet: a re-check ends nothing.
	if n, err := z.RecheckLDAPSessions(ctx); err != nil || n != 0 {
		t.Fatalf("re-check with everyone in the directory: %d, %v", n, err)
	}
	if _, err := z.Authenticate(ctx, goneToken); err != nil {
		t.Fatalf("%s's session before the deletion: %v", name, err)
	}

	mctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { z.Authenticator.Run(mctx); close(done) }()
	defer func() { stop(); <-done }()

	ldapDelete(t, d, dn)
	deleted = true
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := z.Authenticate(ctx, goneToken)
		if errors.Is(err, zones.ErrUnauthenticated) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's session still works 20s after the deletion: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for who, tok := range map[string]string{"alice": aliceToken, "rods": rodsToken} {
		if _, err := z.Authenticate(ctx, tok); err != nil {
			t.Errorf("%s's session after %s's deletion: %v", who, name, err)
		}
	}
	// The account stays (its data has an owner); a new login fails.
	if _, err := z.cat.User(ctx, catalog.UserID{Name: name, Zone: z.Name()}); err != nil {
		t.Errorf("%s's account: %v", name, err)
	}
	if _, _, err := z.testLogin(name, "gone-secret"); !errors.Is(err, zones.ErrUnauthenticated) {
		t.Errorf("%s logs in after the deletion: %v", name, err)
	}
}

// A directory that cannot be asked ends nothing.
func TestLDAPRecheckDirectoryDown(t *testing.T) {
	d := testldap.Get(t)
	z, _ := ldapZone(t, d, nil)
	ctx := context.Background()
	token, _, err := z.testLogin("bob", d.Passwords["bob"])
	if err != nil {
		t.Fatal(err)
	}
	down, _ := ldapZone(t, d, func(c *LDAPConfig) { c.URL, c.Timeout = "ldaps://127.0.0.1:1", time.Second })
	z.ldap = down.ldap
	if n, err := z.RecheckLDAPSessions(ctx); err == nil || n != 0 {
		t.Errorf("re-check with the directory down: %d, %v; want an error and nothing ended", n, err)
	}
	if _, err := z.Authenticate(ctx, token); err != nil {
		t.Errorf("bob's session after a failed re-check: %v", err)
	}
}
