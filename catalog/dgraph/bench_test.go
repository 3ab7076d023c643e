package dgraph

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
	"github.com/arca-data/arca/catalog/sqlite"
)

// benchSizes are the sizes of the query benchmark's catalogs:
// $ARCA_BENCH_OBJECTS, a comma-separated list, or 10,000 data objects
// (SQLite's own benchmark has 1,000,000; building that on Dgraph takes
// too long for a shared machine).
func benchSizes(b *testing.B) []int {
	s := os.Getenv("ARCA_BENCH_OBJECTS")
	if s == "" {
		return []int{10_000}
	}
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 {
			b.Fatalf("ARCA_BENCH_OBJECTS=%q", s)
		}
		ns = append(ns, n)
	}
	return ns
}

// benchFixtureVersion changes whenever the content of fillQueryBench does,
// so that a cached Dgraph fixture of an older content is not reused.
const benchFixtureVersion = 2

// benchDone is the user that marks a complete fixture: made last.
var benchDone = catalog.UserID{Name: "benchdone", Zone: "tempZone"}

// fillQueryBench registers n objects as SQLite's BenchmarkQuery1M has
// them: 100 collections, 3 AVUs each (project = p0000.. with 100 objects
// per project, a unique sample, a size in GB), owned by bench, through
// the bulk register path. A user carol owns nothing and reads only the
// objects of project p0042 (a grant to a group of hers).
func fillQueryBench(b *testing.B, c catalog.Catalog, n int) {
	ctx := context.Background()
	rods := catalog.UserID{Name: "rods", Zone: "tempZone"}
	bench := catalog.UserID{Name: "bench", Zone: "tempZone"}
	for _, u := range []catalog.User{{Name: "rods", Zone: "tempZone", Type: catalog.UserTypeAdmin},
		{Name: "bench", Zone: "tempZone", Type: catalog.UserTypeUser}, {Name: "carol", Zone: "tempZone", Type: catalog.UserTypeUser}} {
		if _, err := c.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.CreateResource(ctx, catalog.Resource{Name: "demoResc", Type: "posix"}); err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"/tempZone", "/tempZone/bench"} {
		if _, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath(p), Owner: rods}); err != nil {
			b.Fatal(err)
		}
	}
	const chunk = 500
	var objs []catalog.RegisteredObject
	flush := func() {
		if len(objs) == 0 {
			return
		}
		if err := c.Register(ctx, objs, true); err != nil {
			b.Fatal(err)
		}
		objs = objs[:0]
	}
	for i := range n {
		p := catalog.MustPath(fmt.Sprintf("/tempZone/bench/c%02d/o%07d", i%100, i))
		objs = append(objs, catalog.RegisteredObject{Path: p, Owner: bench,
			Replicas: []catalog.RegisteredReplica{{Resource: "demoResc", PhysicalPath: p.String(), Size: int64(i % 1000)}},
			Metadata: []catalog.AVU{{Attribute: "project", Value: fmt.Sprintf("p%04d", i/100)},
				{Attribute: "sample", Value: fmt.Sprintf("s%07d", i)}, {Attribute: "size", Value: strconv.Itoa(i % 1000), Unit: "GB"}}})
		if len(objs) == chunk {
			flush()
		}
	}
	flush()
	// carol reads the collections and the objects of p0042 through a group.
	lab := catalog.UserID{Name: "lab", Zone: "tempZone"}
	if _, err := c.CreateGroup(ctx, lab); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if err := c.SetAccess(ctx, catalog.MustPath(fmt.Sprintf("/tempZone/bench/c%02d", i)), lab, catalog.AccessRead); err != nil {
			b.Fatal(err)
		}
	}
	for i := 4200; i < min(n, 4300); i++ {
		p := catalog.MustPath(fmt.Sprintf("/tempZone/bench/c%02d/o%07d", i%100, i))
		if err := c.SetAccess(ctx, p, lab, catalog.AccessRead); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.CreateUser(ctx, catalog.User{Name: benchDone.Name, Zone: benchDone.Zone, Type: catalog.UserTypeUser}); err != nil {
		b.Fatal(err)
	}
}

