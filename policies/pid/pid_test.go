package pid_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/policies/pid"
	"github.com/arca-data/arca/policies/pid/pidtest"
	"github.com/arca-data/arca/policies/provenance"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

func openCatalog(t *testing.T) *sqlite.Catalog {
	t.Helper()
	cat, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	return cat
}

var rods = catalog.UserID{Name: "rods", Zone: "tempZone"}

func TestRegistryConformance(t *testing.T) {
	pidtest.Run(t, func(t *testing.T) pid.Provider {
		reg, err := pid.NewRegistry(openCatalog(t), pidtest.Prefix, rods)
		if err != nil {
			t.Fatal(err)
		}
		return reg
	})
}

// registryZone is the zone side of a resolver serving a bare registry:
// registration goes straight to the keeper.
type registryZone struct{ k *pid.Keeper }

func (z registryZone) RegisterHandle(ctx context.Context, caller zones.Principal, handle string, values []zones.PIDValue, overwrite bool) (bool, error) {
	if caller.Type != catalog.UserTypeAdmin {
		return false, catalog.ErrPermission
	}
	return z.k.Register(ctx, caller.UserID(), handle, values, overwrite)
}

func (registryZone) PublicView(context.Context, catalog.Path) (catalog.Entry, []catalog.AVU, error) {
	return catalog.Entry{}, nil, catalog.ErrPermission
}

// handleService is a resolver over its own registry on an httptest TLS
// server: a Handle service, to test the REST client against.
func handleService(t *testing.T) (*httptest.Server, *pid.Keeper) {
	t.Helper()
	cat := openCatalog(t)
	reg, err := pid.NewRegistry(cat, pidtest.Prefix, rods)
	if err != nil {
		t.Fatal(err)
	}
	k, err := pid.NewKeeper(context.Background(), cat, reg, "https://resolver.example", nil)
	if err != nil {
		t.Fatal(err)
	}
	auth := func(_ context.Context, user, password string) (zones.Principal, error) {
		if user != "rods" || password != "secret" {
			return zones.Principal{}, errors.New("wrong user or password")
		}
		return zones.As(catalog.User{ID: 1, Name: "rods", Zone: "tempZone", Type: catalog.UserTypeAdmin}), nil
	}
	srv := httptest.NewTLSServer(pid.NewHandler(k, registryZone{k}, auth))
	t.Cleanup(srv.Close)
	return srv, k
}

