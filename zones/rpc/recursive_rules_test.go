package rpc

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// guardRules protect every object named locked.dat from each operation that
// can reach it through its collection.
const guardRules = `rules:
  - name: guard
    on: [acl.set, acl.inherit, replicate, trim, physmove, trash.remove, remove, rename, stage]
    condition: object.name == "locked.dat"
    deny: '"locked.dat is guarded"'
`

// TestRecursiveOperationsCheckEveryObject tries, as the owner of a
// collection, every recursive operation on it while a rule guards one
// object inside: each is refused as a whole with the rule's denial, and
// nothing changed, not even for the objects the rule does not guard.
func TestRecursiveOperationsCheckEveryObject(t *testing.T) {
	e := newWalkEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rods, alice := zones.As(e.user(zones.DefaultAdmin)), zones.As(e.user("alice"))
	second := filepath.Join(t.TempDir(), "second")
	if _, err := e.zone.MakeResource(ctx, rods, catalog.Resource{Name: "secondResc", Type: "posix", Location: second}); err != nil {
		t.Fatal(err)
	}
	coll := catalog.MustPath(e.zone.Home("alice").String() + "/guarded")
	if _, err := e.zone.MakeCollection(ctx, alice, catalog.MustPath(coll.String()+"/sub"), true); err != nil {
		t.Fatal(err)
	}
	locked := catalog.MustPath(coll.String() + "/sub/locked.dat")
	free := catalog.MustPath(coll.String() + "/free.dat")
	for _, p := range []catalog.Path{free, locked} {
		if _, err := e.zone.Put(ctx, alice, zones.PutRequest{Path: p, Size: 4}, bytes.NewReader([]byte("data"))); err != nil {
			t.Fatal(err)
		}
	}
	// Two replicas each, so that itrim has something to trim.
	if err := e.zone.Replicate(ctx, alice, zones.ReplicateRequest{Path: coll, Dest: "secondResc", Recursive: true}, func(zones.ReplicaChange) error { return nil }); err != nil {
		t.Fatal(err)
	}
	load(t, e, guardRules)

	snapshot := func() map[catalog.Path]catalog.DataObject {
		out := map[catalog.Path]catalog.DataObject{}
		for _, p := range []catalog.Path{free, locked} {
			o, err := e.cat.DataObject(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			out[p] = o
		}
		return out
	}
	before := snapshot()
	nop := func(zones.ReplicaChange) error { return nil }
	third := filepath.Join(t.TempDir(), "third")
	if _, err := e.zone.MakeResource(ctx, rods, catalog.Resource{Name: "thirdResc", Type: "posix", Location: third}); err != nil {
		t.Fatal(err)
	}
	attempts := []struct {
		name string
		run  func(who zones.Principal) error
	}{
		{"ichmod -r", func(who zones.Principal) error {
			return e.zone.SetAccess(ctx, who, coll, "bob", catalog.AccessRead, true, false)
		}},
		{"ichmod -r inherit", func(who zones.Principal) error { return e.zone.SetInheritance(ctx, who, coll, true, true, false) }},
		{"irepl -r", func(who zones.Principal) error {
			return e.zone.Replicate(ctx, who, zones.ReplicateRequest{Path: coll, Dest: "thirdResc", Recursive: true}, nop)
		}},
		{"itrim -r", func(who zones.Principal) error {
			return e.zone.Trim(ctx, who, zones.TrimRequest{Path: coll, Keep: 1, Recursive: true}, nop)
		}},
		{"iphymv -r", func(who zones.Principal) error {
			return e.zone.PhysMove(ctx, who, zones.PhysMoveRequest{Path: coll, Source: "secondResc", Dest: "thirdResc", Recursive: true}, nop)
		}},
		{"istage -r", func(who zones.Principal) error { _, err := e.zone.Stage(ctx, who, coll, true); return err }},
		{"irm -r -f", func(who zones.Principal) error { _, err := e.zone.Remove(ctx, who, coll, true, true); return err }},
		{"imv", func(who zones.Principal) error {
			return e.zone.Rename(ctx, who, coll, catalog.MustPath(e.zone.Home("alice").String()+"/moved"))
		}},
	}
	for _, who := range []struct {
		label string
		p     zones.Principal
	}{{"owner", alice}, {"rodsadmin", rods}} {
		for _, a := range attempts {
			err := a.run(who.p)
			var d *rules.Denial
			if !errors.As(err, &d) || d.Rule != "guard" {
				t.Errorf("%s as %s: %v; want the denial of rule guard", a.name, who.label, err)
			}
		}
	}
	after := snapshot()
	for p, o := range before {
		a := after[p]
		if len(a.Replicas) != len(o.Replicas) || len(a.ACL) != len(o.ACL) {
			t.Errorf("%s changed although every operation was refused: replicas %d -> %d, ACL %v -> %v", p, len(o.Replicas), len(a.Replicas), o.ACL, a.ACL)
		}
		for i := range o.Replicas {
			if a.Replicas[i].Resource != o.Replicas[i].Resource || a.Replicas[i].Status != o.Replicas[i].Status {
				t.Errorf("%s: replica %d was %v, now %v", p, i, o.Replicas[i], a.Replicas[i])
			}
		}
	}

	// The trash is no way around it: with a rule on trash.remove only, irm
	// moves the collection to the trash, and irmtrash is refused for the
	// object inside, by its path in the trash.
	load(t, e, `rules:
  - name: guard-trash
    on: [trash.remove]
    condition: object.name == "locked.dat"
    deny: '"locked.dat stays: " + object.path'
`)
	if _, err := e.zone.Remove(ctx, alice, coll, true, false); err != nil {
		t.Fatal(err)
	}
	_, err := e.zone.RemoveTrash(ctx, alice, "", false)
	var d *rules.Denial
	if !errors.As(err, &d) || d.Rule != "guard-trash" {
		t.Fatalf("irmtrash: %v; want the denial of guard-trash", err)
	}
	inTrash := catalog.MustPath(e.zone.TrashHome("alice").String() + "/guarded/sub/locked.dat")
	if d.Message != "locked.dat stays: "+inTrash.String() {
		t.Errorf("the rule saw %q; want the object's path in the trash", d.Message)
	}
	for _, p := range []catalog.Path{inTrash, catalog.MustPath(e.zone.TrashHome("alice").String() + "/guarded/free.dat")} {
		if _, err := e.cat.DataObject(ctx, p); err != nil {
			t.Errorf("%s after a refused irmtrash: %v", p, err)
		}
	}
	// Without the guarded object the trash empties.
	load(t, e, "rules: []\n")
	if _, err := e.zone.RemoveTrash(ctx, alice, "", false); err != nil {
		t.Fatal(err)
	}
}

// load makes text the zone's rule set.
func load(t *testing.T, e *walkEnv, text string) {
	t.Helper()
	set, err := e.zone.Rules().Compile(map[string][]byte{"guard.yaml": []byte(text)})
	if err != nil {
		t.Fatal(err)
	}
	e.zone.Rules().Load(set)
}
