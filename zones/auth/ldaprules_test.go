package auth

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/testldap"
	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// ldapRules are rules on what a login does by itself: dave may not have an
// account made (the help desk makes such accounts), nobody joins physics
// from the directory, and a provisioned home says where it came from.
const ldapRules = `
rules:
  - name: no-da-accounts
    on: [user.provision]
    condition: user.name.matches("^da")
    deny: '"accounts for " + user.name + " are made by the help desk"'
  - name: physics-by-hand
    on: ["group.sync.*"]
    condition: op.group == "physics"
    deny: '"physics is managed by hand"'
  - name: mark-provisioned
    on: [user.provision]
    when: post
    then:
      - metadata.set: {attribute: "'provisioned_from'", value: "'ldap'"}
`

func TestLDAPProvisionRules(t *testing.T) {
	d := testldap.Get(t)
	z, _ := ldapZone(t, d, nil)
	ctx := context.Background()
	reg := rules.NewRegistry()
	if err := policies.Register(reg, z, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	e, err := rules.New(rules.Options{Registry: reg, Catalog: z.cat, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	z.UseRules(e)
	set, err := e.Compile(map[string][]byte{"ldap.yaml": []byte(ldapRules)})
	if err != nil {
		t.Fatal(err)
	}
	e.Load(set)

	// dave's password is right, and the rule refuses his account: the
	// login fails with the rule's message, and nothing is made.
	_, _, err = z.testLogin("dave", d.Passwords["dave"])
	if !errors.Is(err, rules.ErrDenied) || !strings.Contains(err.Error(), "made by the help desk") {
		t.Fatalf("dave's login: %v, want the rule's denial", err)
	}
	if _, err := z.cat.User(ctx, catalog.UserID{Name: "dave", Zone: z.Name()}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("dave after the denied provisioning: %v, want not found", err)
	}
	if _, err := z.cat.Stat(ctx, z.Home("dave")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("dave's home after the denied provisioning: %v, want not found", err)
	}
	// A wrong password still hears only that.
	if _, _, err := z.testLogin("dave", "wrong"); !errors.Is(err, zones.ErrUnauthenticated) || errors.Is(err, rules.ErrDenied) {
		t.Errorf("dave with a wrong password: %v", err)
	}

	// alice is provisioned; the post rule marks her home; the directory's
	// physics group is not joined, lab is.
	if _, _, err := z.testLogin("alice", d.Passwords["alice"]); err != nil {
		t.Fatal(err)
	}
	avus, err := z.cat.ListMetadata(ctx, catalog.AVUTarget{Kind: catalog.TargetCollection, Path: z.Home("alice")})
	if err != nil || !slices.ContainsFunc(avus, func(a catalog.AVU) bool { return a.Attribute == "provisioned_from" && a.Value == "ldap" }) {
		t.Errorf("alice's home metadata = %+v, %v; want provisioned_from=ldap", avus, err)
	}
	if got, want := groupsOf(t, z, "alice"), []string{"lab"}; !slices.Equal(got, want) {
		t.Errorf("alice's groups = %q, want %q (physics denied)", got, want)
	}
}
