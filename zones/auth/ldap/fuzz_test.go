package ldap_test

import (
	"bytes"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	ldapauth "github.com/arca-data/arca/zones/auth/ldap"
)

// equality checks that p is attr=value exactly: an equality match, not a
// presence or substring filter that a * in value would make.
func equality(t *testing.T, p *ber.Packet, attr string, value []byte) {
	t.Helper()
	if p.Tag != goldap.FilterEqualityMatch || len(p.Children) != 2 {
		t.Fatalf("want an equality match of %s, got %s", attr, goldap.FilterMap[uint64(p.Tag)])
	}
	if got := p.Children[0].Data.String(); got != attr {
		t.Fatalf("attribute %q, want %q", got, attr)
	}
	if got := p.Children[1].Data.Bytes(); !bytes.Equal(got, value) {
		t.Fatalf("value %q, want %q", got, value)
	}
}

// FuzzUserFilter: whatever a user types as a name, the search filter keeps
// its structure, (&FILTER(uid=NAME)), and matches exactly NAME.
func FuzzUserFilter(f *testing.F) {
	for _, s := range []string{"alice", "*", "*)(uid=*", "alice)(|(uid=*", `\2a`, "a\x00b", "é", "\xff", ")", "(", `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if name == "" {
			return // refused before any search
		}
		filter := ldapauth.UserFilter("(objectClass=inetOrgPerson)", "uid", name)
		p, err := goldap.CompileFilter(filter)
		if err != nil {
			t.Fatalf("name %q gives a filter that does not compile: %s: %v", name, filter, err)
		}
		if p.Tag != goldap.FilterAnd || len(p.Children) != 2 {
			t.Fatalf("name %q changed the filter's structure: %s", name, filter)
		}
		equality(t, p.Children[0], "objectClass", []byte("inetOrgPerson"))
		equality(t, p.Children[1], "uid", []byte(name))
	})
}

// FuzzGroupFilter: a DN and a name from the directory cannot change the
// structure of the group search either.
func FuzzGroupFilter(f *testing.F) {
	f.Add("uid=alice,ou=people,dc=arca,dc=test", "alice")
	f.Add(`cn=a\,b*,dc=x`, "*)(memberUid=*")
	f.Fuzz(func(t *testing.T, dn, name string) {
		if dn == "" || name == "" {
			return
		}
		filter := ldapauth.GroupFilter(dn, name)
		p, err := goldap.CompileFilter(filter)
		if err != nil {
			t.Fatalf("%q, %q give a filter that does not compile: %s: %v", dn, name, filter, err)
		}
		if p.Tag != goldap.FilterOr || len(p.Children) != 3 {
			t.Fatalf("%q, %q changed the filter's structure: %s", dn, name, filter)
		}
		for i, want := range []struct{ class, attr, value string }{
			{"groupOfNames", "member", dn}, {"groupOfUniqueNames", "uniqueMember", dn}, {"posixGroup", "memberUid", name},
		} {
			and := p.Children[i]
			if and.Tag != goldap.FilterAnd || len(and.Children) != 2 {
				t.Fatalf("branch %d changed: %s", i, filter)
			}
			equality(t, and.Children[0], "objectClass", []byte(want.class))
			equality(t, and.Children[1], want.attr, []byte(want.value))
		}
	})
}

// FuzzConfigValidate: validation never panics, and what it accepts builds
// a client.
func FuzzConfigValidate(f *testing.F) {
	f.Add("ldaps://goldap.example.org", "ou=people,dc=example,dc=org", "uid", "(objectClass=person)", "ou=groups,dc=example,dc=org", "cn", "", false)
	f.Add("ldap://127.0.0.1:3389", "dc=arca,dc=test", "", "", "", "", "cn=svc,dc=arca,dc=test", true)
	f.Fuzz(func(t *testing.T, url, base, userAttr, filter, groupBase, groupAttr, bindDN string, plain bool) {
		cfg := ldapauth.Config{URL: url, Base: base, UserAttr: userAttr, UserFilter: filter, GroupBase: groupBase,
			GroupAttr: groupAttr, BindDN: bindDN, InsecurePlainLoopback: plain, Timeout: time.Second}
		if bindDN != "" {
			cfg.BindPassword = "x"
		}
		if err := cfg.Validate(); err != nil {
			return
		}
		if _, err := ldapauth.New(cfg); err != nil {
			t.Fatalf("Validate accepted %+v but New refused it: %v", cfg, err)
		}
	})
}
