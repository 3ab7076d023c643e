package zones_test

import (
	"context"
	"errors"
	"fmt"
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

// leakRule denies every operation with a message that shows everything a
// rule could learn of the object and destination it is asked about.
const leakRule = `
rules:
  - name: tell-all
    on: ["*"]
    condition: op.name != "rules.dryrun"
    deny: >-
      "exists=" + string(object.exists) + " kind=" + object.kind + " owner=" + object.owner +
      " size=" + string(object.size) + " checksum=" + object.checksum + " replicas=" + string(object.replicas.size()) +
      " meta=" + object.metadata.map(k, k + ":" + object.metadata[k]).join(",") +
      " values=" + object.metadataValues.map(k, k + ":" + object.metadataValues[k].join("|")).join(",") +
      " parent=" + object.parentMetadata.map(k, k + ":" + object.parentMetadata[k]).join(",") +
      " ancestors=" + object.ancestors.map(a, a.metadata.map(k, k + ":" + a.metadata[k]).join(",")).join("/") +
      " dest.exists=" + string(dest.exists) + " dest.meta=" + dest.metadata.map(k, k + ":" + dest.metadata[k]).join(",") +
      " dest.owner=" + dest.owner + " created.now=" + string(object.created == now) + " modified.now=" + string(object.modified == now) +
      " resource=" + resource.name + ":" + resource.metadata.map(k, k + ":" + resource.metadata[k]).join(",")
`

// TestDryRunLeaksNothing is an attacker's dry run: bob asks what the rules
// would say of every operation on alice's file, which he may not read,
// under a rule on "*" whose message shows everything a rule can see of
// it. Nothing of the file shows, and a file that is there and one that is
// not get the same answer.
func TestDryRunLeaksNothing(t *testing.T) {
	z := newRuleZone(t)
	ctx := context.Background()
	alice, bob := zones.As(z.alice), zones.As(z.bob)
	const home = "/tempZone/home/alice"
	z.mkdir(t, z.alice, home+"/private")
	z.put(t, z.alice, home+"/private/secret.dat", catalog.AVU{Attribute: "secret", Value: "launch-codes"})
	for _, p := range []string{home, home + "/private"} {
		if err := z.AddMetadata(ctx, alice, catalog.CollectionTarget(catalog.MustPath(p)), []catalog.AVU{{Attribute: "hidden", Value: "collection-secret"}}); err != nil {
			t.Fatal(err)
		}
	}
	z.load(t, leakRule)
	leaks := []string{"launch-codes", "collection-secret", "exists=true", "owner=alice", "kind=data object", "replicas=1"}

	answer := func(who zones.Principal, name zones.OpName, path string) string {
		p := catalog.MustPath(path)
		op := zones.Op{Name: name, Path: p, Dest: p, Resource: "demoResc", Size: 5,
			AVUs:  []catalog.AVU{{Attribute: "secret", Value: "x"}, {Attribute: "secret", Value: "y"}},
			Group: z.alice.UserID(), Account: z.alice.UserID(), Owner: z.alice.UserID(), Level: catalog.AccessOwn, Recursive: true}
		version, ds, err := z.DryRun(ctx, who, op)
		var b strings.Builder
		fmt.Fprintf(&b, "version %s, err %v", version, err)
		for _, d := range ds {
			fmt.Fprintf(&b, "; %s %s %s %v", d.Rule, d.Outcome, d.Message, d.Actions)
		}
		// The path asked about is the caller's own words.
		return strings.ReplaceAll(b.String(), path, "PATH")
	}
	for _, name := range zones.OperationNames() {
		t.Run(name, func(t *testing.T) {
			// Inside alice's home, which bob may not read, and alice's home
			// itself, in /tempZone/home, which he may.
			for _, target := range []string{home + "/private/secret.dat", home + "/private", home} {
				there := answer(bob, zones.OpName(name), target)
				missing := answer(bob, zones.OpName(name), target+"-missing")
				for _, l := range leaks {
					if strings.Contains(there, l) {
						t.Errorf("dry run of %s on %s shows %q: %s", name, target, l, there)
					}
				}
				if there != missing {
					t.Errorf("dry run of %s: an existing and a missing path differ:\n there:   %s\n missing: %s", name, there, missing)
				}
			}
		})
	}

	// The owner, and the administrator, are told everything; the owner can
	// dry-run metadata operations with the AVUs given.
	for _, who := range []zones.Principal{alice, zones.As(z.rods)} {
		got := answer(who, zones.OpMetadataList, home+"/private/secret.dat")
		if !strings.Contains(got, "meta=secret:launch-codes") || !strings.Contains(got, "exists=true") {
			t.Errorf("dry run of metadata.list by %s: %s", who.Name, got)
		}
	}
}

// TestDryRunMetadata: a user dry-runs metadata operations on what is hers,
// with the AVUs given, on a data object and a collection.
func TestDryRunMetadata(t *testing.T) {
	z := newRuleZone(t)
	ctx := context.Background()
	alice := zones.As(z.alice)
	const home = "/tempZone/home/alice"
	z.put(t, z.alice, home+"/record.pdf", catalog.AVU{Attribute: "retention_until", Value: "2030-01-01"})
	z.load(t, `
rules:
  - name: retention-only-grows
    on: ["metadata.*"]
    condition: >-
      "retention_until" in object.metadata && "retention_until" in op.metadata
      && (op.name == "metadata.remove" || ("retention_until" in op.newMetadata && date(op.newMetadata.retention_until) < date(object.metadata.retention_until))
          || (op.name == "metadata.modify" && !("retention_until" in op.newMetadata)))
    deny: '"retention of " + object.kind + " " + object.path + " only grows: " + op.name + " " + op.metadata.retention_until + " -> " + op.newMetadata.?retention_until.orValue("none")'
  - name: collections-say
    on: [metadata.add]
    condition: object.kind == "collection"
    deny: '"collection " + op.newMetadata.map(k, k + "=" + op.newMetadata[k]).join(",")'
`)
	avu := func(a, v string) catalog.AVU { return catalog.AVU{Attribute: a, Value: v} }
	for _, tc := range []struct {
		name zones.OpName
		path string
		avus []catalog.AVU
		want string // "" allowed
	}{
		{zones.OpMetadataModify, home + "/record.pdf", []catalog.AVU{avu("retention_until", "2030-01-01"), avu("retention_until", "2029-01-01")},
			"retention of data object " + home + "/record.pdf only grows: metadata.modify 2030-01-01 -> 2029-01-01"},
		{zones.OpMetadataModify, home + "/record.pdf", []catalog.AVU{avu("retention_until", "2030-01-01"), avu("retention_until", "2031-01-01")}, ""},
		{zones.OpMetadataModify, home + "/record.pdf", []catalog.AVU{avu("retention_until", "2030-01-01"), avu("until", "2031-01-01")}, "-> none"},
		{zones.OpMetadataSet, home + "/record.pdf", []catalog.AVU{avu("retention_until", "2000-01-01")}, "metadata.set 2000-01-01 -> 2000-01-01"},
		{zones.OpMetadataRemove, home + "/record.pdf", []catalog.AVU{avu("retention_until", "2030-01-01")}, "metadata.remove 2030-01-01 -> none"},
		{zones.OpMetadataAdd, home + "/record.pdf", []catalog.AVU{avu("project", "p1")}, ""},
		{zones.OpMetadataAdd, home, []catalog.AVU{avu("project", "p1")}, "collection project=p1"},
	} {
		_, ds, err := z.DryRun(ctx, alice, zones.Op{Name: tc.name, Path: catalog.MustPath(tc.path), AVUs: tc.avus})
		if err != nil {
			t.Errorf("%s %v: %v", tc.name, tc.avus, err)
			continue
		}
		var got string
		for _, d := range ds {
			if d.Outcome == "deny" {
				got = d.Message
			}
		}
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s %v: %q, want %q", tc.name, tc.avus, got, tc.want)
		}
	}

	// Bob may not dry-run them on alice's object, nor a size no put takes.
	if _, _, err := z.DryRun(ctx, zones.As(z.bob), zones.Op{Name: zones.OpMetadataSet, Path: catalog.MustPath(home + "/record.pdf"), AVUs: []catalog.AVU{avu("a", "b")}}); !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("bob's dry run of metadata.set on alice's object: %v", err)
	}
	if _, _, err := z.DryRun(ctx, alice, zones.Op{Name: zones.OpPut, Path: catalog.MustPath(home + "/new"), Size: -7}); !errors.Is(err, catalog.ErrInvalidArgument) {
		t.Errorf("dry run of a put of size -7: %v", err)
	}
}
