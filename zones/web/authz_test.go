package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/internal/testzone"
	"github.com/arca-data/arca/internal/tlsca"
)

// mkUser makes a rodsuser through gRPC, as iadmin mkuser does.
func mkUser(t *testing.T, z *testzone.Zone, name, password string) {
	t.Helper()
	conf, err := tlsca.ClientTLS(z.CAFile, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(z.Addr, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	login, err := arcapb.NewAuthClient(conn).Login(ctx, &arcapb.LoginRequest{User: "rods", Password: testzone.AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+login.Token)
	if _, err := arcapb.NewAdminClient(conn).MakeUser(ctx, &arcapb.MakeUserRequest{Name: name, Type: "rodsuser", Password: password}); err != nil {
		t.Fatal(err)
	}
}

func (b *browser) login(user, password string) string {
	b.t.Helper()
	_, page := b.get("/login")
	resp, body := b.post("/login", url.Values{"csrf": {csrfOf(b.t, page)}, "user": {user}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login of %s: %d\n%s", user, resp.StatusCode, body)
	}
	_, page = b.get(resp.Header.Get("Location"))
	return csrfOf(b.t, page)
}

// TestWebAuthz: the web view decides nothing itself: a user sees and
// changes only what the zone lets them, the admin pages are the zone's
// to refuse, and one session's CSRF token is no good in another.
func TestWebAuthz(t *testing.T) {
	z, base := startZone(t)
	mkUser(t, z, "bob", "bob-password")
	rods, bob := newBrowser(t, z, base), newBrowser(t, z, base)
	rodsCSRF := rods.login("rods", testzone.AdminPassword)
	bobCSRF := bob.login("bob", "bob-password")
	resp, body := rods.post("/mkdir/tempZone/home/rods", url.Values{"csrf": {rodsCSRF}, "name": {"private"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mkdir: %d\n%s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		what   string
		do     func() (*http.Response, string)
		status int
	}{
		{"bob browses rods's collection", func() (*http.Response, string) { return bob.get("/browse/tempZone/home/rods/private") }, 403},
		{"bob makes a collection in rods's home", func() (*http.Response, string) {
			return bob.post("/mkdir/tempZone/home/rods", url.Values{"csrf": {bobCSRF}, "name": {"intruder"}})
		}, 403},
		{"bob reads the audit", func() (*http.Response, string) { return bob.get("/admin/audit") }, 403},
		{"bob with rods's CSRF token", func() (*http.Response, string) {
			return bob.post("/mkdir/tempZone/home/bob", url.Values{"csrf": {rodsCSRF}, "name": {"x"}})
		}, 403},
	} {
		resp, body := tc.do()
		if resp.StatusCode != tc.status || !strings.Contains(body, `id="page-error"`) {
			t.Errorf("%s: %d, want %d and an error on the page", tc.what, resp.StatusCode, tc.status)
		}
	}
	// Bob's own home is his.
	resp, body = bob.post("/mkdir/tempZone/home/bob", url.Values{"csrf": {bobCSRF}, "name": {"mine"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("bob in his home: %d\n%s", resp.StatusCode, body)
	}
	// The admin links are not offered to bob.
	_, page := bob.get("/browse/tempZone/home/bob")
	if strings.Contains(page, "/admin/audit") {
		t.Error("bob's pages link to the admin pages")
	}
}
