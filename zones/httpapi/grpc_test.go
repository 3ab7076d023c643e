package httpapi_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/internal/tlsca"
)

// adminConn is a gRPC connection of rods to the zone, for what the HTTP
// API does not do (making users and tickets), as iadmin and iticket would.
func adminConn(t testing.TB, e *env) (*grpc.ClientConn, context.Context) {
	t.Helper()
	conf, err := tlsca.ClientTLS(e.z.CAFile, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(e.z.Addr, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+e.token)
	return conn, ctx
}

func mkUser(t testing.TB, e *env, name, password string) {
	t.Helper()
	conn, ctx := adminConn(t, e)
	if _, err := arcapb.NewAdminClient(conn).MakeUser(ctx, &arcapb.MakeUserRequest{Name: name, Type: "rodsuser", Password: password}); err != nil {
		t.Fatal(err)
	}
}

func mkTicket(t testing.TB, e *env, path string) string {
	t.Helper()
	conn, ctx := adminConn(t, e)
	resp, err := arcapb.NewTicketsClient(conn).CreateTicket(ctx, &arcapb.CreateTicketRequest{Path: path, Type: "read"})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Ticket
}
