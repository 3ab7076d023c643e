package rpc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/policies/pid"
	"github.com/arca-data/arca/policies/provenance"
	"github.com/arca-data/arca/policies/raid"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
)

// The walk's cases of provenance, PIDs and RAiDs (provenance.proto,
// pid.proto, raid.proto), and the keepers its zone needs for them.

func (c *walkClient) prov() arcapb.ProvenanceClient { return arcapb.NewProvenanceClient(c.conn) }
func (c *walkClient) pids() arcapb.PIDsClient       { return arcapb.NewPIDsClient(c.conn) }
func (c *walkClient) raids() arcapb.RAiDsClient     { return arcapb.NewRAiDsClient(c.conn) }

const walkPIDPrefix = "21.T10000"

// installKeepers gives the walk's zone provenance, a PID registry with a
// resolver (on an httptest TLS server, for the registration a Handle REST
// client makes) and RAiDs.
func installKeepers(t *testing.T, z *zones.Zone, cat *sqlite.Catalog, a *auth.Authenticator) *httptest.Server {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	rec := provenance.New(cat, z.Name(), quiet)
	z.AddHook(rec)
	z.UseProvenance(rec)
	reg, err := pid.NewRegistry(cat, walkPIDPrefix, catalog.UserID{Name: zones.DefaultAdmin, Zone: z.Name()})
	if err != nil {
		t.Fatal(err)
	}
	var handler http.Handler
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	keeper, err := pid.NewKeeper(context.Background(), cat, reg, srv.URL, quiet)
	if err != nil {
		t.Fatal(err)
	}
	z.AddHook(keeper)
	z.UsePIDs(keeper)
	handler = pid.NewHandler(keeper, z, func(ctx context.Context, user, password string) (zones.Principal, error) {
		token, _, u, err := a.Login(ctx, catalog.UserID{Name: user, Zone: z.Name()}, password, "")
		if err != nil {
			return zones.Principal{}, err
		}
		_, _ = a.Logout(ctx, zones.As(u), token, false)
		return zones.As(u), nil
	})
	rk, err := raid.New(cat, raid.Config{Prefix: "10.82841", Owner: "038sjwq14"})
	if err != nil {
		t.Fatal(err)
	}
	z.UseRAiDs(rk)
	return srv
}

