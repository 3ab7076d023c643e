package catalogtest

import (
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

func (f *fixture) ticket(t *testing.T, s string, typ catalog.TicketType, p catalog.Path) catalog.Ticket {
	t.Helper()
	return must(f.cat.CreateTicket(f.ctx, catalog.Ticket{Hash: catalog.TicketHash(s), Type: typ, Path: p, Owner: alice}))(t)
}

var ticketTests = []test{
	{"CreateReadListRemove", func(t *testing.T, f *fixture) {
		f.mkdir("shared", alice)
		f.put("shared/obj", demoResc, "sum")
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		in := catalog.Ticket{Hash: catalog.TicketHash("one"), Type: catalog.TicketRead, Path: f.path("shared"), Owner: alice,
			Expires: exp, UsesLimit: 3, Users: []catalog.UserID{bob}, Hosts: []string{"127.0.0.1"}}
		tk := must(f.cat.CreateTicket(f.ctx, in))(t)
		if tk.ID == 0 || !tk.Collection || tk.Path != f.path("shared") {
			t.Fatalf("CreateTicket = %+v", tk)
		}
		checkTime(t, "CreateTime", tk.CreateTime, f.start)
		obj := f.ticket(t, "two", catalog.TicketWrite, f.path("shared/obj"))
		if obj.Collection {
			t.Errorf("ticket on a data object says collection")
		}
		_, err := f.cat.CreateTicket(f.ctx, catalog.Ticket{Hash: catalog.TicketHash("one"), Type: catalog.TicketRead, Path: f.path("shared"), Owner: alice})
		wantErr(t, err, catalog.ErrExists)
		_, err = f.cat.CreateTicket(f.ctx, catalog.Ticket{Hash: catalog.TicketHash("x"), Type: catalog.TicketRead, Path: f.path("missing"), Owner: alice})
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.CreateTicket(f.ctx, catalog.Ticket{Hash: catalog.TicketHash("x"), Type: "delete", Path: f.path("shared"), Owner: alice})
		wantErr(t, err, catalog.ErrInvalidArgument)
		_, err = f.cat.CreateTicket(f.ctx, catalog.Ticket{Hash: catalog.TicketHash("x"), Type: catalog.TicketRead, Path: f.path("shared"), Owner: alice, UsesLimit: -1})
		wantErr(t, err, catalog.ErrInvalidArgument)

		got := must(f.cat.TicketByHash(f.ctx, catalog.TicketHash("one")))(t)
		if got.ID != tk.ID || got.Type != catalog.TicketRead || !got.Expires.Equal(exp) || got.UsesLimit != 3 ||
			len(got.Users) != 1 || got.Users[0] != bob || len(got.Hosts) != 1 || got.Hosts[0] != "127.0.0.1" || got.Owner != alice {
			t.Errorf("TicketByHash = %+v", got)
		}
		_, err = f.cat.TicketByHash(f.ctx, catalog.TicketHash("nope"))
		wantErr(t, err, catalog.ErrNotFound)
		if got := must(f.cat.Ticket(f.ctx, obj.ID))(t); got.Hash != catalog.TicketHash("two") || got.Path != f.path("shared/obj") {
			t.Errorf("Ticket(%d) = %+v", obj.ID, got)
		}

		if l := must(f.cat.ListTickets(f.ctx, alice))(t); len(l) != 2 || l[0].ID != tk.ID || l[1].ID != obj.ID || len(l[0].Users) != 1 {
			t.Errorf("ListTickets(alice) = %+v", l)
		}
		if l := must(f.cat.ListTickets(f.ctx, bob))(t); len(l) != 0 {
			t.Errorf("ListTickets(bob) = %+v", l)
		}
		if l := must(f.cat.ListTickets(f.ctx, catalog.UserID{}))(t); len(l) != 2 {
			t.Errorf("ListTickets(all) = %+v", l)
		}

		ok(t, f.cat.RemoveTicket(f.ctx, tk.ID))
		wantErr(t, f.cat.RemoveTicket(f.ctx, tk.ID), catalog.ErrNotFound)
		_, err = f.cat.Ticket(f.ctx, tk.ID)
		wantErr(t, err, catalog.ErrNotFound)
	}},
	{"Update", func(t *testing.T, f *fixture) {
		f.mkdir("shared", alice)
		tk := f.ticket(t, "one", catalog.TicketWrite, f.path("shared"))
		group := catalog.UserID{Name: "lab", Zone: "tempZone"}
		tk.UsesLimit, tk.WriteFileLimit, tk.WriteByteLimit = 5, 2, 100
		tk.Expires = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		tk.Users, tk.Groups, tk.Hosts = []catalog.UserID{bob}, []catalog.UserID{group}, []string{"10.0.0.0/8"}
		tk.UsesCount = 99 // not stored
		tk.Type = catalog.TicketRead
		ok(t, f.cat.UpdateTicket(f.ctx, tk))
		got := must(f.cat.Ticket(f.ctx, tk.ID))(t)
		if got.UsesLimit != 5 || got.WriteFileLimit != 2 || got.WriteByteLimit != 100 || !got.Expires.Equal(tk.Expires) ||
			len(got.Groups) != 1 || got.Groups[0] != group || len(got.Hosts) != 1 || got.UsesCount != 0 || got.Type != catalog.TicketWrite {
			t.Errorf("after UpdateTicket: %+v", got)
		}
		got.Users, got.Groups, got.Hosts, got.Expires = nil, nil, nil, time.Time{}
		ok(t, f.cat.UpdateTicket(f.ctx, got))
		if got := must(f.cat.Ticket(f.ctx, tk.ID))(t); len(got.Users)+len(got.Groups)+len(got.Hosts) != 0 || !got.Expires.IsZero() {
			t.Errorf("after clearing: %+v", got)
		}
		wantErr(t, f.cat.UpdateTicket(f.ctx, catalog.Ticket{ID: 9999}), catalog.ErrNotFound)
	}},
	{"UseLimits", func(t *testing.T, f *fixture) {
		f.mkdir("shared", alice)
		tk := f.ticket(t, "one", catalog.TicketWrite, f.path("shared"))
		tk.UsesLimit, tk.WriteFileLimit, tk.WriteByteLimit = 3, 2, 100
		ok(t, f.cat.UpdateTicket(f.ctx, tk))
		now := time.Now()
		got := must(f.cat.UseTicket(f.ctx, tk.ID, catalog.TicketUse{Uses: 1, Files: 1, Bytes: 60, Now: now}))(t)
		if got.UsesCount != 1 || got.WriteFileCount != 1 || got.WriteByteCount != 60 {
			t.Errorf("after one use: %+v", got)
		}
		_, err := f.cat.UseTicket(f.ctx, tk.ID, catalog.TicketUse{Uses: 1, Files: 1, Bytes: 41, Now: now})
		wantErr(t, err, catalog.ErrPermission) // bytes
		must(f.cat.UseTicket(f.ctx, tk.ID, catalog.TicketUse{Uses: 1, Files: 1, Bytes: 40, Now: now}))(t)
		_, err = f.cat.UseTicket(f.ctx, tk.ID, catalog.TicketUse{Uses: 1, Files: 1, Now: now})
		wantErr(t, err, catalog.ErrPermission) // files
		got = must(f.cat.UseTicket(f.ctx, tk.ID, catalog.TicketUse{Uses: 1, Now: now}))(t)
		if got.UsesCount != 3 || got.WriteFileCount != 2 || got.WriteByteCount != 100 {
			t.Errorf("refused uses were counted: %+v", got)
		}
		_, err = f.cat.UseTicket(f.ctx, tk.ID, catalog.TicketUse{Uses: 1, Now: now})
		wantErr(t, err, catalog.ErrPermission) // uses
		// A check without counting still works while the ticket is valid.
		must(f.cat.UseTicket(f.ctx, tk.ID, catalog.TicketUse{Now: now}))(t)

		tk.Expires = now.Add(-time.Second)
		ok(t, f.cat.UpdateTicket(f.ctx, tk))
		_, err = f.cat.UseTicket(f.ctx, tk.ID, catalog.TicketUse{Now: now})
		wantErr(t, err, catalog.ErrPermission) // expired
		_, err = f.cat.UseTicket(f.ctx, 9999, catalog.TicketUse{Now: now})
		wantErr(t, err, catalog.ErrNotFound)
	}},
	{"ReturnUse", func(t *testing.T, f *fixture) {
		f.mkdir("shared", alice)
		tk := f.ticket(t, "one", catalog.TicketWrite, f.path("shared"))
		tk.UsesLimit, tk.WriteFileLimit, tk.WriteByteLimit = 2, 1, 100
		ok(t, f.cat.UpdateTicket(f.ctx, tk))
		now := time.Now()
		use := catalog.TicketUse{Uses: 1, Files: 1, Bytes: 100, Now: now}
		must(f.cat.UseTicket(f.ctx, tk.ID, use))(t)
		_, err := f.cat.UseTicket(f.ctx, tk.ID, use)
		wantErr(t, err, catalog.ErrPermission) // files, bytes
		// The first upload failed: its use comes back, and another fits.
		ok(t, f.cat.ReturnTicketUse(f.ctx, tk.ID, use))
		if got := must(f.cat.Ticket(f.ctx, tk.ID))(t); got.UsesCount != 0 || got.WriteFileCount != 0 || got.WriteByteCount != 0 {
			t.Errorf("after returning the use: %+v", got)
		}
		must(f.cat.UseTicket(f.ctx, tk.ID, use))(t)
		// Counts never go below zero, whatever comes back.
		ok(t, f.cat.ReturnTicketUse(f.ctx, tk.ID, catalog.TicketUse{Uses: 5, Files: 5, Bytes: 500}))
		if got := must(f.cat.Ticket(f.ctx, tk.ID))(t); got.UsesCount != 0 || got.WriteFileCount != 0 || got.WriteByteCount != 0 {
			t.Errorf("after returning too much: %+v", got)
		}
		wantErr(t, f.cat.ReturnTicketUse(f.ctx, tk.ID, catalog.TicketUse{Uses: -1}), catalog.ErrInvalidArgument)
		wantErr(t, f.cat.ReturnTicketUse(f.ctx, 9999, use), catalog.ErrNotFound)
	}},
	{"ConcurrentUses", func(t *testing.T, f *fixture) {
		f.mkdir("shared", alice)
		tk := f.ticket(t, "one", catalog.TicketRead, f.path("shared"))
		tk.UsesLimit = 10
		ok(t, f.cat.UpdateTicket(f.ctx, tk))
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			passed int
		)
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.cat.UseTicket(f.ctx, tk.ID, catalog.TicketUse{Uses: 1, Now: time.Now()}); err == nil {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if passed != 10 {
			t.Errorf("%d of 30 concurrent uses passed a limit of 10", passed)
		}
	}},
	{"FollowsTarget", func(t *testing.T, f *fixture) {
		f.mkdir("shared", alice)
		f.put("shared/obj", demoResc, "sum")
		oc := f.ticket(t, "coll", catalog.TicketRead, f.path("shared"))
		oo := f.ticket(t, "obj", catalog.TicketRead, f.path("shared/obj"))
		ok(t, f.cat.Rename(f.ctx, f.path("shared"), f.path("moved")))
		if got := must(f.cat.Ticket(f.ctx, oc.ID))(t); got.Path != f.path("moved") {
			t.Errorf("collection ticket after rename: %s", got.Path)
		}
		if got := must(f.cat.Ticket(f.ctx, oo.ID))(t); got.Path != f.path("moved/obj") {
			t.Errorf("object ticket after rename: %s", got.Path)
		}
		// A new object at the old path is not reached by the old ticket.
		must(f.cat.RemoveDataObject(f.ctx, f.path("moved/obj")))(t)
		_, err := f.cat.Ticket(f.ctx, oo.ID)
		wantErr(t, err, catalog.ErrNotFound)
		f.put("moved/obj", demoResc, "sum2")
		_, err = f.cat.TicketByHash(f.ctx, catalog.TicketHash("obj"))
		wantErr(t, err, catalog.ErrNotFound)
		must(f.cat.RemoveCollection(f.ctx, f.path("moved"), true))(t)
		_, err = f.cat.Ticket(f.ctx, oc.ID)
		wantErr(t, err, catalog.ErrNotFound)
		if l := must(f.cat.ListTickets(f.ctx, alice))(t); len(l) != 0 {
			t.Errorf("tickets of removed entries listed: %+v", l)
		}
	}},
	{"EndWithOwner", func(t *testing.T, f *fixture) {
		f.users(t, bob)
		f.mkdir("shared", alice)
		tk := must(f.cat.CreateTicket(f.ctx, catalog.Ticket{Hash: catalog.TicketHash("b"), Type: catalog.TicketRead, Path: f.path("shared"), Owner: bob}))(t)
		ok(t, f.cat.RemoveUser(f.ctx, bob))
		_, err := f.cat.Ticket(f.ctx, tk.ID)
		wantErr(t, err, catalog.ErrNotFound)
	}},
}
