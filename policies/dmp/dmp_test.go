package dmp

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/policies/qos"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/zones"
)

func newValidator(t testing.TB) (*Validator, *Vocabulary) {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	voc, err := ParseVocabulary(DefaultVocabulary)
	if err != nil {
		t.Fatal(err)
	}
	return v, voc
}

func example(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExamples: every example DMP of the standard imports (validates and
// maps), or fails naming the field.
func TestExamples(t *testing.T) {
	v, voc := newValidator(t)
	cases := []struct {
		file     string
		datasets int
		expr     string // of the first dataset's first requirement
		access   string
		failure  string // the field named, when it fails
	}{
		{file: "ex1-header-fundedProject.json", datasets: 1, expr: "anyStorage"},
		{file: "ex2-dataset-planned.json", datasets: 1, expr: "anyStorage", access: "open"},
		{file: "ex3-dataset-finished.json", datasets: 1, expr: "anyStorage", access: "open"},
		{file: "ex4-dataset-embargo.json", datasets: 1, expr: "anyStorage", access: "open"},
		{file: "ex5-dataset-planned-host.json", datasets: 1, expr: "tier=hot", access: "open"},
		{file: "ex6-dataset-closed.json", datasets: 1, expr: "(anyStorage) & (geo=AT | ", access: "closed"},
		{file: "ex7-dataset-many.json", datasets: 2, expr: "anyStorage", access: "open"},
		{file: "ex8-dmp-minimal-content.json", datasets: 1, expr: "anyStorage"},
		{file: "ex9-dmp-long.json", failure: "field /dmp/dataset/1/dataset_id: handle \"0000/00.00000\" names dataset 0 too"},
		{file: "ex10-fairsharing.json", datasets: 1, expr: "anyStorage", access: "open"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			start := time.Now()
			d, err := v.Parse(bytes.NewReader(example(t, tc.file)))
			var plans []DatasetPlan
			if err == nil {
				plans, err = voc.Plan(d, "tempZone", nil, "2026-01-01")
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %s, want under 1 s", took)
			}
			if tc.failure != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.failure) {
					t.Fatalf("got %v, want a field error containing %q", err, tc.failure)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(plans) != tc.datasets || !strings.HasPrefix(plans[0].Requirements[0].Expression, tc.expr) || plans[0].Access != tc.access {
				t.Fatalf("plans %+v", plans)
			}
			for _, p := range plans {
				for _, r := range p.Requirements {
					if _, err := qos.Parse(r.Expression); err != nil {
						t.Errorf("requirement from %s does not parse: %v", r.From, err)
					}
				}
			}
		})
	}
}

// TestQuirks: the two spellings of support_versioning, availability with a
// decimal comma, unknown keys kept.
func TestQuirks(t *testing.T) {
	v, _ := newValidator(t)
	d, err := v.Parse(bytes.NewReader(example(t, "ex5-dataset-planned-host.json")))
	if err != nil {
		t.Fatal(err)
	}
	h := d.Datasets[0].Distributions[0].Host
	if h.SupportVersioning != "yes" || h.Availability != 99.5 || h.AvailabilityText != "99,5" || h.StorageType != "hot" {
		t.Errorf("host %+v", h)
	}
	if !bytes.Contains(d.Raw, []byte(`"supports_versioning"`)) {
		t.Error("the document as given is not kept")
	}
}

func TestMapping(t *testing.T) {
	v, voc := newValidator(t)
	doc := string(example(t, "ex5-dataset-planned-host.json"))
	host := `"host": {"title": "Archive", "url": "https://archive.example", "backup_type": "Tapes", "storage_type": "hot", "geo_location": "DE"}`
	cases := []struct {
		name, from, to string
		paths          map[string]string
		want           []string
		embargo        string
	}{
		{name: "tapes and hot in Germany", from: `"host": {`, to: host + `, "x": {`,
			want: []string{"(type=tape) & geo=DE x1", "(tier=hot) & geo=DE x1"}},
		{name: "personal data stays in the EU", from: `"personal_data": "no"`, to: `"personal_data": "yes"`,
			want: []string{"(tier=hot) & (geo=AT | "}},
		{name: "an embargo", from: `"start_date": "2021-06-30"`, to: `"start_date": "2031-06-30"`,
			want: []string{"tier=hot x1"}, embargo: "2031-06-30"},
		{name: "--dataset", paths: map[string]string{"10.5281/zenodo.1200361": "/tempZone/home/alice/cool"},
			want: []string{"tier=hot x1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := doc
			if tc.from != "" {
				src = strings.Replace(doc, tc.from, tc.to, 1)
			}
			d, err := v.Parse(strings.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			plans, err := voc.Plan(d, "tempZone", tc.paths, "2026-01-01")
			if err != nil {
				t.Fatal(err)
			}
			p := plans[0]
			if len(p.Requirements) != len(tc.want) {
				t.Fatalf("requirements %+v, want %q", p.Requirements, tc.want)
			}
			for i, w := range tc.want {
				got := p.Requirements[i].Expression + " x" + string(rune('0'+p.Requirements[i].Replicas))
				if !strings.HasPrefix(got, w) {
					t.Errorf("requirement %d: %q, want %q", i, got, w)
				}
			}
			if p.EmbargoUntil != tc.embargo || p.RetainUntil != "2029-01-30" {
				t.Errorf("embargo %q retain %q", p.EmbargoUntil, p.RetainUntil)
			}
			if tc.paths != nil && p.Collection != "/tempZone/home/alice/cool" {
				t.Errorf("collection %s", p.Collection)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	v, voc := newValidator(t)
	doc := string(example(t, "ex7-dataset-many.json"))
	cases := []struct {
		name  string
		input string
		paths map[string]string
		want  string
	}{
		{"not JSON", `{"dmp": `, nil, "not JSON"},
		{"not JSON at all", "title: a yaml file", nil, "not JSON"},
		{"huge", `{"dmp": "` + strings.Repeat("x", MaxSize) + `"}`, nil, "larger than 10 MiB"},
		{"no title", strings.Replace(doc, `"title": "DMP with two datasets"`, `"titel": "x"`, 1), nil, "field /dmp: fails the maDMP v1.2 schema: missing property 'title'"},
		{"bad enum", strings.Replace(doc, `"data_access": "open"`, `"data_access": "public"`, 1), nil, "field /dmp/dataset/0/distribution/0/data_access: fails the maDMP v1.2 schema"},
		{"not a date", strings.Replace(doc, `"modified": "2019-02-22T15:10:56.9Z"`, `"modified": "yesterday"`, 1), nil, "/dmp/modified"},
		{"dataset twice", strings.Replace(doc, `"10.1234/zenodo.123456789"`, `"10.9876/zenodo.1234567"`, 1), nil, "field /dmp/dataset/1/dataset_id"},
		{"outside the zone", doc, map[string]string{"10.9876/zenodo.1234567": "/otherZone/x"}, "field --dataset 10.9876/zenodo.1234567: /otherZone/x lies outside the zone tempZone"},
		{"the zone itself", doc, map[string]string{"10.9876/zenodo.1234567": "/tempZone"}, "lies outside the zone"},
		{"no such dataset", doc, map[string]string{"nope": "/tempZone/x"}, "field --dataset nope: the DMP has no dataset"},
		{"two datasets, one collection", doc, map[string]string{"10.9876/zenodo.1234567": "/tempZone/x", "10.1234/zenodo.123456789": "/tempZone/x"}, "maps to /tempZone/x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := v.Parse(strings.NewReader(tc.input))
			if err == nil {
				_, err = voc.Plan(d, "tempZone", tc.paths, "2026-01-01")
			}
			if !errors.Is(err, catalog.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an invalid argument containing %q", err, tc.want)
			}
		})
	}
}

// TestImportIntoZone imports into a real zone (SQLite, POSIX resources
// with QoS attributes): the collection is made, its requirement put and
// fulfilled by convergence; the DMP is stored; the same again is refused,
// a newer one shows what it replaces (--dry-run) and applies.
func TestImportIntoZone(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	z := zones.New(cat, zones.Options{Drivers: drivers.Default(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		QoS: func(s string) (zones.QoSExpr, error) {
			e, err := qos.Parse(s)
			if err != nil {
				return nil, err
			}
			return e, nil
		}})
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	rods, err := cat.User(ctx, catalog.UserID{Name: zones.DefaultAdmin, Zone: zones.DefaultZone})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"hot1", "cold1"} {
		if _, err := z.MakeResource(ctx, zones.As(rods), catalog.Resource{Name: r, Type: "posix", Location: filepath.Join(dir, r)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := z.ModifyResource(ctx, zones.As(rods), "hot1", "qos", "tier=hot,geo=AT"); err != nil {
		t.Fatal(err)
	}
	v, voc := newValidator(t)
	im := &Importer{Zone: z, Records: cat, Vocabulary: voc, Validator: v}
	doc := example(t, "ex5-dataset-planned-host.json")
	coll := "/tempZone/projects/10.0000_00.0.1234/10.5281_zenodo.1200361"

	dry, err := im.Import(ctx, zones.As(rods), bytes.NewReader(doc), ImportOptions{DryRun: true})
	if err != nil || !dry.DryRun || dry.Datasets[0].Collection != coll {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if _, err := cat.Stat(ctx, catalog.MustPath(coll)); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("a dry run made the collection: %v", err)
	}
	if _, err := im.Import(ctx, zones.As(rods), bytes.NewReader(doc), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	sts, err := z.ListQoS(ctx, zones.As(rods), catalog.MustPath(coll), false)
	if err != nil || len(sts) != 1 || sts[0].Expr != "tier=hot" || sts[0].Status != zones.QoSFulfilled {
		t.Fatalf("requirements on the dataset's collection: %+v %v", sts, err)
	}
	if _, err := z.Put(ctx, zones.As(rods), zones.PutRequest{Path: catalog.MustPath(coll + "/raw.csv"), Size: 3, Resource: "cold1"},
		strings.NewReader("a,b")); err != nil {
		t.Fatal(err)
	}
	if _, err := z.ConvergeQoS(ctx, catalog.MustPath(coll)); err != nil {
		t.Fatal(err)
	}
	if sts, _ = z.ListQoS(ctx, zones.As(rods), catalog.MustPath(coll+"/raw.csv"), false); sts[0].Status != zones.QoSFulfilled {
		t.Fatalf("after convergence: %+v", sts)
	}

	list, err := im.List(ctx)
	if err != nil || len(list) != 1 || list[0].DMP != "10.0000/00.0.1234" || list[0].Datasets != 1 || list[0].Version != 1 {
		t.Fatalf("List = %+v %v", list, err)
	}
	_, err = im.Import(ctx, zones.As(rods), bytes.NewReader(doc), ImportOptions{})
	if !errors.Is(err, catalog.ErrInvalidArgument) || !strings.Contains(err.Error(), "field /dmp/modified") {
		t.Fatalf("the same DMP again: %v", err)
	}
	newer := bytes.Replace(doc, []byte(`"modified": "2019-02-22T15:10:56.9Z"`), []byte(`"modified": "2020-01-01T00:00:00Z"`), 1)
	newer = bytes.Replace(newer, []byte(`"storage_type": "hot"`), []byte(`"storage_type": "hot", "geo_location": "AT"`), 1)
	res, err := im.Import(ctx, zones.As(rods), bytes.NewReader(newer), ImportOptions{DryRun: true})
	if err != nil || res.Previous == nil || res.Datasets[0].Requirements[0].Expression != "(tier=hot) & geo=AT" {
		t.Fatalf("newer, dry run: %+v %v", res, err)
	}
	if _, err := im.Import(ctx, zones.As(rods), bytes.NewReader(newer), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if list, _ = im.List(ctx); list[0].Version != 2 || !list[0].Modified.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the newer import: %+v", list)
	}
	shown, err := im.Show(ctx, "10.0000/00.0.1234")
	if err != nil || !bytes.Contains(shown, []byte(`"geo_location": "AT"`)) {
		t.Fatalf("Show: %s %v", shown, err)
	}
	if _, err := im.Import(ctx, zones.As(rods), bytes.NewReader(doc), ImportOptions{}); err == nil {
		t.Fatal("an older DMP was taken")
	}
}
