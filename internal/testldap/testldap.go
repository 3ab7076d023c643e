// Package testldap gives tests the slapd that .ci/services/10-slapd.sh
// starts: its addresses, its CA and the passwords of its test users.
package testldap

import (
	"os"
	"strings"
	"testing"
)

// Script is what starts the directory the tests need.
const Script = ".ci/services/10-slapd.sh"

// Directory is the test directory described by the ARCA_TEST_LDAP_*
// variables.
type Directory struct {
	URL               string // ldap://127.0.0.1:PORT, StartTLS
	LDAPSURL          string // ldaps://127.0.0.1:PORT
	Base              string // dc=arca,dc=test
	People            string // ou=people,...
	Groups            string // ou=groups,...
	CAFile            string
	BindDN            string // the service account
	BindPasswordFile  string
	AdminDN           string // the rootdn, for tests that change the directory
	AdminPasswordFile string
	// Passwords of the test users: alice, bob, carol, dave, rods.
	Passwords map[string]string
}

// Get returns the test directory, or skips the test when the variables are
// not set; with CI=true it fails instead, since CI must not skip.
func Get(t testing.TB) Directory {
	t.Helper()
	d := Directory{
		URL:               os.Getenv("ARCA_TEST_LDAP_URL"),
		LDAPSURL:          os.Getenv("ARCA_TEST_LDAPS_URL"),
		Base:              os.Getenv("ARCA_TEST_LDAP_BASE"),
		People:            os.Getenv("ARCA_TEST_LDAP_PEOPLE"),
		Groups:            os.Getenv("ARCA_TEST_LDAP_GROUPS"),
		CAFile:            os.Getenv("ARCA_TEST_LDAP_CA"),
		BindDN:            os.Getenv("ARCA_TEST_LDAP_BIND_DN"),
		BindPasswordFile:  os.Getenv("ARCA_TEST_LDAP_BIND_PASSWORD_FILE"),
		AdminDN:           os.Getenv("ARCA_TEST_LDAP_ADMIN_DN"),
		AdminPasswordFile: os.Getenv("ARCA_TEST_LDAP_ADMIN_PASSWORD_FILE"),
		Passwords:         map[string]string{},
	}
	for _, kv := range strings.Fields(os.Getenv("ARCA_TEST_LDAP_PASSWORDS")) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			d.Passwords[k] = v
		}
	}
	if d.URL == "" || d.LDAPSURL == "" || d.Base == "" || d.CAFile == "" || len(d.Passwords) == 0 {
		msg := "no test LDAP directory: run `source " + Script + "` (it starts slapd on loopback and exports ARCA_TEST_LDAP_*)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return d
}

// BindPassword reads the service account's password.
func (d Directory) BindPassword(t testing.TB) string {
	t.Helper()
	return readSecret(t, d.BindPasswordFile)
}

// AdminPassword reads the rootdn's password.
func (d Directory) AdminPassword(t testing.TB) string {
	t.Helper()
	return readSecret(t, d.AdminPasswordFile)
}

func readSecret(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("test LDAP directory: %v", err)
	}
	return strings.TrimRight(string(b), "\r\n")
}
