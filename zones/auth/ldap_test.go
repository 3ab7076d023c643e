package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/internal/passwordhash"
	"github.com/arca-data/arca/internal/testldap"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/zones"
)

const ldapTestAdminPassword = "native-rods-password"

// lockedBuffer collects a logger's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ldapZone is a zone on a fresh catalog that logs users in with the test
// directory, and its debug log.
// testZone is a zone and its authenticator, as a server has them.
type testZone struct {
	*zones.Zone
	*Authenticator
}

func ldapZone(t *testing.T, d testldap.Directory, edit func(*LDAPConfig)) (*testZone, *lockedBuffer) {
	t.Helper()
	return ldapZoneTB(t, d, edit)
}

func ldapZoneTB(t testing.TB, d testldap.Directory, edit func(*LDAPConfig)) (*testZone, *lockedBuffer) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	cfg := LDAPConfig{URL: d.URL, Base: d.People, GroupBase: d.Groups, CAFile: d.CAFile,
		BindDN: d.BindDN, BindPasswordFile: d.BindPasswordFile, Provision: true}
	if edit != nil {
		edit(&cfg)
	}
	login, err := cfg.Login()
	if err != nil {
		t.Fatal(err)
	}
	log := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	zone := zones.New(cat, zones.Options{Drivers: drivers.Default(), Directory: true, Logger: logger})
	z := &testZone{Zone: zone, Authenticator: New(zone, Options{LDAP: login, Logger: logger})}
	hash, err := passwordhash.Hash(ldapTestAdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{AdminPasswordHash: hash, VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("zone log:\n%s", log.String())
		}
	})
	return z, log
}

func (z *testZone) testLogin(name, password string) (string, catalog.User, error) {
	token, _, u, err := z.Login(context.Background(), catalog.UserID{Name: name, Zone: z.Name()}, password, "")
	return token, u, err
}

// groupsOf returns the names of the groups u is in, stored ones only.
func groupsOf(t *testing.T, z *testZone, name string) []string {
	t.Helper()
	ids, err := z.cat.GroupsOf(context.Background(), catalog.UserID{Name: name, Zone: z.Name()})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, id := range ids {
		out = append(out, id.Name)
	}
	return out
}

func TestLDAPLogin(t *testing.T) {
	d := testldap.Get(t)
	z, log := ldapZone(t, d, nil)
	ctx := context.Background()

	// First login: alice is provisioned, with a home she owns and the
	// groups the directory holds her in (not "staff members", which is no
	// name an Arca group can have).
	token, u, err := z.testLogin("alice", d.Passwords["alice"])
	if err != nil {
		t.Fatal(err)
	}
	if u.Auth != catalog.AuthLDAP || u.Type != catalog.UserTypeUser || u.PasswordHash != "" {
		t.Errorf("provisioned alice = %+v", u)
	}
	alice, err := z.Authenticate(ctx, token)
	if err != nil || alice.Name != "alice" {
		t.Fatalf("alice's token: %+v, %v", alice, err)
	}
	home, err := z.Stat(ctx, zones.As(alice), z.Home("alice"))
	if err != nil || home.Collection == nil || home.Collection.Owner != alice.UserID() {
		t.Fatalf("alice's home: %+v, %v", home, err)
	}
	if _, err := z.Put(ctx, zones.As(alice), zones.PutRequest{Path: catalog.MustPath(z.Home("alice").String() + "/hello"), Size: 2}, strings.NewReader("hi")); err != nil {
		t.Fatalf("alice puts into her home: %v", err)
	}
	if got, want := groupsOf(t, z, "alice"), []string{"lab", "physics"}; !slices.Equal(got, want) {
		t.Errorf("alice's groups = %q, want %q", got, want)
	}
	// The second login finds her; nothing is made twice.
	if _, _, err := z.testLogin("alice", d.Passwords["alice"]); err != nil {
		t.Fatalf("second login: %v", err)
	}

	refused := []struct{ name, user, password string }{
		{"wrong password", "alice", "not-her-password"},
		{"another user's password", "bob", d.Passwords["alice"]},
		{"empty password", "alice", ""},
		{"unknown user", "mallory", "whatever"},
		{"case variant", "ALICE", d.Passwords["alice"]},
		// rods is a native user: the directory's rods cannot log in as him.
		{"directory password of a native user", "rods", d.Passwords["rods"]},
	}
	for _, tc := range refused {
		start := time.Now()
		_, _, err := z.testLogin(tc.user, tc.password)
		if !errors.Is(err, zones.ErrUnauthenticated) {
			t.Errorf("%s: %v, want not authenticated", tc.name, err)
		}
		if took := time.Since(start); took < failedLoginDelay {
			t.Errorf("%s: refused after %v, want at least %v", tc.name, took, failedLoginDelay)
		}
	}
	for _, name := range []string{"mallory", "ALICE"} {
		if _, err := z.cat.User(ctx, catalog.UserID{Name: name, Zone: z.Name()}); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("a refused login made user %s: %v", name, err)
		}
	}
	// Native rods still logs in natively.
	if _, u, err := z.testLogin("rods", ldapTestAdminPassword); err != nil || u.Auth != catalog.AuthNative {
		t.Fatalf("rods: %+v, %v", u, err)
	}
	// A user who authenticates with LDAP has no native password to set.
	rods := adminOf(t, z)
	if _, err := z.ModifyUser(ctx, zones.As(rods), "alice", "password", "native-now"); !errors.Is(err, catalog.ErrInvalidArgument) {
		t.Errorf("setting a native password of an LDAP user: %v", err)
	}

	// Neither a password nor a token is ever logged.
	out := log.String()
	for name, secret := range map[string]string{"alice's password": d.Passwords["alice"], "rods' LDAP password": d.Passwords["rods"],
		"rods' native password": ldapTestAdminPassword, "the service password": d.BindPassword(t), "a token": token} {
		if secret == "" {
			// Every log contains "": the check would fail for the wrong reason.
			t.Fatalf("no %s to look for (is ARCA_TEST_LDAP_PASSWORDS complete?)", name)
		}
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %s", name)
		}
	}
	if !strings.Contains(out, "login refused") || !strings.Contains(out, `msg=login user=alice#tempZone auth=ldap`) {
		t.Errorf("the log does not tell logins:\n%s", out)
	}
}

