package catalogtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

func (f *fixture) provRecord(s catalog.ProvSubject, op string) catalog.ProvRecord {
	start := time.Now().Add(-time.Millisecond)
	return catalog.ProvRecord{
		Subject: s, Activity: fmt.Sprintf("act-%d", f.seq.Add(1)), Op: op, Path: "/tempZone/home/alice/x",
		Agent: "alice#tempZone", Start: start, End: start.Add(time.Millisecond),
		Generated:  []catalog.ProvEntity{{Kind: catalog.SubjectObject, Path: "/tempZone/home/alice/x", Replica: 0, Checksum: "sha2:x", Resource: demoResc}},
		Attributes: map[string]string{"note": op},
	}
}

var provenanceTests = []test{
	{"AppendAndChain", func(t *testing.T, f *fixture) {
		obj := f.put("x", demoResc, "sha2:x")
		s := catalog.ProvSubject{Kind: catalog.SubjectObject, ID: obj.ID}
		_, err := f.cat.ProvenanceHead(f.ctx, s)
		wantErr(t, err, catalog.ErrNotFound)
		if got := must(f.cat.ProvenanceOf(f.ctx, s, 0, 10))(t); len(got) != 0 {
			t.Fatalf("records of a subject without any: %v", got)
		}
		first := must(f.cat.AppendProvenance(f.ctx, []catalog.ProvRecord{f.provRecord(s, "put")}))(t)
		if len(first) != 1 || first[0].Seq != 1 || first[0].Prev != "" || first[0].Digest != catalog.ProvDigest(first[0].Doc) {
			t.Fatalf("first record sealed as %+v", first)
		}
		// Two in one batch chain in order.
		more := must(f.cat.AppendProvenance(f.ctx, []catalog.ProvRecord{f.provRecord(s, "checksum"), f.provRecord(s, "replicate")}))(t)
		if more[0].Seq != 2 || more[0].Prev != first[0].Digest || more[1].Seq != 3 || more[1].Prev != more[0].Digest {
			t.Fatalf("batch sealed as %d/%s %d/%s", more[0].Seq, more[0].Prev, more[1].Seq, more[1].Prev)
		}
		got := must(f.cat.ProvenanceOf(f.ctx, s, 0, 10))(t)
		if len(got) != 3 {
			t.Fatalf("%d records, want 3", len(got))
		}
		for i, r := range got {
			if r.Seq != int64(i+1) || r.Op != []string{"put", "checksum", "replicate"}[i] || r.Agent != "alice#tempZone" ||
				r.Attributes["note"] != r.Op || len(r.Generated) != 1 || r.Generated[0].Checksum != "sha2:x" {
				t.Errorf("record %d: %+v", i, r)
			}
		}
		head := must(f.cat.ProvenanceHead(f.ctx, s))(t)
		if head.Seq != 3 || head.Digest != got[2].Digest {
			t.Errorf("head %+v, want seq 3 digest %s", head, got[2].Digest)
		}
		if p := catalog.VerifyProvChain(s, got, head, true); len(p) != 0 {
			t.Errorf("a stored chain does not verify: %v", p)
		}
		page := must(f.cat.ProvenanceOf(f.ctx, s, 1, 1))(t)
		if len(page) != 1 || page[0].Seq != 2 {
			t.Errorf("page after 1, limit 1: %v", page)
		}
		_, err = f.cat.ProvenanceOf(f.ctx, s, 0, 0)
		wantErr(t, err, catalog.ErrInvalidArgument)
	}},
	{"OutlivesSubjectAndFollowsRename", func(t *testing.T, f *fixture) {
		obj := f.put("x", demoResc, "sha2:x")
		s := catalog.ProvSubject{Kind: catalog.SubjectObject, ID: obj.ID}
		must(f.cat.AppendProvenance(f.ctx, []catalog.ProvRecord{f.provRecord(s, "put")}))(t)
		if p := must(f.cat.EntryPath(f.ctx, s))(t); p != f.path("x") {
			t.Errorf("path of %s: %s", s, p)
		}
		ok(t, f.cat.Rename(f.ctx, f.path("x"), f.path("y")))
		if p := must(f.cat.EntryPath(f.ctx, s))(t); p != f.path("y") {
			t.Errorf("path of %s after a rename: %s", s, p)
		}
		coll := f.mkdir("c", alice)
		cs := catalog.ProvSubject{Kind: catalog.SubjectCollection, ID: coll.ID}
		if p := must(f.cat.EntryPath(f.ctx, cs))(t); p != f.path("c") {
			t.Errorf("path of %s: %s", cs, p)
		}
		if coll.ID != obj.ID {
			_, err := f.cat.EntryPath(f.ctx, catalog.ProvSubject{Kind: catalog.SubjectObject, ID: coll.ID})
			wantErr(t, err, catalog.ErrNotFound)
		}
		must(f.cat.AppendProvenance(f.ctx, []catalog.ProvRecord{f.provRecord(s, "rename")}))(t)
		must(f.cat.RemoveDataObject(f.ctx, f.path("y")))(t)
		must(f.cat.AppendProvenance(f.ctx, []catalog.ProvRecord{f.provRecord(s, "remove")}))(t)
		got := must(f.cat.ProvenanceOf(f.ctx, s, 0, 10))(t)
		if len(got) != 3 || got[2].Op != "remove" {
			t.Fatalf("records after rename and removal: %v", got)
		}
		_, err := f.cat.EntryPath(f.ctx, s)
		wantErr(t, err, catalog.ErrNotFound)
		// A new object does not inherit the chain.
		again := f.put("y", demoResc, "sha2:y")
		if again.ID == obj.ID {
			t.Fatalf("an id was reused")
		}
		if n := must(f.cat.ProvenanceOf(f.ctx, catalog.ProvSubject{Kind: catalog.SubjectObject, ID: again.ID}, 0, 10))(t); len(n) != 0 {
			t.Errorf("a new object has records: %v", n)
		}
	}},
	{"Many", func(t *testing.T, f *fixture) {
		var subjects []catalog.ProvSubject
		for i := range 3 {
			o := f.put(fmt.Sprintf("m%d", i), demoResc, "sha2:m")
			subjects = append(subjects, catalog.ProvSubject{Kind: catalog.SubjectObject, ID: o.ID})
		}
		coll := f.mkdir("c", alice)
		cs := catalog.ProvSubject{Kind: catalog.SubjectCollection, ID: coll.ID}
		var batch []catalog.ProvRecord
		for i, s := range subjects {
			for range i + 1 {
				batch = append(batch, f.provRecord(s, "put"))
			}
		}
		batch = append(batch, f.provRecord(cs, "mkdir"))
		must(f.cat.AppendProvenance(f.ctx, batch))(t)
		order := []catalog.ProvSubject{cs, subjects[2], subjects[0], {Kind: catalog.SubjectObject, ID: 999999}}
		got := must(f.cat.ProvenanceOfMany(f.ctx, order))(t)
		want := []struct {
			s   catalog.ProvSubject
			seq int64
		}{{cs, 1}, {subjects[2], 1}, {subjects[2], 2}, {subjects[2], 3}, {subjects[0], 1}}
		if len(got) != len(want) {
			t.Fatalf("%d records, want %d: %v", len(got), len(want), got)
		}
		for i, w := range want {
			if got[i].Subject != w.s || got[i].Seq != w.seq {
				t.Errorf("record %d: %s #%d, want %s #%d", i, got[i].Subject, got[i].Seq, w.s, w.seq)
			}
		}
		_, err := f.cat.ProvenanceOfMany(f.ctx, []catalog.ProvSubject{{Kind: "user", ID: 1}})
		wantErr(t, err, catalog.ErrInvalidArgument)
	}},
	{"Refused", func(t *testing.T, f *fixture) {
		obj := f.put("x", demoResc, "sha2:x")
		s := catalog.ProvSubject{Kind: catalog.SubjectObject, ID: obj.ID}
		bad := []func(*catalog.ProvRecord){
			func(r *catalog.ProvRecord) { r.Subject.Kind = "user" },
			func(r *catalog.ProvRecord) { r.Subject.ID = 0 },
			func(r *catalog.ProvRecord) { r.Agent = "" },
			func(r *catalog.ProvRecord) { r.End = r.Start.Add(-time.Second) },
			func(r *catalog.ProvRecord) { r.Path = string([]byte{0xff}) },
			func(r *catalog.ProvRecord) { r.Used = []catalog.ProvEntity{{Kind: "thing"}} },
		}
		for i, mutate := range bad {
			r := f.provRecord(s, "put")
			mutate(&r)
			// A bad record refuses its whole batch.
			_, err := f.cat.AppendProvenance(f.ctx, []catalog.ProvRecord{f.provRecord(s, "put"), r})
			if !errors.Is(err, catalog.ErrInvalidArgument) {
				t.Errorf("bad record %d: %v, want ErrInvalidArgument", i, err)
			}
		}
		_, err := f.cat.AppendProvenance(f.ctx, nil)
		wantErr(t, err, catalog.ErrInvalidArgument)
		if got := must(f.cat.ProvenanceOf(f.ctx, s, 0, 10))(t); len(got) != 0 {
			t.Errorf("refused batches left records: %v", got)
		}
	}},
	{"ConcurrentAppendsChain", func(t *testing.T, f *fixture) {
		obj := f.put("x", demoResc, "sha2:x")
		s := catalog.ProvSubject{Kind: catalog.SubjectObject, ID: obj.ID}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 3 {
					if _, err := f.cat.AppendProvenance(f.ctx, []catalog.ProvRecord{f.provRecord(s, "checksum")}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		got := must(f.cat.ProvenanceOf(f.ctx, s, 0, 100))(t)
		if len(got) != 24 {
			t.Fatalf("%d records, want 24", len(got))
		}
		if p := catalog.VerifyProvChain(s, got, must(f.cat.ProvenanceHead(f.ctx, s))(t), true); len(p) != 0 {
			t.Errorf("concurrent appends broke the chain: %v", p)
		}
	}},
}

var recordTests = []test{
	{"CreateReadUpdate", func(t *testing.T, f *fixture) {
		r := must(f.cat.CreateRecord(f.ctx, catalog.Record{Kind: "handle", Key: "21.T1/abc", Ref: "object:7", Owner: alice, Doc: []byte(`{"v":1}`)}))(t)
		if r.Version != 1 || r.CreateTime.IsZero() || !r.CreateTime.Equal(r.ModifyTime) {
			t.Errorf("created %+v", r)
		}
		checkTime(t, "create time", r.CreateTime, f.start)
		_, err := f.cat.CreateRecord(f.ctx, catalog.Record{Kind: "handle", Key: "21.T1/abc", Owner: bob, Doc: []byte(`{}`)})
		wantErr(t, err, catalog.ErrExists)
		// Same key, other kind: another record.
		must(f.cat.CreateRecord(f.ctx, catalog.Record{Kind: "raid", Key: "21.T1/abc", Owner: bob, Doc: []byte(`{}`)}))(t)

		got := must(f.cat.Record(f.ctx, "handle", "21.T1/abc"))(t)
		if got.Owner != alice || string(got.Doc) != `{"v":1}` || got.Ref != "object:7" || got.Version != 1 {
			t.Errorf("read back %+v", got)
		}
		_, err = f.cat.Record(f.ctx, "handle", "21.T1/nope")
		wantErr(t, err, catalog.ErrNotFound)

		got.Doc, got.Ref = []byte(`{"v":2}`), "object:8"
		up := must(f.cat.UpdateRecord(f.ctx, got))(t)
		if up.Version != 2 || !up.CreateTime.Equal(r.CreateTime) || up.ModifyTime.Before(up.CreateTime) {
			t.Errorf("updated %+v", up)
		}
		// An update from a stale read is a conflict and changes nothing.
		got.Doc = []byte(`{"v":"stale"}`)
		_, err = f.cat.UpdateRecord(f.ctx, got)
		wantErr(t, err, catalog.ErrConflict)
		if now := must(f.cat.Record(f.ctx, "handle", "21.T1/abc"))(t); string(now.Doc) != `{"v":2}` || now.Version != 2 {
			t.Errorf("after a stale update: %+v", now)
		}
		_, err = f.cat.UpdateRecord(f.ctx, catalog.Record{Kind: "handle", Key: "21.T1/nope", Owner: alice, Version: 1})
		wantErr(t, err, catalog.ErrNotFound)
	}},
	{"ByRefAndList", func(t *testing.T, f *fixture) {
		for _, k := range []string{"b", "a", "c", "d"} {
			ref := "object:1"
			if k == "c" {
				ref = "object:2"
			}
			if k == "d" {
				ref = ""
			}
			must(f.cat.CreateRecord(f.ctx, catalog.Record{Kind: "handle", Key: "p/" + k, Ref: ref, Owner: alice}))(t)
		}
		got := must(f.cat.RecordsByRef(f.ctx, "handle", []string{"object:2", "object:1", "object:3", ""}))(t)
		var keys []string
		for _, r := range got {
			keys = append(keys, r.Key)
		}
		if fmt.Sprint(keys) != "[p/a p/b p/c]" {
			t.Errorf("by ref: %v, want [p/a p/b p/c]", keys)
		}
		page := must(f.cat.ListRecords(f.ctx, "handle", "p/a", 2))(t)
		if len(page) != 2 || page[0].Key != "p/b" || page[1].Key != "p/c" {
			t.Errorf("list after p/a: %v", page)
		}
		if none := must(f.cat.ListRecords(f.ctx, "raid", "", 10))(t); len(none) != 0 {
			t.Errorf("records of another kind: %v", none)
		}
	}},
	{"CreateRecordsWithAVUs", func(t *testing.T, f *fixture) {
		o := f.put("obj", demoResc, "sha2:a")
		ot := catalog.ObjectTarget(o.Path)
		must(0, f.cat.AddMetadata(f.ctx, ot, avu("PID", "21.T1/old"), avu("PID", "21.T1/older"), avu("keep", "me")))(t)
		recs := []catalog.Record{
			{Kind: "handle", Key: "21.T1/new", Owner: alice, Doc: []byte(`{"v":1}`)},
			{Kind: "pid", Key: "21.T1/new", Ref: fmt.Sprintf("object:%d", o.ID), Owner: alice},
		}
		set := []catalog.AVUBatch{{Target: ot, AVUs: []catalog.AVU{avu("PID", "21.T1/new"), avu("EUDAT/ROR", "21.T1/new")}}}
		got := must(f.cat.CreateRecords(f.ctx, recs, set))(t)
		if len(got) != 2 || got[0].Version != 1 || got[1].Version != 1 || got[0].CreateTime.IsZero() || string(got[0].Doc) != `{"v":1}` {
			t.Fatalf("created %+v", got)
		}
		checkTime(t, "create time", got[0].CreateTime, f.start)
		if r := must(f.cat.Record(f.ctx, "handle", "21.T1/new"))(t); string(r.Doc) != `{"v":1}` || r.Owner != alice || r.Version != 1 {
			t.Errorf("handle record read back: %+v", r)
		}
		if by := must(f.cat.RecordsByRef(f.ctx, "pid", []string{recs[1].Ref}))(t); len(by) != 1 || by[0].Key != "21.T1/new" {
			t.Errorf("index by ref: %+v", by)
		}
		// The AVUs replace those of their attributes, as SetMetadata does.
		equalAVUs(t, "after CreateRecords", f.avus(ot), avu("PID", "21.T1/new"), avu("EUDAT/ROR", "21.T1/new"), avu("keep", "me"))

		// One key taken: nothing of the call is stored.
		_, err := f.cat.CreateRecords(f.ctx, []catalog.Record{
			{Kind: "handle", Key: "21.T1/other", Owner: alice},
			{Kind: "pid", Key: "21.T1/new", Ref: "object:1", Owner: alice},
		}, []catalog.AVUBatch{{Target: ot, AVUs: []catalog.AVU{avu("PID", "21.T1/other")}}})
		wantErr(t, err, catalog.ErrExists)
		_, err = f.cat.Record(f.ctx, "handle", "21.T1/other")
		wantErr(t, err, catalog.ErrNotFound)
		equalAVUs(t, "after a refused CreateRecords", f.avus(ot), avu("PID", "21.T1/new"), avu("EUDAT/ROR", "21.T1/new"), avu("keep", "me"))

		// A target that is not there: nothing stored either.
		_, err = f.cat.CreateRecords(f.ctx, []catalog.Record{{Kind: "handle", Key: "21.T1/third", Owner: alice}},
			[]catalog.AVUBatch{{Target: catalog.ObjectTarget(f.path("nothing")), AVUs: []catalog.AVU{avu("PID", "21.T1/third")}}})
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.Record(f.ctx, "handle", "21.T1/third")
		wantErr(t, err, catalog.ErrNotFound)

		// Records without AVUs; a key given twice; no records; a bad one.
		must(f.cat.CreateRecords(f.ctx, []catalog.Record{{Kind: "raid", Key: "r1", Owner: bob}}, nil))(t)
		_, err = f.cat.CreateRecords(f.ctx, []catalog.Record{{Kind: "raid", Key: "r2", Owner: bob}, {Kind: "raid", Key: "r2", Owner: bob}}, nil)
		wantErr(t, err, catalog.ErrExists)
		_, err = f.cat.Record(f.ctx, "raid", "r2")
		wantErr(t, err, catalog.ErrNotFound)
		_, err = f.cat.CreateRecords(f.ctx, nil, set)
		wantErr(t, err, catalog.ErrInvalidArgument)
		_, err = f.cat.CreateRecords(f.ctx, []catalog.Record{{Kind: "raid", Key: "", Owner: bob}}, nil)
		wantErr(t, err, catalog.ErrInvalidArgument)
	}},
	{"Refused", func(t *testing.T, f *fixture) {
		for i, r := range []catalog.Record{
			{Kind: "", Key: "k", Owner: alice},
			{Kind: "handle", Key: "", Owner: alice},
			{Kind: "handle", Key: "k", Owner: catalog.UserID{}},
			{Kind: "handle", Key: string([]byte{0xff}), Owner: alice},
			{Kind: "handle", Key: "k", Owner: alice, Doc: make([]byte, catalog.MaxRecordDoc+1)},
		} {
			_, err := f.cat.CreateRecord(f.ctx, r)
			if !errors.Is(err, catalog.ErrInvalidArgument) {
				t.Errorf("record %d: %v, want ErrInvalidArgument", i, err)
			}
		}
	}},
	{"ConcurrentUpdatesConflict", func(t *testing.T, f *fixture) {
		r := must(f.cat.CreateRecord(f.ctx, catalog.Record{Kind: "raid", Key: "k", Owner: alice, Doc: []byte("0")}))(t)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for i := range 6 {
			wg.Go(func() {
				u := r
				u.Doc = []byte(fmt.Sprint(i))
				_, err := f.cat.UpdateRecord(f.ctx, u)
				switch {
				case err == nil:
					mu.Lock()
					wins++
					mu.Unlock()
				case !errors.Is(err, catalog.ErrConflict):
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d updates from one read won, want exactly 1", wins)
		}
		if got := must(f.cat.Record(f.ctx, "raid", "k"))(t); got.Version != 2 {
			t.Errorf("version %d after one update, want 2", got.Version)
		}
	}},
}
