package provenance_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/policies/provenance"
	"github.com/arca-data/arca/zones"
)

// BenchmarkExport10k exports the provenance of a collection of 10,000
// data objects, each with the record of its put, as PROV-JSON, dot and
// text (default depth 1). The objects are registered and their records
// appended in bulk, as the figure is the export's:
//
//	go test -run '^$' -bench Export10k -benchtime 3x ./policies/provenance/
func BenchmarkExport10k(b *testing.B) {
	const n = 10_000
	e := newEnv(b, nil)
	ctx := e.ctx
	coll := catalog.MustPath("/tempZone/home/alice/run")
	if _, err := e.zone.MakeCollection(ctx, e.alice, coll, false); err != nil {
		b.Fatal(err)
	}
	alice := e.alice.UserID()
	for start := 0; start < n; start += 1000 {
		var objs []catalog.RegisteredObject
		for i := start; i < start+1000; i++ {
			objs = append(objs, catalog.RegisteredObject{Path: catalog.MustPath(fmt.Sprintf("%s/f%05d.dat", coll, i)), Owner: alice,
				Replicas: []catalog.RegisteredReplica{{Resource: "demoResc", PhysicalPath: fmt.Sprintf("run/f%05d.dat", i), Size: 4096,
					Checksum: fmt.Sprintf("sha2:%043d=", i)}}})
		}
		if err := e.cat.Register(ctx, objs, false); err != nil {
			b.Fatal(err)
		}
	}
	for after := ""; ; {
		objs, err := e.cat.ListObjects(ctx, coll, after, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(objs) == 0 {
			break
		}
		var recs []catalog.ProvRecord
		now := time.Now()
		for _, o := range objs {
			rep := o.Replicas[0]
			recs = append(recs, catalog.ProvRecord{Subject: catalog.ProvSubject{Kind: catalog.SubjectObject, ID: o.ID},
				Activity: provenance.ActivityID(now), Op: "put", Path: o.Path.String(), Agent: alice.String(), Start: now, End: now,
				Generated: []catalog.ProvEntity{{Kind: catalog.SubjectObject, Path: o.Path.String(), Replica: rep.Number,
					Resource: rep.Resource, Checksum: rep.Checksum, Size: rep.Size}}})
		}
		if _, err := e.cat.AppendProvenance(ctx, recs); err != nil {
			b.Fatal(err)
		}
		if len(objs) < 1000 {
			break
		}
		after = objs[len(objs)-1].Path.Name()
	}
	for _, format := range []string{provenance.FormatPROVJSON, provenance.FormatDot, provenance.FormatText} {
		b.Run("format="+format, func(b *testing.B) {
			var size int
			cpu := processCPU()
			for b.Loop() {
				doc, err := e.zone.ExportProvenance(ctx, e.alice, zones.ProvExport{Path: coll, Depth: 1, Format: format})
				if err != nil {
					b.Fatal(err)
				}
				size = len(doc)
			}
			b.ReportMetric(float64(size)/(1<<20), "MiB/doc")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/export")
			// On a shared machine the wall clock measures the other load
			// too; the CPU time is the export's work.
			b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/export")
		})
	}
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPut is what recording provenance costs a put in the zone alone
// (no client, no TLS): 2,000 puts of 4 KiB, 16 at once, into a zone with
// and without the recorder; cpu-µs/put is the figure.
//
//	go test -run '^$' -bench 'Put$' -benchtime 2000x ./policies/provenance/
func BenchmarkPut(b *testing.B) {
	for _, recorded := range []bool{false, true} {
		b.Run(fmt.Sprintf("provenance=%v", recorded), func(b *testing.B) {
			e := newEnv(b, nil)
			if !recorded {
				e = newEnvWithout(b)
			}
			data := strings.Repeat("x", 4096)
			var next atomic.Int64
			b.SetParallelism(8) // 16 puts at once on 2 Ps
			cpu := processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p := catalog.MustPath(fmt.Sprintf("/tempZone/home/alice/f%06d", next.Add(1)))
					if _, err := e.zone.Put(e.ctx, e.alice, zones.PutRequest{Path: p, Size: int64(len(data))}, strings.NewReader(data)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/put")
		})
	}
}