// dgraphBenchCatalog opens the Dgraph catalog of n objects, building it on
// first use. It is kept (under a prefix named by its size and content)
// while the test cluster lives, so that reruns start at once; a catalog
// left incomplete by an interrupted build is dropped and built again.
func dgraphBenchCatalog(b *testing.B, n int) *Catalog {
	ctx := context.Background()
	c, err := Open(ctx, testAddr(b), Options{Prefix: fmt.Sprintf("qbench%dv%d", n, benchFixtureVersion)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := c.User(ctx, benchDone); err == nil {
		return c
	} else if !errors.Is(err, catalog.ErrNotFound) {
		b.Fatal(err)
	}
	if err := c.Drop(ctx); err != nil {
		b.Fatal(err)
	}
	c.Close()
	if c, err = Open(ctx, testAddr(b), Options{Prefix: c.prefix}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	fillQueryBench(b, c, n)
	b.Logf("dgraph: %d objects registered in %v", n, time.Since(start).Round(time.Millisecond))
	return c
}

// cpuTime is the CPU time this process has used, user and system: the
// client's share of a query, beside the wall clock that includes Dgraph's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkQueryAVU runs the queries of SQLite's BenchmarkQuery1M on
// catalogs of the same content on both backends, in one run, for each
// size of $ARCA_BENCH_OBJECTS:
//
//	ARCA_BENCH_OBJECTS=10000,100000 go test ./catalog/dgraph/ -run '^$' -bench QueryAVU -benchtime 5x
//
// The Dgraph catalogs are built once and kept (see dgraphBenchCatalog);
// the SQLite ones are built on every run (seconds). Callers: rods (an
// administrator: no permission filter), bench (owns every object: the
// filter passes everything) and carol (reads 100 objects through a group).
func BenchmarkQueryAVU(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		backends := []struct {
			name string
			open func(b *testing.B) catalog.Catalog
		}{
			{"sqlite", func(b *testing.B) catalog.Catalog {
				c, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "catalog.db"))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { c.Close() })
				fillQueryBench(b, c, n)
				return c
			}},
			{"dgraph", func(b *testing.B) catalog.Catalog { return dgraphBenchCatalog(b, n) }},
		}
		projects := (n + 99) / 100
		lab := catalog.UserID{Name: "lab", Zone: "tempZone"}
		callers := []struct {
			name   string
			caller catalog.Caller
		}{{"admin", catalog.Caller{User: catalog.UserID{Name: "rods", Zone: "tempZone"}, Admin: true}},
			{"user", catalog.Caller{User: catalog.UserID{Name: "bench", Zone: "tempZone"}}},
			{"carol", catalog.Caller{User: catalog.UserID{Name: "carol", Zone: "tempZone"}, Groups: []catalog.UserID{lab}}}}
		cases := []struct {
			name, q string
			rows    func(caller string) int
			sum     func(caller string) int // of the last column, -1 to skip
		}{
			{"attr=value", "select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE = 'p0042'",
				func(string) int { return min(max(n-4200, 0), 100) }, nil},
			{"attr-like-prefix", "select COLL_NAME, DATA_NAME, DATA_SIZE where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE like 'p004%'",
				func(caller string) int {
					if caller == "carol" {
						return min(max(n-4200, 0), 100)
					}
					return min(max(n-4000, 0), 1000)
				}, nil},
			{"count-by-value", "select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'",
				func(caller string) int {
					if caller == "carol" {
						return min(1, max(n-4200, 0))
					}
					return projects
				},
				func(caller string) int {
					if caller == "carol" {
						return min(max(n-4200, 0), 100)
					}
					return n
				}},
		}
		for _, be := range backends {
			b.Run(fmt.Sprintf("%s/n=%d", be.name, n), func(b *testing.B) {
				c := be.open(b)
				for _, tc := range cases {
					q, err := query.Parse(tc.q)
					if err != nil {
						b.Fatal(err)
					}
					for _, cl := range callers {
						b.Run(tc.name+"/"+cl.name, func(b *testing.B) {
							cpu0 := cpuTime()
							for b.Loop() {
								rows, sum := 0, 0
								err := c.Query(ctx, q, cl.caller, func(row []string) error {
									rows++
									if v, err := strconv.Atoi(row[len(row)-1]); err == nil {
										sum += v
									}
									return nil
								})
								if err != nil {
									b.Fatal(err)
								}
								if want := tc.rows(cl.name); rows != want {
									b.Fatalf("%d rows, want %d", rows, want)
								}
								if tc.sum != nil && sum != tc.sum(cl.name) {
									b.Fatalf("counts sum to %d, want %d", sum, tc.sum(cl.name))
								}
							}
							b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
							b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/query")
						})
					}
				}
			})
		}
	}
}
