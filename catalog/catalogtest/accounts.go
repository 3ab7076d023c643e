package catalogtest

import (
	"slices"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

var userTests = []test{
	{"CRUD", func(t *testing.T, f *fixture) {
		u := must(f.cat.CreateUser(f.ctx, catalog.User{Name: "alice", Zone: "tempZone", Type: catalog.UserTypeUser,
			PasswordHash: "$argon2id$v=19$x", Info: "Alice"}))(t)
		if u.ID == 0 || u.Name != "alice" || u.Zone != "tempZone" || u.Type != catalog.UserTypeUser ||
			u.PasswordHash != "$argon2id$v=19$x" || u.Info != "Alice" {
			t.Fatalf("CreateUser = %+v", u)
		}
		checkTime(t, "create time", u.CreateTime, f.start)
		got := must(f.cat.User(f.ctx, alice))(t)
		if got.ID != u.ID || got.PasswordHash != u.PasswordHash || got.Info != u.Info || got.Type != u.Type ||
			!got.CreateTime.Equal(u.CreateTime) || !got.ModifyTime.Equal(u.ModifyTime) {
			t.Errorf("User = %+v, want %+v", got, u)
		}
		_, err := f.cat.CreateUser(f.ctx, catalog.User{Name: "alice", Zone: "tempZone", Type: catalog.UserTypeAdmin})
		wantErr(t, err, catalog.ErrExists)
		if got := must(f.cat.User(f.ctx, alice))(t); got.Type != catalog.UserTypeUser {
			t.Errorf("duplicate create changed the type to %s", got.Type)
		}
		// The same name in another zone is another user.
		remote := must(f.cat.CreateUser(f.ctx, catalog.User{Name: "alice", Zone: "otherZone", Type: catalog.UserTypeUser}))(t)
		rods := must(f.cat.CreateUser(f.ctx, catalog.User{Name: "rods", Zone: "tempZone", Type: catalog.UserTypeAdmin}))(t)
		grp := must(f.cat.CreateUser(f.ctx, catalog.User{Name: "public", Zone: "tempZone", Type: catalog.UserTypeGroup}))(t)
		if remote.ID == u.ID || rods.ID == u.ID || grp.ID == rods.ID {
			t.Errorf("users share ids: %v %v %v %v", u.ID, remote.ID, rods.ID, grp.ID)
		}
		all := must(f.cat.Users(f.ctx))(t)
		var ids []string
		for _, x := range all {
			ids = append(ids, x.UserID().String())
		}
		slices.Sort(ids)
		if want := []string{"alice#otherZone", "alice#tempZone", "public#tempZone", "rods#tempZone"}; !slices.Equal(ids, want) {
			t.Errorf("Users = %v, want %v", ids, want)
		}

		before := time.Now()
		ok(t, f.cat.UpdateUser(f.ctx, catalog.User{Name: "alice", Zone: "tempZone", Type: catalog.UserTypeGroupAdmin,
			PasswordHash: "new", Info: "changed"}))
		got = must(f.cat.User(f.ctx, alice))(t)
		if got.Type != catalog.UserTypeGroupAdmin || got.PasswordHash != "new" || got.Info != "changed" ||
			got.ID != u.ID || !got.CreateTime.Equal(u.CreateTime) {
			t.Errorf("after update: %+v", got)
		}
		checkTime(t, "modify time", got.ModifyTime, before)
		if got.Auth != catalog.AuthNative {
			t.Errorf("a new user authenticates with %q, want native", got.Auth)
		}
		ok(t, f.cat.UpdateUser(f.ctx, catalog.User{Name: "alice", Zone: "tempZone", Type: catalog.UserTypeUser, Auth: catalog.AuthLDAP}))
		if got := must(f.cat.User(f.ctx, alice))(t); got.Auth != catalog.AuthLDAP || got.PasswordHash != "" {
			t.Errorf("after switching to LDAP: %+v", got)
		}
		dir := must(f.cat.CreateUser(f.ctx, catalog.User{Name: "dave", Zone: "tempZone", Type: catalog.UserTypeUser, Auth: catalog.AuthLDAP}))(t)
		if got := must(f.cat.User(f.ctx, dir.UserID()))(t); got.Auth != catalog.AuthLDAP || dir.Auth != catalog.AuthLDAP {
			t.Errorf("LDAP user reads back as %+v", got)
		}
		ok(t, f.cat.RemoveUser(f.ctx, dir.UserID()))
		if r := must(f.cat.User(f.ctx, remote.UserID()))(t); r.Info != "" || r.Type != catalog.UserTypeUser {
			t.Errorf("update of alice#tempZone changed alice#otherZone: %+v", r)
		}

		ok(t, f.cat.RemoveUser(f.ctx, alice))
		_, err = f.cat.User(f.ctx, alice)
		wantErr(t, err, catalog.ErrNotFound)
		wantErr(t, f.cat.RemoveUser(f.ctx, alice), catalog.ErrNotFound)
		wantErr(t, f.cat.UpdateUser(f.ctx, catalog.User{Name: "alice", Zone: "tempZone", Type: catalog.UserTypeUser}), catalog.ErrNotFound)
		must(f.cat.User(f.ctx, remote.UserID()))(t)
		if n := len(must(f.cat.Users(f.ctx))(t)); n != 3 {
			t.Errorf("%d users left, want 3", n)
		}
	}},
	{"Errors", func(t *testing.T, f *fixture) {
		cases := []struct {
			name string
			u    catalog.User
		}{
			{"no name", catalog.User{Zone: "tempZone", Type: catalog.UserTypeUser}},
			{"no zone", catalog.User{Name: "x", Type: catalog.UserTypeUser}},
			{"bad name", catalog.User{Name: "x y", Zone: "tempZone", Type: catalog.UserTypeUser}},
			{"hash in name", catalog.User{Name: "x#y", Zone: "tempZone", Type: catalog.UserTypeUser}},
			{"no type", catalog.User{Name: "x", Zone: "tempZone"}},
			{"bad type", catalog.User{Name: "x", Zone: "tempZone", Type: "superuser"}},
			{"bad auth", catalog.User{Name: "x", Zone: "tempZone", Type: catalog.UserTypeUser, Auth: "kerberos"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.cat.CreateUser(f.ctx, tc.u)
				wantErr(t, err, catalog.ErrInvalidArgument)
			})
		}
		if l := must(f.cat.Users(f.ctx))(t); len(l) != 0 {
			t.Errorf("failed creates left users %v", l)
		}
		_, err := f.cat.User(f.ctx, catalog.UserID{Name: "nobody", Zone: "tempZone"})
		wantErr(t, err, catalog.ErrNotFound)
		must(f.cat.CreateUser(f.ctx, catalog.User{Name: "x", Zone: "tempZone", Type: catalog.UserTypeUser}))(t)
		wantErr(t, f.cat.UpdateUser(f.ctx, catalog.User{Name: "x", Zone: "tempZone", Type: "bogus"}), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.UpdateUser(f.ctx, catalog.User{Name: "x", Zone: "tempZone", Type: catalog.UserTypeUser, Auth: "pam"}), catalog.ErrInvalidArgument)
	}},
	{"RemoveEndsSessionsAndGrants", func(t *testing.T, f *fixture) {
		must(f.cat.CreateUser(f.ctx, catalog.User{Name: "bob", Zone: "tempZone", Type: catalog.UserTypeUser}))(t)
		ok(t, f.cat.CreateSession(f.ctx, catalog.Session{TokenHash: "t1", User: bob, Expires: time.Now().Add(time.Hour)}))
		ok(t, f.cat.CreateSession(f.ctx, catalog.Session{TokenHash: "t2", User: alice, Expires: time.Now().Add(time.Hour)}))
		f.mkdir("shared", alice)
		ok(t, f.cat.SetAccess(f.ctx, f.path("shared"), bob, catalog.AccessWrite))
		ok(t, f.cat.RemoveUser(f.ctx, bob))
		_, err := f.cat.Session(f.ctx, "t1")
		wantErr(t, err, catalog.ErrNotFound)
		must(f.cat.Session(f.ctx, "t2"))(t)
		equalACL(t, "shared", f.collection("shared").ACL, catalog.ACE{Principal: alice, Level: catalog.AccessOwn})
	}},
}

var resourceTests = []test{
	{"CRUD", func(t *testing.T, f *fixture) {
		r := must(f.cat.CreateResource(f.ctx, catalog.Resource{Name: "s3Resc", Type: "s3", Location: "bucket",
			Context: "region=x;k=v", Status: "down", Comment: "c", QoS: "geo=DE,type=tape"}))(t)
		if r.ID == 0 || r.Name != "s3Resc" || r.Type != "s3" || r.Location != "bucket" || r.Context != "region=x;k=v" ||
			r.Status != "down" || r.Comment != "c" || r.Parent != "" || r.QoS != "geo=DE,type=tape" {
			t.Fatalf("CreateResource = %+v", r)
		}
		checkTime(t, "create time", r.CreateTime, f.start)
		got := must(f.cat.Resource(f.ctx, "s3Resc"))(t)
		if got != r {
			t.Errorf("Resource = %+v, want %+v", got, r)
		}
		_, err := f.cat.CreateResource(f.ctx, catalog.Resource{Name: "s3Resc", Type: "posix"})
		wantErr(t, err, catalog.ErrExists)
		child := must(f.cat.CreateResource(f.ctx, catalog.Resource{Name: "child", Type: "posix", Parent: "s3Resc"}))(t)
		if child.Parent != "s3Resc" || child.Status != "up" {
			t.Errorf("child = %+v, want parent s3Resc and status up by default", child)
		}

		var names []string
		for _, x := range must(f.cat.ListResources(f.ctx))(t) {
			names = append(names, x.Name)
		}
		slices.Sort(names)
		if want := []string{"child", demoResc, otherResc, "s3Resc"}; !slices.Equal(names, want) {
			t.Errorf("ListResources = %v, want %v", names, want)
		}

		before := time.Now()
		upd := catalog.Resource{Name: "s3Resc", Type: "s3", Location: "bucket2", Context: "", Status: "up", Comment: "new", Parent: demoResc,
			QoS: "geo=FR,latency=20"}
		ok(t, f.cat.UpdateResource(f.ctx, upd))
		got = must(f.cat.Resource(f.ctx, "s3Resc"))(t)
		if got.Location != "bucket2" || got.Context != "" || got.Status != "up" || got.Comment != "new" || got.QoS != "geo=FR,latency=20" ||
			got.Parent != demoResc || got.ID != r.ID || !got.CreateTime.Equal(r.CreateTime) {
			t.Errorf("after update: %+v", got)
		}
		checkTime(t, "modify time", got.ModifyTime, before)
		wantErr(t, f.cat.UpdateResource(f.ctx, catalog.Resource{Name: "nope", Type: "posix"}), catalog.ErrNotFound)
		_, err = f.cat.Resource(f.ctx, "nope")
		wantErr(t, err, catalog.ErrNotFound)
	}},
	{"Errors", func(t *testing.T, f *fixture) {
		cases := []struct {
			name string
			r    catalog.Resource
			want error
		}{
			{"no name", catalog.Resource{Type: "posix"}, catalog.ErrInvalidArgument},
			{"bad name", catalog.Resource{Name: "a/b", Type: "posix"}, catalog.ErrInvalidArgument},
			{"no type", catalog.Resource{Name: "x"}, catalog.ErrInvalidArgument},
			{"bad qos", catalog.Resource{Name: "x", Type: "posix", QoS: "geo"}, catalog.ErrInvalidArgument},
			{"bad qos value", catalog.Resource{Name: "x", Type: "posix", QoS: "geo=D E"}, catalog.ErrInvalidArgument},
			{"missing parent", catalog.Resource{Name: "x", Type: "posix", Parent: "nope"}, catalog.ErrNotFound},
			{"own parent", catalog.Resource{Name: "x", Type: "posix", Parent: "x"}, catalog.ErrInvalidArgument},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.cat.CreateResource(f.ctx, tc.r)
				wantErr(t, err, tc.want)
			})
		}
		_, err := f.cat.Resource(f.ctx, "x")
		wantErr(t, err, catalog.ErrNotFound)
		// A cycle through updates.
		must(f.cat.CreateResource(f.ctx, catalog.Resource{Name: "a", Type: "replication"}))(t)
		must(f.cat.CreateResource(f.ctx, catalog.Resource{Name: "b", Type: "posix", Parent: "a"}))(t)
		wantErr(t, f.cat.UpdateResource(f.ctx, catalog.Resource{Name: "a", Type: "replication", Parent: "b"}), catalog.ErrInvalidArgument)
		if a := must(f.cat.Resource(f.ctx, "a"))(t); a.Parent != "" {
			t.Errorf("refused update set parent %q", a.Parent)
		}
	}},
	{"RemoveNotEmpty", func(t *testing.T, f *fixture) {
		f.put("o", otherResc, "sha2:1")
		wantErr(t, f.cat.RemoveResource(f.ctx, otherResc), catalog.ErrNotEmpty)
		must(f.cat.Resource(f.ctx, otherResc))(t)
		// An intermediate replica counts too.
		_, r := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("p"), demoResc, "h")))(t)
		wantErr(t, f.cat.RemoveResource(f.ctx, demoResc), catalog.ErrNotEmpty)
		must(f.cat.AbortReplica(f.ctx, r.ObjectID, r.Number, "h"))(t)
		ok(t, f.cat.RemoveResource(f.ctx, demoResc))
		_, err := f.cat.Resource(f.ctx, demoResc)
		wantErr(t, err, catalog.ErrNotFound)
		wantErr(t, f.cat.RemoveResource(f.ctx, demoResc), catalog.ErrNotFound)

		must(f.cat.RemoveDataObject(f.ctx, f.path("o")))(t)
		must(f.cat.CreateResource(f.ctx, catalog.Resource{Name: "leaf", Type: "posix", Parent: otherResc}))(t)
		wantErr(t, f.cat.RemoveResource(f.ctx, otherResc), catalog.ErrNotEmpty)
		ok(t, f.cat.RemoveResource(f.ctx, "leaf"))
		ok(t, f.cat.RemoveResource(f.ctx, otherResc))
		if l := must(f.cat.ListResources(f.ctx))(t); len(l) != 0 {
			t.Errorf("resources left: %v", l)
		}
	}},
}

