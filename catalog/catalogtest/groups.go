package catalogtest

import (
	"slices"
	"testing"

	"github.com/arca-data/arca/catalog"
)

var (
	staff = catalog.UserID{Name: "staff", Zone: "tempZone"}
	carol = catalog.UserID{Name: "carol", Zone: "tempZone"}
)

func (f *fixture) users(t *testing.T, ids ...catalog.UserID) {
	t.Helper()
	for _, id := range ids {
		must(f.cat.CreateUser(f.ctx, catalog.User{Name: id.Name, Zone: id.Zone, Type: catalog.UserTypeUser}))(t)
	}
}

func equalIDs(t testing.TB, what string, got []catalog.UserID, want ...catalog.UserID) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

var groupTests = []test{
	{"Membership", func(t *testing.T, f *fixture) {
		f.users(t, alice, bob, carol)
		g := must(f.cat.CreateGroup(f.ctx, staff))(t)
		if g.Type != catalog.UserTypeGroup || g.UserID() != staff || g.ID == 0 {
			t.Fatalf("CreateGroup = %+v", g)
		}
		_, err := f.cat.CreateGroup(f.ctx, staff)
		wantErr(t, err, catalog.ErrExists)
		_, err = f.cat.CreateGroup(f.ctx, alice)
		wantErr(t, err, catalog.ErrExists)
		if u := must(f.cat.User(f.ctx, staff))(t); u.Type != catalog.UserTypeGroup {
			t.Errorf("User(staff).Type = %s", u.Type)
		}
		other := catalog.UserID{Name: "other", Zone: "tempZone"}
		must(f.cat.CreateGroup(f.ctx, other))(t)
		gs := must(f.cat.ListGroups(f.ctx))(t)
		var names []catalog.UserID
		for _, g := range gs {
			names = append(names, g.UserID())
		}
		equalIDs(t, "ListGroups", names, other, staff)

		ok(t, f.cat.AddMember(f.ctx, staff, bob))
		ok(t, f.cat.AddMember(f.ctx, staff, alice))
		ok(t, f.cat.AddMember(f.ctx, other, bob))
		wantErr(t, f.cat.AddMember(f.ctx, staff, bob), catalog.ErrExists)
		wantErr(t, f.cat.AddMember(f.ctx, staff, other), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.AddMember(f.ctx, alice, bob), catalog.ErrNotFound) // alice is no group
		wantErr(t, f.cat.AddMember(f.ctx, catalog.UserID{Name: "nogroup", Zone: "tempZone"}, bob), catalog.ErrNotFound)
		wantErr(t, f.cat.AddMember(f.ctx, staff, catalog.UserID{Name: "nobody", Zone: "tempZone"}), catalog.ErrNotFound)

		equalIDs(t, "Members(staff)", must(f.cat.Members(f.ctx, staff))(t), alice, bob)
		equalIDs(t, "GroupsOf(bob)", must(f.cat.GroupsOf(f.ctx, bob))(t), other, staff)
		equalIDs(t, "GroupsOf(carol)", must(f.cat.GroupsOf(f.ctx, carol))(t))
		_, err = f.cat.Members(f.ctx, alice)
		wantErr(t, err, catalog.ErrNotFound)

		ok(t, f.cat.RemoveMember(f.ctx, staff, bob))
		wantErr(t, f.cat.RemoveMember(f.ctx, staff, bob), catalog.ErrNotFound)
		wantErr(t, f.cat.RemoveMember(f.ctx, staff, carol), catalog.ErrNotFound)
		equalIDs(t, "Members(staff) after removal", must(f.cat.Members(f.ctx, staff))(t), alice)
		equalIDs(t, "GroupsOf(bob) after removal", must(f.cat.GroupsOf(f.ctx, bob))(t), other)

		// A group stays a group, a user a user.
		wantErr(t, f.cat.UpdateUser(f.ctx, catalog.User{Name: "staff", Zone: "tempZone", Type: catalog.UserTypeUser}), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.UpdateUser(f.ctx, catalog.User{Name: "bob", Zone: "tempZone", Type: catalog.UserTypeGroup}), catalog.ErrInvalidArgument)
		ok(t, f.cat.UpdateUser(f.ctx, catalog.User{Name: "staff", Zone: "tempZone", Type: catalog.UserTypeGroup, Info: "the staff"}))

		// Removing a user takes it out of its groups.
		ok(t, f.cat.RemoveUser(f.ctx, alice))
		equalIDs(t, "Members(staff) after RemoveUser(alice)", must(f.cat.Members(f.ctx, staff))(t))
	}},
	{"RemoveGroup", func(t *testing.T, f *fixture) {
		f.users(t, alice, bob)
		must(f.cat.CreateGroup(f.ctx, staff))(t)
		ok(t, f.cat.AddMember(f.ctx, staff, bob))
		f.mkdir("c", alice)
		f.put("c/o", demoResc, "sha2:1")
		ok(t, f.cat.SetAccess(f.ctx, f.path("c"), staff, catalog.AccessRead))
		ok(t, f.cat.SetAccess(f.ctx, f.path("c/o"), staff, catalog.AccessWrite))
		ok(t, f.cat.AddMetadata(f.ctx, catalog.UserTarget(staff), avu("a", "v")))

		wantErr(t, f.cat.RemoveGroup(f.ctx, bob), catalog.ErrNotFound) // not a group
		must(f.cat.User(f.ctx, bob))(t)
		ok(t, f.cat.RemoveGroup(f.ctx, staff))
		wantErr(t, f.cat.RemoveGroup(f.ctx, staff), catalog.ErrNotFound)
		_, err := f.cat.User(f.ctx, staff)
		wantErr(t, err, catalog.ErrNotFound)
		equalIDs(t, "GroupsOf(bob)", must(f.cat.GroupsOf(f.ctx, bob))(t))
		own := catalog.ACE{Principal: alice, Level: catalog.AccessOwn}
		equalACL(t, "c", f.collection("c").ACL, own)
		equalACL(t, "c/o", f.object("c/o").ACL, own)
		// A new group of the same name starts without the old one's members.
		must(f.cat.CreateGroup(f.ctx, staff))(t)
		equalIDs(t, "Members(new staff)", must(f.cat.Members(f.ctx, staff))(t))
	}},
	{"Inheritance", func(t *testing.T, f *fixture) {
		c := f.mkdir("c", alice)
		if c.Inherit {
			t.Fatal("a new collection inherits by default")
		}
		ok(t, f.cat.SetAccess(f.ctx, f.path("c"), bob, catalog.AccessRead))
		ok(t, f.cat.SetAccess(f.ctx, f.path("c"), staff, catalog.AccessWrite))
		// Off: children get only their owner.
		f.put("c/before", demoResc, "sha2:1")
		equalACL(t, "c/before", f.object("c/before").ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})

		ok(t, f.cat.SetInheritance(f.ctx, f.path("c"), true))
		if !f.collection("c").Inherit {
			t.Fatal("SetInheritance(true) did not stick")
		}
		// Existing children are unchanged.
		equalACL(t, "c/before after inherit", f.object("c/before").ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})

		want := []catalog.ACE{
			{Principal: alice, Level: catalog.AccessOwn},
			{Principal: bob, Level: catalog.AccessRead},
			{Principal: staff, Level: catalog.AccessWrite},
		}
		o := f.put("c/o", demoResc, "sha2:2")
		equalACL(t, "c/o", o.ACL, want...)
		// The creator keeps own even where the parent grants it less.
		sub := must(f.cat.CreateCollection(f.ctx, catalog.Collection{Path: f.path("c/sub"), Owner: bob}))(t)
		wantSub := []catalog.ACE{want[0], {Principal: bob, Level: catalog.AccessOwn}, want[2]}
		equalACL(t, "CreateCollection(c/sub)", sub.ACL, wantSub...)
		equalACL(t, "c/sub", f.collection("c/sub").ACL, wantSub...)
		if !sub.Inherit || !f.collection("c/sub").Inherit {
			t.Error("a sub-collection of an inheriting collection does not inherit")
		}
		// And on down.
		f.put("c/sub/deep", demoResc, "sha2:3")
		equalACL(t, "c/sub/deep", f.object("c/sub/deep").ACL, wantSub...)

		// Listings carry the flag.
		colls := must(f.cat.ListCollections(f.ctx, f.path("c"), "", 10))(t)
		if len(colls) != 1 || !colls[0].Inherit {
			t.Errorf("ListCollections(c) = %+v, want sub inheriting", colls)
		}

		ok(t, f.cat.SetInheritance(f.ctx, f.path("c"), false))
		if f.collection("c").Inherit {
			t.Error("SetInheritance(false) did not stick")
		}
		f.put("c/after", demoResc, "sha2:4")
		equalACL(t, "c/after", f.object("c/after").ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
		if !f.collection("c/sub").Inherit {
			t.Error("noinherit on c changed c/sub")
		}

		wantErr(t, f.cat.SetInheritance(f.ctx, f.path("c/o"), true), catalog.ErrNotCollection)
		wantErr(t, f.cat.SetInheritance(f.ctx, f.path("missing"), true), catalog.ErrNotFound)
	}},
}