// registerOverHTTP is a Handle REST client's PUT as the caller, its answer
// as a gRPC status: what the zone decided of pid.register.
func registerOverHTTP(ctx context.Context, c *walkClient, handle string) error {
	body := []byte(`{"values":[{"index":1,"type":"URL","data":{"format":"string","value":"https://example.org/x"}}]}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.env.pidSrv.URL+"/api/handles/"+handle, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if c.caller.user != "" {
		req.SetBasicAuth(c.caller.user, walkPassword(c.caller.user))
	}
	resp, err := c.env.pidSrv.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated:
		return nil
	case http.StatusUnauthorized:
		if c.caller.ticket != "" {
			// A ticket means nothing to the Handle REST API: its holder
			// comes without credentials and is refused, as the walk
			// expects a ticket holder to be.
			return status.Error(codes.PermissionDenied, string(msg))
		}
		return status.Error(codes.Unauthenticated, string(msg))
	case http.StatusForbidden:
		return status.Error(codes.PermissionDenied, string(msg))
	}
	return status.Errorf(codes.Internal, "HTTP %d: %s", resp.StatusCode, msg)
}

func provenanceWalkCases() []walkCase {
	rods := func(c *walkClient) zones.Principal { return zones.As(c.env.user(zones.DefaultAdmin)) }
	alice := func(c *walkClient) zones.Principal { return zones.As(c.env.user("alice")) }
	// mintAsRods gives f.obj a PID, as setup.
	mintAsRods := func(ctx context.Context, c *walkClient, f *walkFixture) (string, error) {
		var handle string
		err := c.env.zone.MintPIDs(ctx, rods(c), catalog.MustPath(f.obj), false, func(p zones.PID) error { handle = p.Handle; return nil })
		return handle, err
	}
	raidOfAlice := func(ctx context.Context, c *walkClient) (string, error) {
		r, err := c.env.zone.CreateRAiD(ctx, alice(c), zones.RAiDRequest{Title: "walk", Start: "2026"})
		return r.ID, err
	}
	return []walkCase{
		{method: arcapb.Provenance_Export_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.prov().Export(ctx, &arcapb.ExportProvenanceRequest{Path: f.obj, Format: "prov-json", Depth: 1}, c.opts()...))
			}},
		{method: arcapb.Provenance_Export_FullMethodName, variant: "collection", allow: collAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.prov().Export(ctx, &arcapb.ExportProvenanceRequest{Path: f.coll}, c.opts()...))
			}},
		{method: arcapb.Provenance_Verify_FullMethodName, allow: objAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				r, err := c.prov().Verify(ctx, &arcapb.VerifyProvenanceRequest{Path: f.obj}, c.opts()...)
				if err == nil && (len(r.Problems) > 0 || r.Chains != 1) {
					return status.Errorf(codes.Internal, "verify of a fresh object: %v", r)
				}
				return err
			}},
		// Deriving changes the derived object's record and reveals the
		// source's: write on the one, read on the other.
		{method: arcapb.Provenance_Derive_FullMethodName, obj2: true, allow: objAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.prov().Derive(ctx, &arcapb.DeriveRequest{Path: f.obj, Sources: []string{f.obj2}}, c.opts()...)
				return err
			}},
		{method: arcapb.PIDs_Mint_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.pids().Mint(ctx, &arcapb.MintPIDRequest{Path: f.obj}, c.opts()...))
			}},
		// As irepl -r: write on the collection; the objects below that the
		// caller may not write are left out.
		{method: arcapb.PIDs_Mint_FullMethodName, variant: "recursive", allow: collAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.pids().Mint(ctx, &arcapb.MintPIDRequest{Path: f.coll, Recursive: true}, c.opts()...))
			}},
		{method: arcapb.PIDs_Show_FullMethodName, variant: "by path", allow: objAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				if _, err := mintAsRods(ctx, c, f); err != nil {
					return err
				}
				_, err := c.pids().Show(ctx, &arcapb.ShowPIDRequest{Ref: f.obj}, c.opts()...)
				return err
			}},
		// A PID record is public, as in the Handle System.
		{method: arcapb.PIDs_Show_FullMethodName, variant: "by PID", allow: anyone,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				handle, err := mintAsRods(ctx, c, f)
				if err != nil {
					return err
				}
				_, err = c.pids().Show(ctx, &arcapb.ShowPIDRequest{Ref: handle}, c.opts()...)
				return err
			}},
		// A Handle REST client registers a record (pid.register), then
		// anyone resolves it.
		{method: arcapb.PIDs_Show_FullMethodName, variant: "registered over HTTP", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				handle := fmt.Sprintf("%s/walk-%d", walkPIDPrefix, f.seq)
				if err := registerOverHTTP(ctx, c, handle); err != nil {
					return err
				}
				_, err := c.pids().Show(ctx, &arcapb.ShowPIDRequest{Ref: handle}, c.opts()...)
				return err
			}},
		{method: arcapb.RAiDs_Create_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.raids().Create(ctx, &arcapb.CreateRAiDRequest{Title: "walk", Start: "2026-01-01",
					Contributors: []string{"0000-0002-1825-0097"}, Organisations: []string{"038sjwq14"}}, c.opts()...)
				return err
			}},
		{method: arcapb.RAiDs_Show_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				id, err := raidOfAlice(ctx, c)
				if err != nil {
					return err
				}
				_, err = c.raids().Show(ctx, &arcapb.ShowRAiDRequest{Id: id}, c.opts()...)
				return err
			}},
		// Linking changes the collection (write) and the RAiD (its owner).
		{method: arcapb.RAiDs_Link_FullMethodName, variant: "link", allow: adminOnly, ownerOnly: true, needsM: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				id, err := raidOfAlice(ctx, c)
				if err != nil {
					return err
				}
				_, err = c.raids().Link(ctx, &arcapb.LinkRAiDRequest{Id: id, Path: f.coll}, c.opts()...)
				return err
			}},
		{method: arcapb.RAiDs_Link_FullMethodName, variant: "unlink", allow: adminOnly, ownerOnly: true, needsM: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				id, err := raidOfAlice(ctx, c)
				if err != nil {
					return err
				}
				if _, err := c.env.zone.LinkRAiD(ctx, alice(c), id, catalog.MustPath(f.coll), false); err != nil {
					return err
				}
				_, err = c.raids().Link(ctx, &arcapb.LinkRAiDRequest{Id: id, Path: f.coll, Unlink: true}, c.opts()...)
				return err
			}},
	}
}
