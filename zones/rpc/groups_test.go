package rpc

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// TestGroupAccessChanges checks that access through a group follows
// membership at once on this server, despite the group cache, and that
// removing a group removes what it granted; and that inheritance copies
// group grants to new objects.
func TestGroupAccessChanges(t *testing.T) {
	e := newWalkEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rods, alice, bob := e.user(zones.DefaultAdmin), e.user("alice"), e.user("bob")
	coll := catalog.MustPath(e.zone.Home("alice").String() + "/shared")
	obj := catalog.MustPath(coll.String() + "/o")
	if _, err := e.zone.MakeCollection(ctx, zones.As(alice), coll, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.MakeGroup(ctx, zones.As(rods), "team"); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.SetAccess(ctx, zones.As(alice), coll, "team", catalog.AccessWrite, false, false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.SetInheritance(ctx, zones.As(alice), coll, true, false, false); err != nil {
		t.Fatal(err)
	}
	put := func(who catalog.User, p catalog.Path) error {
		data := []byte("x")
		_, err := e.zone.Put(ctx, zones.As(who), zones.PutRequest{Path: p, Size: 1}, bytes.NewReader(data))
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
	team := catalog.UserID{Name: "team", Zone: e.zone.Name()}
	if i := slices.IndexFunc(o.ACL, func(a catalog.ACE) bool { return a.Principal == team }); i < 0 || o.ACL[i].Level != catalog.AccessWrite {
		t.Errorf("team has no inherited write on %s (ACL %v)", obj, o.ACL)
	}

	denied := func(err error) bool { return errors.Is(err, catalog.ErrPermission) }
	if _, err := e.zone.Stat(ctx, zones.As(bob), obj); !denied(err) {
		t.Fatalf("bob outside team: stat = %v, want permission denied", err)
	}
	if err := e.zone.AddToGroup(ctx, zones.As(rods), "team", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Stat(ctx, zones.As(bob), obj); err != nil {
		t.Fatalf("bob in team: stat = %v", err)
	}
	if err := put(bob, catalog.MustPath(coll.String()+"/by-bob")); err != nil {
		t.Fatalf("bob in team: put = %v", err)
	}
	if err := e.zone.RemoveFromGroup(ctx, zones.As(rods), "team", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Stat(ctx, zones.As(bob), obj); !denied(err) {
		t.Fatalf("bob removed from team: stat = %v, want permission denied", err)
	}
	if err := e.zone.AddToGroup(ctx, zones.As(rods), "team", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Stat(ctx, zones.As(bob), obj); err != nil {
		t.Fatalf("bob back in team: stat = %v", err)
	}
	if err := e.zone.RemoveGroup(ctx, zones.As(rods), "team"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.Stat(ctx, zones.As(bob), obj); !denied(err) {
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
	info, err := e.zone.DescribeUser(ctx, zones.As(bob), zones.PublicGroup)
	if err != nil {
		t.Fatal(err)
	}
	if info.User.Type != catalog.UserTypeGroup || len(info.Members) == 0 {
		t.Errorf("public = %+v", info)
	}
}
