package zones

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// TestGroupAccessChanges checks that access through a group follows
// membership at once on this server, despite the group cache, and that
// removing a group removes what it granted; and that inheritance copies
// group grants to new objects.
func TestGroupAccessChanges(t *testing.T) {
	e := newWalkEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rods, alice, bob := e.user(DefaultAdmin), e.user("alice"), e.user("bob")
	coll := catalog.MustPath(e.zone.Home("alice").String() + "/shared")
	obj := catalog.MustPath(coll.String() + "/o")
	if _, err := e.zone.MakeCollection(ctx, alice, coll, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.MakeGroup(ctx, rods, "team"); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.SetAccess(ctx, alice, coll, "team", catalog.AccessWrite, false, false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.SetInheritance(ctx, alice, coll, true, false, false); err != nil {
		t.Fatal(err)
	}
	put := func(who catalog.User, p catalog.Path) error {
		data := []byte("x")
		_, err := e.zone.Put(ctx, who, PutRequest{Path: p, Size: 1}, bytes.NewReader(data))
		return err
	}
	if err := put(alice, obj); err != nil {
		t.Fatal(err)
	}
	// Inherited: team has write on the new object.
	o, err := e.cat.DataObject(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	if lvl := accessOf(catalog.User{Name: "x", Zone: e.zone.Name()}, []catalog.UserID{{Name: "team", Zone: e.zone.Name()}}, o.ACL); lvl != catalog.AccessWrite {
		t.Errorf("inherited level of team on %s = %s, want write (ACL %v)", obj, lvl, o.ACL)
	}

	denied := func(err error) bool { return errors.Is(err, catalog.ErrPermission) }
	if _, err := e.zone.Stat(ctx, bob, obj); !denied(err) {
		t.Fatalf("bob outside team: stat = %v, want permission denied", err)
	}
	if err := e.zone.AddToGroup(ctx, rods, "team", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Stat(ctx, bob, obj); err != nil {
		t.Fatalf("bob in team: stat = %v", err)
	}
	if err := put(bob, catalog.MustPath(coll.String()+"/by-bob")); err != nil {
		t.Fatalf("bob in team: put = %v", err)
	}
	if err := e.zone.RemoveFromGroup(ctx, rods, "team", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Stat(ctx, bob, obj); !denied(err) {
		t.Fatalf("bob removed from team: stat = %v, want permission denied", err)
	}
	if err := e.zone.AddToGroup(ctx, rods, "team", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Stat(ctx, bob, obj); err != nil {
		t.Fatalf("bob back in team: stat = %v", err)
	}
	if err := e.zone.RemoveGroup(ctx, rods, "team"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Stat(ctx, bob, obj); !denied(err) {
		t.Fatalf("team removed: stat = %v, want permission denied", err)
	}
	o, err = e.cat.DataObject(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range o.ACL {
		if a.Principal.Name == "team" {
			t.Errorf("removed group still granted: %v", o.ACL)
		}
	}
	// public is a real group, and holds everyone.
	info, err := e.zone.DescribeUser(ctx, bob, PublicGroup)
	if err != nil {
		t.Fatal(err)
	}
	if info.User.Type != catalog.UserTypeGroup || len(info.Members) == 0 {
		t.Errorf("public = %+v", info)
	}
}
