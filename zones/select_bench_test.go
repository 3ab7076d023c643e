package zones_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// selectRules are periodic rules whose selections take 1% of the objects
// BenchmarkPeriodicSelection registers: by replica size, which no index
// helps, and by an AVU, which the AVU index finds.
const selectRules = `rules:
  - name: by-size
    every: "@daily"
    select: >-
      "select COLL_NAME, DATA_NAME where DATA_SIZE >= 99000"
    then:
      - tally: {}
  - name: by-avu
    every: "@daily"
    select: >-
      "select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'tier' and META_DATA_ATTR_VALUE = 'cold'"
    then:
      - tally: {}
`

// BenchmarkPeriodicSelection registers objects through the zone's bulk
// registration (catalog Registrar, 10,000 a transaction; default
// 1,000,000, ARCA_SELECT_OBJECTS sets another number) in 1,000
// collections, each with one good replica of size id % 100,000 and the AVU
// tier = cold (1 in 100) or hot, into an SQLite catalog. Then, three times
// each, for a periodic rule selecting by size (DATA_SIZE >= 99000) and one
// selecting by AVU (tier = cold), 1% of the objects each:
//
//	select: the selection alone (rules.Engine.Selection), page by page as a
//	        run takes it (rules.DefaultSelectBatch objects a query)
//	run:    a whole run of the rule's job (rules.Engine.Run), its progress
//	        saved in the catalog before each batch, the rule's condition and
//	        action (a counter) evaluated on every object
//
// and reports the median of the three (ms):
//
//	go test -run '^$' -bench PeriodicSelection -benchtime 1x -timeout 60m ./zones/
func BenchmarkPeriodicSelection(b *testing.B) {
	objects := 1_000_000
	if s := os.Getenv("ARCA_SELECT_OBJECTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100_000 || n%100_000 != 0 {
			b.Fatalf("ARCA_SELECT_OBJECTS=%q: want a multiple of 100000", s)
		}
		objects = n
	}
	const (
		collections = 1000
		batch       = 10_000
	)
	ctx := context.Background()
	dir := benchDir(b)
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	quiet := slog.New(slog.DiscardHandler)
	z := zones.New(cat, zones.Options{Drivers: drivers.Default(), Logger: quiet})
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{VaultDir: filepath.Join(dir, "vault")}); err != nil {
		b.Fatal(err)
	}
	var tally atomic.Int64
	reg := rules.NewRegistry()
	if err := reg.Register(rules.Action{Name: "tally", Run: func(context.Context, *rules.Call) error { tally.Add(1); return nil }}); err != nil {
		b.Fatal(err)
	}
	e, err := rules.New(rules.Options{Registry: reg, Catalog: cat, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	set, err := e.Compile(map[string][]byte{"select.yaml": []byte(selectRules)})
	if err != nil {
		b.Fatal(err)
	}
	e.Load(set)
	z.UseRules(e)
	rods, err := cat.User(ctx, catalog.UserID{Name: zones.DefaultAdmin, Zone: zones.DefaultZone})
	if err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	perColl := objects / collections
	for first := 0; first < objects; first += batch {
		objs := make([]catalog.RegisteredObject, 0, batch)
		for id := first; id < first+batch; id++ {
			tier := "hot"
			if id%100 == 42 {
				tier = "cold"
			}
			objs = append(objs, catalog.RegisteredObject{
				Path:  catalog.MustPath(fmt.Sprintf("/tempZone/home/rods/sel/c%03d/obj%07d", id/perColl, id)),
				Owner: rods.UserID(),
				Replicas: []catalog.RegisteredReplica{{Resource: zones.DefaultResource,
					PhysicalPath: fmt.Sprintf("sel/c%03d/obj%07d", id/perColl, id), Size: int64(id % 100_000)}},
				Metadata: []catalog.AVU{{Attribute: "tier", Value: tier}},
			})
		}
		if err := z.Register(ctx, zones.As(rods), objs, true, false); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("registered %d objects in %v", objects, time.Since(start).Round(time.Second))
	want := objects / 100

	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	jobs, err := cat.ListJobs(ctx, 0, 10)
	if err != nil || len(jobs) != 2 {
		b.Fatalf("the rules' jobs: %+v %v", jobs, err)
	}
	b.ResetTimer()
	for _, rule := range []string{"by-size", "by-avu"} {
		var sel, run []time.Duration
		for range 3 {
			t0 := time.Now()
			n, err := e.Selection(ctx, rule, zones.DefaultZone, zones.DefaultAdmin, 0, func(catalog.Path) error { return nil })
			if err != nil || n != want {
				b.Fatalf("%s: selected %d, %v; want %d", rule, n, err, want)
			}
			sel = append(sel, time.Since(t0))

			// A whole run, as the job runner makes it: claimed, its
			// progress saved under the claim.
			var job catalog.Job
			for _, j := range jobs {
				if j.Rule == rule {
					job = j
				}
			}
			claimed, err := cat.ClaimJobs(ctx, "bench", job.Due, time.Hour, 10)
			if err != nil || !slices.ContainsFunc(claimed, func(j catalog.Job) bool { return j.ID == job.ID }) {
				b.Fatalf("claim the job of %s: %+v %v", rule, claimed, err)
			}
			var work rules.JobWork
			if err := json.Unmarshal(job.Work, &work); err != nil {
				b.Fatal(err)
			}
			tally.Store(0)
			t0 = time.Now()
			err = e.Run(ctx, &rules.JobRun{ID: int64(job.ID), Rule: job.Rule, Every: job.Every, Work: work, Created: job.CreateTime,
				Save: func(ctx context.Context, state []byte) error { return cat.SaveJobState(ctx, job.ID, "bench", state) }})
			if err != nil || tally.Load() != int64(want) {
				b.Fatalf("%s: run: %v, %d objects evaluated; want %d", rule, err, tally.Load(), want)
			}
			run = append(run, time.Since(t0))
			for _, c := range claimed {
				if err := cat.FinishJob(ctx, c.ID, "bench", c.Due); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Logf("%s: %d of %d objects; select %v (median %v), run %v (median %v)", rule, want, objects, sel, median(sel), run, median(run))
		b.ReportMetric(float64(median(sel).Milliseconds()), rule+"-select-ms")
		b.ReportMetric(float64(median(run).Milliseconds()), rule+"-run-ms")
	}
}
