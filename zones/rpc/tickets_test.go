package rpc

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// TestTicketLimits uses tickets over the real gRPC API, as anonymous and
// as a user, and checks that a holder never gets past a ticket's limits.
func TestTicketLimits(t *testing.T) {
	e := newWalkEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := e.fixture(ctx, walkCaller{}, walkCase{})
	alice := e.user("alice")
	anon := &walkClient{conn: e.conn, env: e}
	bob := &walkClient{caller: walkCaller{user: "bob"}, conn: e.conn, env: e, token: e.login(ctx, "bob")}
	with := func(secret string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, arcapb.TicketMetadata, secret)
	}
	code := func(err error) codes.Code { return status.Code(err) }
	mod := func(id catalog.ID, args ...string) {
		t.Helper()
		if _, err := e.zone.ModifyTicket(ctx, zones.As(alice), fmt.Sprint(id), args); err != nil {
			t.Fatalf("mod %v: %v", args, err)
		}
	}

	// A read ticket with two uses: two gets, then refused; stat and list
	// do not count.
	secret, rt, err := e.zone.CreateTicket(ctx, zones.As(alice), catalog.MustPath(f.coll), catalog.TicketRead, "")
	if err != nil {
		t.Fatal(err)
	}
	mod(rt.ID, "uses", "2")
	for i := range 3 {
		err := drain(anon.xfer().Get(with(secret), &arcapb.GetRequest{Path: f.obj}, anon.opts()...))
		if want := i < 2; (err == nil) != want {
			t.Fatalf("get %d with a 2-use ticket: %v", i+1, err)
		}
		if i == 2 && (code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "used 2 times")) {
			t.Errorf("third get: %v", err)
		}
	}
	// Without a ticket, anonymous is refused; a wrong ticket too.
	if err := drain(anon.xfer().Get(ctx, &arcapb.GetRequest{Path: f.obj})); code(err) != codes.Unauthenticated {
		t.Errorf("get without session or ticket: %v", err)
	}
	if err := drain(anon.xfer().Get(with("not-a-ticket-string"), &arcapb.GetRequest{Path: f.obj})); code(err) != codes.PermissionDenied {
		t.Errorf("get with a wrong ticket: %v", err)
	}

	// A listing through a collection ticket shows what the ticket covers.
	secret2, rt2, err := e.zone.CreateTicket(ctx, zones.As(alice), catalog.MustPath(f.coll), catalog.TicketRead, "chosen-ticket-string")
	if err != nil || secret2 != "chosen-ticket-string" {
		t.Fatalf("create with a chosen string: %q, %v", secret2, err)
	}
	s, err := anon.ns().List(with(secret2), &arcapb.ListRequest{Path: f.coll, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for {
		resp, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range resp.Entries {
			listed = append(listed, en.Path)
		}
	}
	if len(listed) != 3 { // obj, sub, sub/inner
		t.Errorf("anonymous list through a ticket: %v", listed)
	}

	// Allowed users: only bob; anonymous is refused, bob may.
	mod(rt2.ID, "add", "user", "bob")
	if err := drain(anon.xfer().Get(with(secret2), &arcapb.GetRequest{Path: f.obj})); code(err) != codes.PermissionDenied {
		t.Errorf("anonymous with a ticket for bob: %v", err)
	}
	if err := drain(bob.xfer().Get(with(secret2), &arcapb.GetRequest{Path: f.obj}, bob.opts()...)); err != nil {
		t.Errorf("bob with a ticket for bob: %v", err)
	}
	// Allowed hosts: a network the test is not in refuses, loopback allows.
	mod(rt2.ID, "add", "host", "192.0.2.0/24")
	if err := drain(bob.xfer().Get(with(secret2), &arcapb.GetRequest{Path: f.obj}, bob.opts()...)); code(err) != codes.PermissionDenied {
		t.Errorf("get from a host not allowed: %v", err)
	}
	mod(rt2.ID, "add", "host", "127.0.0.1")
	if err := drain(bob.xfer().Get(with(secret2), &arcapb.GetRequest{Path: f.obj}, bob.opts()...)); err != nil {
		t.Errorf("get from an allowed host: %v", err)
	}
	// Expired.
	mod(rt2.ID, "expire", "2020-01-01")
	if err := drain(bob.xfer().Get(with(secret2), &arcapb.GetRequest{Path: f.obj}, bob.opts()...)); code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "expired") {
		t.Errorf("get with an expired ticket: %v", err)
	}
	// A read ticket does not write, and no ticket reaches outside its target.
	if err := walkPut(with(secret), anon, f.coll+"/new", false); code(err) != codes.PermissionDenied {
		t.Errorf("put with a read ticket: %v", err)
	}

	// A write ticket with a byte limit: puts within it, then refused with
	// nothing kept; what it writes belongs to alice.
	ws, wt, err := e.zone.CreateTicket(ctx, zones.As(alice), catalog.MustPath(f.coll), catalog.TicketWrite, "")
	if err != nil {
		t.Fatal(err)
	}
	mod(wt.ID, "write-bytes", "25") // walkPut writes 10 bytes
	for i := range 3 {
		err := walkPut(with(ws), anon, fmt.Sprintf("%s/w%d", f.coll, i), false)
		if want := i < 2; (err == nil) != want {
			t.Fatalf("put %d with a 25-byte ticket: %v", i+1, err)
		}
	}
	if _, err := e.cat.DataObject(ctx, catalog.MustPath(f.coll+"/w2")); code(toStatus(err)) != codes.NotFound {
		t.Errorf("a refused put left %s: %v", f.coll+"/w2", err)
	}
	o, err := e.cat.DataObject(ctx, catalog.MustPath(f.coll+"/w0"))
	if err != nil || o.Owner != alice.UserID() {
		t.Errorf("object written through alice's ticket: owner %v, %v", o.Owner, err)
	}
	if err := walkPut(with(ws), anon, e.zone.Home("bob").String()+"/x", false); code(err) != codes.PermissionDenied {
		t.Errorf("put outside the ticket's collection: %v", err)
	}
	got, err := e.cat.Ticket(ctx, wt.ID)
	if err != nil || got.WriteByteCount != 20 || got.WriteFileCount != 2 || got.UsesCount != 2 {
		t.Errorf("write ticket counts: %+v, %v", got, err)
	}
	// A put that fails after the ticket allowed it (the name is taken,
	// without overwrite) does not spend the ticket: 5 bytes are left, and
	// the failed put of 10 does not take them.
	mod(wt.ID, "write-bytes", "30")
	if err := walkPut(with(ws), anon, f.coll+"/w0", false); code(err) != codes.AlreadyExists {
		t.Fatalf("put onto an existing object with a write ticket: %v", err)
	}
	if err := walkPutMany(with(ws), anon, f.coll+"/w1", false); code(err) != codes.AlreadyExists {
		t.Fatalf("PutMany onto an existing object with a write ticket: %v", err)
	}
	if got, err := e.cat.Ticket(ctx, wt.ID); err != nil || got.WriteByteCount != 20 || got.WriteFileCount != 2 || got.UsesCount != 2 {
		t.Errorf("write ticket counts after failed puts: %+v, %v", got, err)
	}
	if err := walkPutMany(with(ws), anon, f.coll+"/w2", false); err != nil {
		t.Errorf("put within what the failed puts left: %v", err)
	}
	// Removing the ticket ends it.
	if err := e.zone.RemoveTicket(ctx, zones.As(alice), fmt.Sprint(wt.ID)); err != nil {
		t.Fatal(err)
	}
	if err := walkPut(with(ws), anon, f.coll+"/w3", false); code(err) != codes.PermissionDenied {
		t.Errorf("put with a removed ticket: %v", err)
	}
}