// Concurrent first logins of one user make one account, and all succeed.
func TestLDAPConcurrentFirstLogins(t *testing.T) {
	d := testldap.Get(t)
	z, _ := ldapZone(t, d, nil)
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, _, err := z.testLogin("dave", d.Passwords["dave"])
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	users, err := z.cat.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, u := range users {
		if u.Name == "dave" {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d accounts of dave", count)
	}
}

// BenchmarkLogin compares a login of a provisioned LDAP user (StartTLS,
// service bind, search, user bind, service bind, group search, group sync)
// with a native one (argon2id, m=19 MiB, t=2).
func BenchmarkLogin(b *testing.B) {
	d := testldap.Get(b)
	for _, tc := range []struct{ name, user, password string }{
		{"ldap", "alice", d.Passwords["alice"]},
		{"native", zones.DefaultAdmin, ldapTestAdminPassword},
	} {
		b.Run(tc.name, func(b *testing.B) {
			z, _ := ldapZoneTB(b, d, nil)
			if _, _, err := z.testLogin(tc.user, tc.password); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := z.testLogin(tc.user, tc.password); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// With provisioning off, only users an administrator made, with auth ldap,
// log in with the directory.
func TestLDAPLoginWithoutProvisioning(t *testing.T) {
	d := testldap.Get(t)
	z, _ := ldapZone(t, d, func(c *LDAPConfig) { c.Provision = false })
	ctx := context.Background()
	if _, _, err := z.testLogin("bob", d.Passwords["bob"]); !errors.Is(err, zones.ErrUnauthenticated) {
		t.Fatalf("unregistered bob: %v", err)
	}
	if _, err := z.cat.User(ctx, catalog.UserID{Name: "bob", Zone: z.Name()}); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("bob was made without provisioning: %v", err)
	}
	rods := adminOf(t, z)
	if _, err := z.MakeUser(ctx, zones.As(rods), "bob", catalog.UserTypeUser, ""); err != nil {
		t.Fatal(err)
	}
	// Made, but native and without a password: the directory is not asked.
	if _, _, err := z.testLogin("bob", d.Passwords["bob"]); !errors.Is(err, zones.ErrUnauthenticated) {
		t.Fatalf("native bob without a password: %v", err)
	}
	if _, err := z.ModifyUser(ctx, zones.As(rods), "bob", "auth", "ldap"); err != nil {
		t.Fatal(err)
	}
	if _, u, err := z.testLogin("bob", d.Passwords["bob"]); err != nil || u.Auth != catalog.AuthLDAP {
		t.Fatalf("bob with auth ldap: %+v, %v", u, err)
	}
	if got := groupsOf(t, z, "bob"); !slices.Equal(got, []string{"lab"}) {
		t.Errorf("bob's groups = %q, want [lab]", got)
	}
	if _, _, err := z.testLogin("bob", "wrong"); !errors.Is(err, zones.ErrUnauthenticated) {
		t.Fatalf("bob, wrong password: %v", err)
	}
}

// Group membership follows the directory at every login, for the groups
// the directory manages; groups made in Arca are left alone.
func TestLDAPGroupSync(t *testing.T) {
	d := testldap.Get(t)
	z, _ := ldapZone(t, d, nil)
	ctx := context.Background()
	rods := adminOf(t, z)

	conn := ldapAdmin(t, d)
	group := fmt.Sprintf("tmp%d", time.Now().UnixNano())
	dn := "cn=" + group + "," + d.Groups
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"groupOfNames"})
	add.Attribute("cn", []string{group})
	add.Attribute("member", []string{"uid=carol," + d.People})
	if err := conn.Add(add); err != nil {
		t.Fatal(err)
	}
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			conn.Del(ldap.NewDelRequest(dn, nil))
		}
	})

	if _, _, err := z.testLogin("carol", d.Passwords["carol"]); err != nil {
		t.Fatal(err)
	}
	if _, err := z.MakeGroup(ctx, zones.As(rods), "local"); err != nil {
		t.Fatal(err)
	}
	if err := z.AddToGroup(ctx, zones.As(rods), "local", "carol"); err != nil {
		t.Fatal(err)
	}
	if got, want := groupsOf(t, z, "carol"), []string{"local", "physics", group}; !slices.Equal(got, want) {
		t.Fatalf("carol's groups = %q, want %q", got, want)
	}
	// A collection only the directory group may read; carol reads it now,
	// which puts her groups in the zone's group cache.
	shared := catalog.MustPath("/" + z.Name() + "/home/rods/shared-" + group)
	if _, err := z.MakeCollection(ctx, zones.As(rods), shared, false); err != nil {
		t.Fatal(err)
	}
	if err := z.SetAccess(ctx, zones.As(rods), shared, group, catalog.AccessRead, false, false); err != nil {
		t.Fatal(err)
	}
	carolNow, err := z.cat.User(ctx, catalog.UserID{Name: "carol", Zone: z.Name()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := z.Stat(ctx, zones.As(carolNow), shared); err != nil {
		t.Fatalf("carol in %s cannot read %s: %v", group, shared, err)
	}
	if err := conn.Del(ldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatal(err)
	}
	deleted = true
	// The directory group is gone: so is carol's membership of its Arca
	// group; local stays, since the directory has no group of that name.
	if _, _, err := z.testLogin("carol", d.Passwords["carol"]); err != nil {
		t.Fatal(err)
	}
	if got, want := groupsOf(t, z, "carol"), []string{"local", "physics"}; !slices.Equal(got, want) {
		t.Fatalf("after the directory dropped %s: carol's groups = %q, want %q", group, got, want)
	}
	// Access through a group follows at once: the group cache was told.
	carol, err := z.cat.User(ctx, catalog.UserID{Name: "carol", Zone: z.Name()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := z.Stat(ctx, zones.As(carol), shared); !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("carol reads %s after leaving %s (the group cache still holds her in it): %v", shared, group, err)
	}
}

// An explicit group map maps only the groups it names, under its names.
func TestLDAPGroupMap(t *testing.T) {
	d := testldap.Get(t)
	z, _ := ldapZone(t, d, func(c *LDAPConfig) {
		c.GroupMap = map[string]string{"staff members": "staff", "lab": "lab"}
		c.URL = d.LDAPSURL
		c.BindDN, c.BindPasswordFile = "", "" // and search anonymously
	})
	if _, _, err := z.testLogin("alice", d.Passwords["alice"]); err != nil {
		t.Fatal(err)
	}
	if got, want := groupsOf(t, z, "alice"), []string{"lab", "staff"}; !slices.Equal(got, want) {
		t.Errorf("alice's groups = %q, want %q", got, want)
	}
}

// A directory that cannot be reached refuses its users with "unavailable";
// native users log in as ever.
func TestLDAPDirectoryDown(t *testing.T) {
	d := testldap.Get(t)
	z, log := ldapZone(t, d, func(c *LDAPConfig) { c.URL = "ldap://127.0.0.1:1" })
	if _, _, err := z.testLogin("alice", d.Passwords["alice"]); !errors.Is(err, ErrDirectoryUnavailable) {
		t.Fatalf("directory down: %v", err)
	}
	if _, _, err := z.testLogin("rods", ldapTestAdminPassword); err != nil {
		t.Fatalf("native rods while the directory is down: %v", err)
	}
	if strings.Contains(log.String(), d.Passwords["alice"]) {
		t.Error("the log holds alice's password")
	}
}

// A directory with a certificate from another CA is refused.
func TestLDAPWrongCA(t *testing.T) {
	d := testldap.Get(t)
	z, _ := ldapZone(t, d, func(c *LDAPConfig) {
		// The zone's own CA: a real CA, but not the directory's.
		dir := t.TempDir()
		if err := tlsca.CreateCertificates(dir, nil); err != nil {
			t.Fatal(err)
		}
		c.CAFile = filepath.Join(dir, tlsca.CACertFile)
	})
	_, _, err := z.testLogin("alice", d.Passwords["alice"])
	if !errors.Is(err, ErrDirectoryUnavailable) {
		t.Fatalf("directory with another CA: %v", err)
	}
}

// adminOf is rods as a caller.
func adminOf(t *testing.T, z *testZone) catalog.User {
	t.Helper()
	u, err := z.cat.User(context.Background(), catalog.UserID{Name: zones.DefaultAdmin, Zone: z.Name()})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func ldapAdmin(t *testing.T, d testldap.Directory) *ldap.Conn {
	t.Helper()
	conn, err := ldap.DialURL(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	tc, err := tlsca.ClientTLS(d.CAFile, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.StartTLS(tc); err != nil {
		t.Fatal(err)
	}
	if err := conn.Bind(d.AdminDN, d.AdminPassword(t)); err != nil {
		t.Fatal(err)
	}
	return conn
}