func restClient(t *testing.T, srv *httptest.Server, user, password string) *pid.RESTClient {
	t.Helper()
	c, err := pid.NewRESTClient(pid.RESTConfig{URL: srv.URL, Prefix: pidtest.Prefix, User: user, Password: password,
		TLS: srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRESTClientConformance(t *testing.T) {
	srv, _ := handleService(t)
	pidtest.Run(t, func(t *testing.T) pid.Provider {
		// The Handle service's way of naming its administrators.
		return restClient(t, srv, "300:"+pidtest.Prefix+"/rods", "secret")
	})
}

func TestRESTClientRefused(t *testing.T) {
	srv, _ := handleService(t)
	ctx := context.Background()
	h := pid.Handle{Prefix: pidtest.Prefix, Suffix: "refused"}
	vs := []pid.Value{pid.StringValue(1, pid.TypeURL, "https://x", testNow)}
	for _, c := range []*pid.RESTClient{restClient(t, srv, "rods", "wrong"), restClient(t, srv, "", "")} {
		if err := c.Create(ctx, h, vs); !errors.Is(err, catalog.ErrPermission) {
			t.Errorf("create with bad credentials: %v, want ErrPermission", err)
		}
	}
	if _, err := restClient(t, srv, "rods", "secret").Resolve(ctx, h); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("a refused create made a record: %v", err)
	}
	// Nothing answers that is no Handle service.
	plain := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") }))
	defer plain.Close()
	if _, err := restClient(t, plain, "rods", "secret").Resolve(ctx, h); err == nil {
		t.Error("a server that is no Handle service resolved a handle")
	}
}

// env is a zone with provenance, PIDs under 21.T12995 in its own registry
// and the resolver on an httptest TLS server.
type env struct {
	t      *testing.T
	ctx    context.Context
	zone   *zones.Zone
	cat    *sqlite.Catalog
	keeper *pid.Keeper
	srv    *httptest.Server
	rods   zones.Principal
	alice  zones.Principal
}

const prefix = "21.T12995"

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat := openCatalog(t)
	quiet := slog.New(slog.DiscardHandler)
	z := zones.New(cat, zones.Options{Drivers: drivers.Default(), Logger: quiet})
	rec := provenance.New(cat, z.Name(), quiet)
	z.AddHook(rec)
	z.UseProvenance(rec)
	reg := rules.NewRegistry()
	if err := policies.Register(reg, z, quiet); err != nil {
		t.Fatal(err)
	}
	engine, err := rules.New(rules.Options{Registry: reg, Catalog: cat, Logger: quiet, Audit: quiet})
	if err != nil {
		t.Fatal(err)
	}
	z.UseRules(engine)
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	registry, err := pid.NewRegistry(cat, prefix, rods)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, zone: z, cat: cat}
	var handler http.Handler
	e.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.keeper, err = pid.NewKeeper(ctx, cat, registry, e.srv.URL, quiet)
	if err != nil {
		t.Fatal(err)
	}
	z.AddHook(e.keeper)
	z.UsePIDs(e.keeper)
	handler = pid.NewHandler(e.keeper, z, nil)
	rodsUser, err := cat.User(ctx, rods)
	if err != nil {
		t.Fatal(err)
	}
	e.rods = zones.As(rodsUser)
	alice, err := z.MakeUser(ctx, e.rods, "alice", catalog.UserTypeUser, "pw")
	if err != nil {
		t.Fatal(err)
	}
	e.alice = zones.As(alice)
	if _, err := z.MakeResource(ctx, e.rods, catalog.Resource{Name: "second", Type: "posix", Location: filepath.Join(dir, "second")}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) path(s string) catalog.Path {
	if !strings.HasPrefix(s, "/") {
		s = "/tempZone/home/alice/" + s
	}
	return catalog.MustPath(s)
}

func (e *env) put(p, data string, overwrite bool) {
	e.t.Helper()
	if _, err := e.zone.Put(e.ctx, e.alice, zones.PutRequest{Path: e.path(p), Size: int64(len(data)), Overwrite: overwrite}, strings.NewReader(data)); err != nil {
		e.t.Fatalf("put %s: %v", p, err)
	}
}

func (e *env) mint(p string) zones.PID {
	e.t.Helper()
	var got []zones.PID
	if err := e.zone.MintPIDs(e.ctx, e.alice, e.path(p), false, func(p zones.PID) error { got = append(got, p); return nil }); err != nil {
		e.t.Fatalf("mint %s: %v", p, err)
	}
	if len(got) != 1 {
		e.t.Fatalf("mint %s reported %d PIDs", p, len(got))
	}
	return got[0]
}

func value(p zones.PID, typ string) string {
	for _, v := range p.Values {
		if v.Type == typ {
			return v.Data
		}
	}
	return "<none>"
}

func (e *env) show(ref string) zones.PID {
	e.t.Helper()
	p, err := e.zone.ShowPID(e.ctx, e.alice, ref)
	if err != nil {
		e.t.Fatalf("show %s: %v", ref, err)
	}
	return p
}

func (e *env) avus(p string) map[string]string {
	e.t.Helper()
	avus, err := e.cat.ListMetadata(e.ctx, catalog.ObjectTarget(e.path(p)))
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range avus {
		out[a.Attribute] = a.Value
	}
	return out
}

func TestMintFollowsTheData(t *testing.T) {
	e := newEnv(t)
	e.put("data.dat", "version one", false)
	p := e.mint("data.dat")
	h, err := pid.ParseHandle(p.Handle)
	if err != nil || h.Prefix != prefix || len(h.Suffix) != 36 {
		t.Fatalf("minted %q: %v", p.Handle, err)
	}
	for _, typ := range []string{pid.TypeURL, pid.TypeChecksum, pid.TypeChecksumTime, pid.TypeROR, pid.TypeFIO, pid.TypeParent,
		pid.TypeReplica, pid.TypeFixedContent, pid.TypeProfile, pid.TypeLocations, pid.TypeAdmin} {
		if value(p, typ) == "<none>" {
			t.Errorf("the record lacks %s", typ)
		}
	}
	if value(p, pid.TypeURL) != e.srv.URL+"/landing/tempZone/home/alice/data.dat" || value(p, pid.TypeROR) != p.Handle ||
		value(p, pid.TypeFIO) != p.Handle || value(p, pid.TypeProfile) != "1" || value(p, pid.TypeFixedContent) != "False" ||
		!strings.HasPrefix(value(p, pid.TypeChecksum), "sha2:") {
		t.Errorf("record: %+v", p.Values)
	}
	if a := e.avus("data.dat"); a["PID"] != p.Handle || a["EUDAT/ROR"] != p.Handle || a["EUDAT/FIO"] != p.Handle || a["EUDAT/FIXED_CONTENT"] != "False" {
		t.Errorf("AVUs: %v", a)
	}
	// Minting again gives the same PID.
	if again := e.mint("data.dat"); again.Handle != p.Handle {
		t.Errorf("minted again: %s, then %s", p.Handle, again.Handle)
	}
	if byPID := e.show(p.Handle); byPID.Path != e.path("data.dat") {
		t.Errorf("show by PID: path %s", byPID.Path)
	}

	// A new checksum.
	sum := value(p, pid.TypeChecksum)
	e.put("data.dat", "version two", true)
	now := e.show(p.Handle)
	if value(now, pid.TypeChecksum) == sum || value(now, pid.TypeChecksum) == "<none>" {
		t.Errorf("after an overwrite the checksum is still %s", sum)
	}
	// A new replica.
	if err := e.zone.Replicate(e.ctx, e.alice, zones.ReplicateRequest{Path: e.path("data.dat"), Dest: "second"}, func(zones.ReplicaChange) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if loc := value(e.show(p.Handle), pid.TypeLocations); !strings.Contains(loc, `resource="second"`) || !strings.Contains(loc, `resource="demoResc"`) {
		t.Errorf("10320/LOC after irepl: %s", loc)
	}
	// A rename: the URL follows, and still resolves.
	if _, err := e.zone.MakeCollection(e.ctx, e.alice, e.path("moved"), false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.Rename(e.ctx, e.alice, e.path("data.dat"), e.path("moved/data.dat")); err != nil {
		t.Fatal(err)
	}
	if u := value(e.show(p.Handle), pid.TypeURL); u != e.srv.URL+"/landing/tempZone/home/alice/moved/data.dat" {
		t.Errorf("URL after the rename: %s", u)
	}
	if err := e.zone.Rename(e.ctx, e.alice, e.path("moved"), e.path("moved again")); err != nil {
		t.Fatal(err)
	}
	if u := value(e.show(p.Handle), pid.TypeURL); u != e.srv.URL+"/landing/tempZone/home/alice/moved%20again/data.dat" {
		t.Errorf("URL after the collection's rename: %s", u)
	}
	// A removal: the record says so, the PID is not given out again.
	if _, err := e.zone.Remove(e.ctx, e.alice, e.path("moved again"), true, true); err != nil {
		t.Fatal(err)
	}
	gone := e.show(p.Handle)
	if st := value(gone, pid.TypeStatus); !strings.HasPrefix(st, "removed ") || !gone.Path.IsZero() {
		t.Errorf("after removal: status %q path %q", st, gone.Path)
	}
	if _, err := e.zone.RegisterHandle(e.ctx, e.rods, p.Handle, []zones.PIDValue{{Index: 1, Type: "URL", Data: "x"}}, false); !errors.Is(err, catalog.ErrExists) {
		t.Errorf("registering the removed object's PID again: %v, want ErrExists", err)
	}
}

// TestMintSetsTheMirror: the record, its index and the AVUs that mirror
// it are written together; AVUs of those attributes set by hand before
// give way to the record's.
func TestMintSetsTheMirror(t *testing.T) {
	e := newEnv(t)
	e.put("hand.dat", "bytes", false)
	target := catalog.ObjectTarget(e.path("hand.dat"))
	if err := e.cat.AddMetadata(e.ctx, target, catalog.AVU{Attribute: "PID", Value: "21.T12995/by-hand"},
		catalog.AVU{Attribute: "PID", Value: "21.T12995/by-hand-too"}, catalog.AVU{Attribute: "title", Value: "kept"}); err != nil {
		t.Fatal(err)
	}
	p := e.mint("hand.dat")
	avus, err := e.cat.ListMetadata(e.ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, a := range avus {
		if a.Attribute == "PID" {
			pids = append(pids, a.Value)
		}
	}
	if fmt.Sprint(pids) != "["+p.Handle+"]" || e.avus("hand.dat")["title"] != "kept" || e.avus("hand.dat")["EUDAT/ROR"] != p.Handle {
		t.Errorf("AVUs after the mint: %v", avus)
	}
	h, err := pid.ParseHandle(p.Handle)
	if err != nil {
		t.Fatal(err)
	}
	index, err := e.cat.Record(e.ctx, pid.IndexKind, h.Key())
	if err != nil {
		t.Fatal(err)
	}
	record, err := e.cat.Record(e.ctx, pid.RecordKind, h.Key())
	if err != nil {
		t.Fatal(err)
	}
	if !index.CreateTime.Equal(record.CreateTime) || !strings.HasPrefix(index.Ref, "object:") || record.Owner != rods {
		t.Errorf("index %+v, record %+v: want one transaction's", index, record)
	}
}

func TestCopyIsAChildOfItsParent(t *testing.T) {
	e := newEnv(t)
	e.put("master.dat", "bytes", false)
	parent := e.mint("master.dat")
	if _, err := e.zone.Copy(e.ctx, e.alice, e.path("master.dat"), e.path("copy.dat"), "", false); err != nil {
		t.Fatal(err)
	}
	child := e.mint("copy.dat")
	if value(child, pid.TypeParent) != parent.Handle || value(child, pid.TypeROR) != parent.Handle || value(child, pid.TypeFIO) != parent.Handle {
		t.Errorf("child record: %+v", child.Values)
	}
	if r := value(e.show(parent.Handle), pid.TypeReplica); r != child.Handle {
		t.Errorf("parent's EUDAT/REPLICA: %q, want %s", r, child.Handle)
	}
	if a := e.avus("master.dat"); a["EUDAT/REPLICA"] != child.Handle {
		t.Errorf("parent's AVUs: %v", a)
	}
	if a := e.avus("copy.dat"); a["EUDAT/PARENT"] != parent.Handle {
		t.Errorf("child's AVUs: %v", a)
	}
}

func TestMintRecursiveAndBadInput(t *testing.T) {
	e := newEnv(t)
	if _, err := e.zone.MakeCollection(e.ctx, e.alice, e.path("run"), false); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.put(fmt.Sprintf("run/f%d", i), "x", false)
	}
	var got []zones.PID
	if err := e.zone.MintPIDs(e.ctx, e.alice, e.path("run"), true, func(p zones.PID) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d PIDs for a collection of 3", len(got))
	}
	for _, ref := range []string{"21.T12995/", "no slash", "21.T1 2/x", "21.T12995/a\x01"} {
		if _, err := e.zone.ShowPID(e.ctx, e.alice, ref); !errors.Is(err, pid.ErrInvalidHandle) {
			t.Errorf("show %q: %v, want an invalid handle", ref, err)
		}
	}
	if _, err := e.zone.ShowPID(e.ctx, e.alice, "10.1234/abc"); !errors.Is(err, pid.ErrOtherPrefix) {
		t.Errorf("show a PID of another prefix: %v", err)
	}
	if _, err := e.zone.ShowPID(e.ctx, e.alice, prefix+"/no-such"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("show an unknown PID: %v", err)
	}
	bob, err := e.zone.MakeUser(e.ctx, e.rods, "bob", catalog.UserTypeUser, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.zone.MintPIDs(e.ctx, zones.As(bob), e.path("run/f0"), false, func(zones.PID) error { return nil }); !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("bob minting for alice's object: %v", err)
	}
	if _, err := e.zone.ShowPID(e.ctx, zones.As(bob), e.path("run/f0").String()); !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("bob asking the PID of alice's object by path: %v", err)
	}
	if _, err := e.zone.ShowPID(e.ctx, zones.As(bob), got[1].Handle); err != nil {
		t.Errorf("bob resolving a PID (public): %v", err)
	}
}

var testNow = mustTime("2026-01-02T03:04:05Z")

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestResolver(t *testing.T) {
	e := newEnv(t)
	e.put("public.dat", "open data", false)
	e.put("private.dat", "closed data", false)
	if err := e.zone.SetAccess(e.ctx, e.alice, e.path("public.dat"), "public", catalog.AccessRead, false, false); err != nil {
		t.Fatal(err)
	}
	if err := e.zone.AddMetadata(e.ctx, e.alice, catalog.ObjectTarget(e.path("public.dat")), []catalog.AVU{{Attribute: "title", Value: "Open <b>data</b>"}}); err != nil {
		t.Fatal(err)
	}
	pub, priv := e.mint("public.dat"), e.mint("private.dat")
	c := e.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	api := e.srv.URL + "/api/handles/"

	resp, body := get(t, c, api+pub.Handle)
	var r pid.Response
	if err := json.Unmarshal([]byte(body), &r); err != nil || resp.StatusCode != 200 || r.ResponseCode != 1 || r.Handle != pub.Handle || len(r.Values) < 10 {
		t.Fatalf("resolve: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `"data":{"format":"string","value":"`+e.srv.URL+`/landing/tempZone/home/alice/public.dat"}`) ||
		!strings.Contains(body, `"ttl":86400`) || !strings.Contains(body, `"timestamp":"`) {
		t.Errorf("the record's shape: %s", body)
	}
	// The answer is cached, and follows the data at once: an overwrite
	// gives the record a new checksum, which the next resolution shows.
	checksumOf := func(body string) string {
		var r pid.Response
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("resolve: %v: %s", err, body)
		}
		for _, v := range r.Values {
			if v.Type == pid.TypeChecksum {
				return v.String()
			}
		}
		return ""
	}
	if _, again := get(t, c, api+pub.Handle); again != body {
		t.Errorf("resolved again:\n%s\nfirst:\n%s", again, body)
	}
	e.put("public.dat", "open data, version two", true)
	if _, now := get(t, c, api+pub.Handle); checksumOf(now) == checksumOf(body) || checksumOf(now) == "" {
		t.Errorf("after an overwrite the resolver still answers checksum %q", checksumOf(now))
	}
	// A handle is case-insensitive; the answer names it as asked.
	upper := strings.ToUpper(pub.Handle)
	if _, b := get(t, c, api+upper); !strings.Contains(b, `"handle":"`+upper+`"`) {
		t.Errorf("resolve %s: %s", upper, b)
	}
	for _, tc := range []struct {
		query string
		types []string
	}{
		{"?type=URL", []string{"URL"}},
		{"?type=URL&type=EUDAT/CHECKSUM", []string{"URL", "EUDAT/CHECKSUM"}},
		{"?index=1&index=9", []string{"URL", "EUDAT/PROFILE_VERSION"}},
		{"?type=EUDAT/CHECKSUM&index=100", []string{"EUDAT/CHECKSUM", "HS_ADMIN"}},
	} {
		_, body := get(t, c, api+pub.Handle+tc.query)
		var r pid.Response
		json.Unmarshal([]byte(body), &r)
		var types []string
		for _, v := range r.Values {
			types = append(types, v.Type)
		}
		if r.ResponseCode != 1 || fmt.Sprint(types) != fmt.Sprint(tc.types) {
			t.Errorf("%s: %v (%d), want %v", tc.query, types, r.ResponseCode, tc.types)
		}
	}
	for _, tc := range []struct {
		path   string
		status int
		code   int
	}{
		{pub.Handle + "?type=NOPE", 200, 200},
		{prefix + "/no-such-handle", 404, 100},
		{prefix + "/bad%20handle", 400, 102},
		{"21..T1/x", 400, 102},
		{"10.1234/abc", 400, 301},
		{pub.Handle + "?index=one", 400, 2},
	} {
		resp, body := get(t, c, api+tc.path)
		var r pid.Response
		if err := json.Unmarshal([]byte(body), &r); err != nil || resp.StatusCode != tc.status || r.ResponseCode != tc.code {
			t.Errorf("GET %s: HTTP %d %s, want HTTP %d responseCode %d", tc.path, resp.StatusCode, body, tc.status, tc.code)
		}
	}
	req, _ := http.NewRequest(http.MethodDelete, api+pub.Handle, nil)
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE: %v %v", resp, err)
	}
	// No registration without an authenticator.
	req, _ = http.NewRequest(http.MethodPut, api+prefix+"/new", strings.NewReader(`[{"index":1,"type":"URL","data":{"format":"string","value":"x"}}]`))
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT without an authenticator: %v %v", resp, err)
	}

	// The proxy's redirect, and the landing pages.
	resp, _ = get(t, c, e.srv.URL+"/"+pub.Handle)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != e.srv.URL+"/landing/tempZone/home/alice/public.dat" {
		t.Errorf("GET /%s: %d to %q", pub.Handle, resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = get(t, c, resp.Header.Get("Location"))
	if resp.StatusCode != 200 || !strings.Contains(body, "Open &lt;b&gt;data&lt;/b&gt;") || !strings.Contains(body, pub.Handle) || strings.Contains(body, "Restricted") {
		t.Errorf("landing page of a public object: %d\n%s", resp.StatusCode, body)
	}
	resp, body = get(t, c, value(priv, pid.TypeURL))
	if resp.StatusCode != 200 || !strings.Contains(body, "Restricted") || strings.Contains(body, "closed data") {
		t.Errorf("landing page of a private object: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := get(t, c, e.srv.URL+"/"+prefix+"/no-such"); resp.StatusCode != 404 {
		t.Errorf("redirect of an unknown handle: %d", resp.StatusCode)
	}
	if _, err := e.zone.Remove(e.ctx, e.alice, e.path("private.dat"), false, true); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, c, e.srv.URL+"/"+priv.Handle); resp.StatusCode != http.StatusGone || !strings.Contains(body, "removed") {
		t.Errorf("redirect of a removed object's PID: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := get(t, c, e.srv.URL+"/landing/tempZone/home/alice/no-such"); resp.StatusCode != 404 {
		t.Errorf("landing page of nothing: %d", resp.StatusCode)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
