package raid_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/policies/raid"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/zones"
)

type env struct {
	t           *testing.T
	ctx         context.Context
	zone        *zones.Zone
	cat         *sqlite.Catalog
	rods, alice zones.Principal
	bob         zones.Principal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	z := zones.New(cat, zones.Options{Drivers: drivers.Default(), Logger: slog.New(slog.DiscardHandler)})
	k, err := raid.New(cat, raid.Config{Prefix: "10.82841", Owner: "https://ror.org/038sjwq14", ServicePoint: 20000000})
	if err != nil {
		t.Fatal(err)
	}
	z.UseRAiDs(k)
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	rods, err := cat.User(ctx, catalog.UserID{Name: "rods", Zone: "tempZone"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, zone: z, cat: cat, rods: zones.As(rods)}
	for _, name := range []string{"alice", "bob"} {
		u, err := z.MakeUser(ctx, e.rods, name, catalog.UserTypeUser, "pw")
		if err != nil {
			t.Fatal(err)
		}
		if name == "alice" {
			e.alice = zones.As(u)
		} else {
			e.bob = zones.As(u)
		}
	}
	return e
}

func (e *env) create(who zones.Principal, req zones.RAiDRequest) (zones.RAiD, error) {
	return e.zone.CreateRAiD(e.ctx, who, req)
}

var good = zones.RAiDRequest{Title: "C. Japonicum Genome", Start: "2024-03", End: "2027",
	Contributors:  []string{"0000-0002-1825-0097", "https://orcid.org/0000-0002-4368-8058"},
	Organisations: []string{"04qw24q55", "https://ror.org/02stey378"}, Description: "Sequencing."}

func TestCreateShowLink(t *testing.T) {
	e := newEnv(t)
	r, err := e.create(e.alice, good)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.ID, "https://raid.org/10.82841/") || r.Owner.Name != "alice" || r.Closed || r.Version != 1 {
		t.Errorf("created %+v", r)
	}
	if err := raid.Validate(r.Doc); err != nil {
		t.Errorf("the stored record fails the schema: %v", err)
	}
	var d struct {
		Identifier struct {
			ID                 string
			RegistrationAgency struct{ ID string }
			Version            int
		}
		Title       []struct{ Text, StartDate string }
		Date        struct{ StartDate, EndDate string }
		Contributor []struct {
			ID      string
			Leader  bool
			Contact bool
		}
		Organisation []struct{ ID string }
	}
	if err := json.Unmarshal(r.Doc, &d); err != nil {
		t.Fatal(err)
	}
	if d.Identifier.ID != r.ID || d.Identifier.RegistrationAgency.ID != "https://ror.org/038sjwq14" || d.Title[0].Text != good.Title ||
		d.Date.StartDate != "2024-03" || d.Date.EndDate != "2027" || len(d.Contributor) != 2 || !d.Contributor[0].Leader ||
		d.Contributor[1].ID != "https://orcid.org/0000-0002-4368-8058" || d.Organisation[0].ID != "https://ror.org/04qw24q55" {
		t.Errorf("record: %s", r.Doc)
	}
	for _, id := range []string{r.ID, strings.TrimPrefix(r.ID, "https://raid.org/"), strings.TrimPrefix(r.ID, "https://")} {
		if got, err := e.zone.ShowRAiD(e.ctx, e.bob, id); err != nil || got.ID != r.ID {
			t.Errorf("show %s: %v %v", id, got.ID, err)
		}
	}

	// Link a collection: it joins the related objects, the RAiD its AVUs.
	coll := catalog.MustPath("/tempZone/home/alice/project")
	if _, err := e.zone.MakeCollection(e.ctx, e.alice, coll, false); err != nil {
		t.Fatal(err)
	}
	if err := e.cat.AddMetadata(e.ctx, catalog.CollectionTarget(coll), catalog.AVU{Attribute: "PID", Value: "21.T1/abc"}); err != nil {
		t.Fatal(err)
	}
	linked, err := e.zone.LinkRAiD(e.ctx, e.alice, r.ID, coll, false)
	if err != nil {
		t.Fatal(err)
	}
	if linked.Version != 2 || !strings.Contains(string(linked.Doc), `"relatedObject":[{"category":[{"id":"https://vocabulary.raid.org/relatedObject.category.id/190"`) ||
		!strings.Contains(string(linked.Doc), `"id":"https://hdl.handle.net/21.T1/abc"`) || !strings.Contains(string(linked.Doc), `"version":2`) {
		t.Errorf("after link: %s", linked.Doc)
	}
	avus, _ := e.cat.ListMetadata(e.ctx, catalog.CollectionTarget(coll))
	if !hasAVU(avus, "RAiD", r.ID) {
		t.Errorf("collection's AVUs after link: %v", avus)
	}
	// Linking twice changes nothing.
	if again, err := e.zone.LinkRAiD(e.ctx, e.alice, r.ID, coll, false); err != nil || again.Version != 2 {
		t.Errorf("second link: version %d, %v", again.Version, err)
	}
	// bob may write the collection, but the RAiD is alice's.
	if err := e.zone.SetAccess(e.ctx, e.alice, coll, "bob", catalog.AccessOwn, false, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zone.LinkRAiD(e.ctx, e.bob, r.ID, coll, true); !errors.Is(err, catalog.ErrPermission) {
		t.Errorf("bob unlinking alice's RAiD: %v", err)
	}
	unlinked, err := e.zone.LinkRAiD(e.ctx, e.alice, r.ID, coll, true)
	if err != nil || strings.Contains(string(unlinked.Doc), "21.T1/abc") || unlinked.Version != 3 {
		t.Errorf("after unlink: %s %v", unlinked.Doc, err)
	}
	avus, _ = e.cat.ListMetadata(e.ctx, catalog.CollectionTarget(coll))
	if hasAVU(avus, "RAiD", r.ID) {
		t.Errorf("collection's AVUs after unlink: %v", avus)
	}
}

func hasAVU(avus []catalog.AVU, attr, val string) bool {
	for _, a := range avus {
		if a.Attribute == attr && a.Value == val {
			return true
		}
	}
	return false
}

func TestEmbargoedIsClosedToOthers(t *testing.T) {
	e := newEnv(t)
	req := good
	req.Embargo = time.Now().AddDate(0, 6, 0).Format("2006-01-02")
	r, err := e.create(e.alice, req)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Closed {
		t.Fatalf("an embargoed RAiD is open: %s", r.Doc)
	}
	mine, err := e.zone.ShowRAiD(e.ctx, e.alice, r.ID)
	if err != nil || !strings.Contains(string(mine.Doc), good.Title) {
		t.Errorf("the owner's view: %s %v", mine.Doc, err)
	}
	theirs, err := e.zone.ShowRAiD(e.ctx, e.bob, r.ID)
	if err != nil || strings.Contains(string(theirs.Doc), good.Title) || !strings.Contains(string(theirs.Doc), "embargoExpiry") {
		t.Errorf("another's view: %s %v", theirs.Doc, err)
	}
	if admin, err := e.zone.ShowRAiD(e.ctx, e.rods, r.ID); err != nil || !strings.Contains(string(admin.Doc), good.Title) {
		t.Errorf("the administrator's view: %s %v", admin.Doc, err)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	with := func(f func(*zones.RAiDRequest)) zones.RAiDRequest {
		r := good
		r.Contributors = append([]string(nil), good.Contributors...)
		r.Organisations = append([]string(nil), good.Organisations...)
		f(&r)
		return r
	}
	for name, tc := range map[string]struct {
		req  zones.RAiDRequest
		want error
	}{
		"ORCID check digit":      {with(func(r *zones.RAiDRequest) { r.Contributors[1] = "0000-0002-4368-8059" }), raid.ErrORCID},
		"ORCID shape":            {with(func(r *zones.RAiDRequest) { r.Contributors[0] = "0000-0002-1825" }), raid.ErrORCID},
		"ROR check digits":       {with(func(r *zones.RAiDRequest) { r.Organisations[0] = "04qw24q56" }), raid.ErrROR},
		"ROR letter":             {with(func(r *zones.RAiDRequest) { r.Organisations[1] = "https://ror.org/02stey3u8" }), raid.ErrROR},
		"no title":               {with(func(r *zones.RAiDRequest) { r.Title = " " }), catalog.ErrInvalidArgument},
		"bad start":              {with(func(r *zones.RAiDRequest) { r.Start = "2024-13-01" }), raid.ErrDate},
		"end before start":       {with(func(r *zones.RAiDRequest) { r.End = "2020" }), catalog.ErrInvalidArgument},
		"schema: title a string": {zones.RAiDRequest{Doc: []byte(`{"title":"x","date":{"startDate":"2024"},"contributor":[],"access":{"type":{"id":"a","schemaUri":"b"}}}`)}, raid.ErrSchema},
		"schema: no position":    {zones.RAiDRequest{Doc: []byte(`{"title":[{"text":"t","type":{},"startDate":"2024"}],"date":{"startDate":"2024"},"access":{"type":{"id":"a","schemaUri":"b"}},"contributor":[{"id":"https://orcid.org/0000-0002-1825-0097","schemaUri":"https://orcid.org/","role":[]}]}`)}, raid.ErrSchema},
		"schema: no access":      {zones.RAiDRequest{Doc: []byte(`{"title":[],"date":{"startDate":"2024"},"contributor":[]}`)}, raid.ErrSchema},
		"schema: not JSON":       {zones.RAiDRequest{Doc: []byte(`{"title":`)}, raid.ErrSchema},
		"doc with a bad ORCID":   {zones.RAiDRequest{Doc: []byte(`{"title":[],"date":{"startDate":"2024"},"access":{"type":{"id":"a","schemaUri":"b"}},"contributor":[{"id":"0000-0002-1825-0098","schemaUri":"https://orcid.org/","position":[],"role":[]}]}`)}, raid.ErrORCID},
	} {
		if _, err := e.create(e.alice, tc.req); !errors.Is(err, tc.want) || !errors.Is(err, catalog.ErrInvalidArgument) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if recs, err := e.cat.ListRecords(e.ctx, raid.RecordKind, "", 10); err != nil || len(recs) != 0 {
		t.Errorf("refused creations left records: %v %v", recs, err)
	}
	// A whole record that passes is kept, under the zone's identifier.
	r, err := e.create(e.alice, zones.RAiDRequest{Doc: []byte(`{"title":[{"text":"Whole","type":{"id":"x","schemaUri":"y"},"startDate":"2024"}],"date":{"startDate":"2024"},"access":{"type":{"id":"https://vocabularies.coar-repositories.org/access_rights/c_abf2/","schemaUri":"https://vocabularies.coar-repositories.org/access_rights/"}},"contributor":[],"identifier":{"id":"https://raid.org/99.999/stolen"}}`)})
	if err != nil || !strings.HasPrefix(r.ID, "https://raid.org/10.82841/") || strings.Contains(string(r.Doc), "stolen") {
		t.Errorf("a whole record: %+v %v", r, err)
	}
	for _, id := range []string{"https://raid.org/99.999/abc", "not a raid", "https://raid.org/10.82841/", "10.82841/a b"} {
		if _, err := e.zone.ShowRAiD(e.ctx, e.alice, id); !errors.Is(err, catalog.ErrInvalidArgument) {
			t.Errorf("show %q: %v", id, err)
		}
	}
	if _, err := e.zone.ShowRAiD(e.ctx, e.alice, "10.82841/nosuch"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("show an unknown RAiD: %v", err)
	}
}