var sessionTests = []test{
	{"Lifecycle", func(t *testing.T, f *fixture) {
		now := time.Now()
		created := now.Add(-time.Minute).Round(0)
		s := catalog.Session{TokenHash: "h1", User: alice, CreateTime: created, Expires: now.Add(time.Hour).Round(0)}
		ok(t, f.cat.CreateSession(f.ctx, s))
		got := must(f.cat.Session(f.ctx, "h1"))(t)
		if got.TokenHash != "h1" || got.User != alice || !got.CreateTime.Equal(created) || !got.Expires.Equal(s.Expires) {
			t.Errorf("Session = %+v, want %+v", got, s)
		}
		wantErr(t, f.cat.CreateSession(f.ctx, catalog.Session{TokenHash: "h1", User: bob, Expires: now.Add(time.Hour)}), catalog.ErrExists)
		if got := must(f.cat.Session(f.ctx, "h1"))(t); got.User != alice {
			t.Errorf("duplicate create changed the user to %v", got.User)
		}
		_, err := f.cat.Session(f.ctx, "nope")
		wantErr(t, err, catalog.ErrNotFound)

		ok(t, f.cat.CreateSession(f.ctx, catalog.Session{TokenHash: "h2", User: alice, Expires: now.Add(time.Hour)}))
		ok(t, f.cat.CreateSession(f.ctx, catalog.Session{TokenHash: "h3", User: bob, Expires: now.Add(time.Hour)}))
		ok(t, f.cat.CreateSession(f.ctx, catalog.Session{TokenHash: "old1", User: bob, Expires: now.Add(-time.Minute)}))
		ok(t, f.cat.CreateSession(f.ctx, catalog.Session{TokenHash: "old2", User: alice, Expires: now.Add(-time.Hour)}))
		ok(t, f.cat.CreateSession(f.ctx, catalog.Session{TokenHash: "soon", User: bob, Expires: now.Add(time.Second)}))
		// An expired session is still returned, so that the caller can
		// tell "expired" from "ended", until RemoveExpiredSessions.
		if s := must(f.cat.Session(f.ctx, "old1"))(t); s.User != bob || !s.Expires.Before(now) {
			t.Errorf("expired session old1 = %+v", s)
		}
		// Users with a live session: alice (h1, h2), bob (h3, soon); the
		// expired old1 and old2 do not count.
		if got := must(f.cat.SessionUsers(f.ctx, now))(t); !slices.Equal(got, []catalog.UserID{alice, bob}) {
			t.Errorf("SessionUsers = %v, want [%v %v]", got, alice, bob)
		}
		if got := must(f.cat.SessionUsers(f.ctx, now.Add(2*time.Hour)))(t); len(got) != 0 {
			t.Errorf("SessionUsers after every expiry = %v, want none", got)
		}
		if n := must(f.cat.RemoveExpiredSessions(f.ctx, now))(t); n != 2 {
			t.Errorf("RemoveExpiredSessions removed %d, want 2", n)
		}
		if n := must(f.cat.RemoveExpiredSessions(f.ctx, now))(t); n != 0 {
			t.Errorf("second RemoveExpiredSessions removed %d, want 0", n)
		}
		for _, h := range []string{"old1", "old2"} {
			_, err := f.cat.Session(f.ctx, h)
			wantErr(t, err, catalog.ErrNotFound)
		}
		must(f.cat.Session(f.ctx, "h3"))(t)
		ok(t, f.cat.RemoveSession(f.ctx, "soon")) // still there: it expires after now

		if n := must(f.cat.RemoveSessions(f.ctx, alice))(t); n != 2 {
			t.Errorf("RemoveSessions(alice) removed %d, want 2", n)
		}
		for _, h := range []string{"h1", "h2"} {
			_, err := f.cat.Session(f.ctx, h)
			wantErr(t, err, catalog.ErrNotFound)
		}
		if n := must(f.cat.RemoveSessions(f.ctx, alice))(t); n != 0 {
			t.Errorf("second RemoveSessions(alice) removed %d", n)
		}
		ok(t, f.cat.RemoveSession(f.ctx, "h3"))
		_, err = f.cat.Session(f.ctx, "h3")
		wantErr(t, err, catalog.ErrNotFound)
		wantErr(t, f.cat.RemoveSession(f.ctx, "h3"), catalog.ErrNotFound)
	}},
	{"Errors", func(t *testing.T, f *fixture) {
		exp := time.Now().Add(time.Hour)
		for name, s := range map[string]catalog.Session{
			"no token":  {User: alice, Expires: exp},
			"no user":   {TokenHash: "x", Expires: exp},
			"no expiry": {TokenHash: "x", User: alice},
		} {
			t.Run(name, func(t *testing.T) {
				wantErr(t, f.cat.CreateSession(f.ctx, s), catalog.ErrInvalidArgument)
			})
		}
		_, err := f.cat.Session(f.ctx, "x")
		wantErr(t, err, catalog.ErrNotFound)
	}},
}
