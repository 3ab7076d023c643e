package zones_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// TestDenialInsideHidesUnreadable: when a rule refuses a rename of a
// collection because of an object inside it that the caller may not read,
// the caller learns which rule refused, not the object's path nor what
// the rule's message says of it; the audit keeps the whole decision. A
// recursive removal, refused for want of access below, does not name what
// the caller may not read either.
func TestDenialInsideHidesUnreadable(t *testing.T) {
	z := newRuleZone(t)
	ctx := context.Background()
	alice, bob := zones.As(z.alice), zones.As(z.bob)
	coll := "/tempZone/home/alice/shared"
	z.mkdir(t, z.alice, coll+"/deeper")
	// bob may write into alice's collection; what he puts there is his.
	if err := z.SetAccess(ctx, alice, catalog.MustPath(coll), "bob", catalog.AccessWrite, true, false); err != nil {
		t.Fatal(err)
	}
	z.put(t, z.bob, coll+"/deeper/bobs-secret.dat", catalog.AVU{Attribute: "secret", Value: "launch-codes"})
	z.put(t, z.alice, coll+"/alices.dat")
	z.load(t, `
rules:
  - name: keep-secrets
    on: [rename, remove]
    condition: '"secret" in object.metadata'
    deny: '"will not move " + object.path + ": " + object.metadata.secret'
`)
	hidden := []string{"bobs-secret", "launch-codes"}

	err := z.Rename(ctx, alice, catalog.MustPath(coll), catalog.MustPath("/tempZone/home/alice/moved"))
	var d *rules.Denial
	if !errors.As(err, &d) || d.Rule != "keep-secrets" {
		t.Fatalf("rename: %v, want a denial by keep-secrets", err)
	}
	for _, h := range hidden {
		if strings.Contains(err.Error(), h) {
			t.Errorf("the denial shows %q of an object alice cannot read: %v", h, err)
		}
	}
	if !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("the denial does not say why it is vague: %v", err)
	}
	if audit := z.audit.String(); !strings.Contains(audit, "bobs-secret.dat") || !strings.Contains(audit, "launch-codes") {
		t.Errorf("the audit lacks the decision's detail:\n%s", audit)
	}
	if _, err := z.cat.Stat(ctx, catalog.MustPath(coll)); err != nil {
		t.Errorf("a refused rename moved the collection: %v", err)
	}

	// What alice may read she is told of: once she may read bob's object,
	// the same refusal names it.
	if err := z.SetAccess(ctx, bob, catalog.MustPath(coll+"/deeper/bobs-secret.dat"), "alice", catalog.AccessRead, false, false); err != nil {
		t.Fatal(err)
	}
	err = z.Rename(ctx, alice, catalog.MustPath(coll), catalog.MustPath("/tempZone/home/alice/moved"))
	if !errors.As(err, &d) || !strings.Contains(err.Error(), "bobs-secret.dat") || !strings.Contains(err.Error(), "launch-codes") {
		t.Errorf("rename, bob's object readable: %v, want the rule's full message", err)
	}
	if err := z.SetAccess(ctx, bob, catalog.MustPath(coll+"/deeper/bobs-secret.dat"), "alice", catalog.AccessNull, false, false); err != nil {
		t.Fatal(err)
	}

	// A recursive removal needs own on everything below: refused before
	// any rule, without naming what alice cannot read.
	_, err = z.Remove(ctx, alice, catalog.MustPath(coll), true, false)
	if !errors.Is(err, catalog.ErrPermission) {
		t.Fatalf("remove -r: %v, want permission denied", err)
	}
	for _, h := range hidden {
		if strings.Contains(err.Error(), h) {
			t.Errorf("remove -r shows %q of an object alice cannot read: %v", h, err)
		}
	}

	// The administrator may read everything, and hears everything.
	err = z.Rename(ctx, zones.As(z.rods), catalog.MustPath(coll), catalog.MustPath("/tempZone/home/alice/moved"))
	if !errors.As(err, &d) || !strings.Contains(err.Error(), "launch-codes") {
		t.Errorf("rename by rods: %v, want the rule's full message", err)
	}
}
