package catalogtest

import (
	"testing"

	"github.com/arca-data/arca/catalog"
)

// beginCopy registers an intermediate replica of the existing object s on
// resource for a copy.
func (f *fixture) beginCopy(s, resource, holder string) catalog.Replica {
	f.t.Helper()
	_, r, err := f.cat.BeginReplica(f.ctx, f.newReplica(f.path(s), resource, holder))
	if err != nil {
		f.t.Fatalf("begin copy of %s on %s: %v", s, resource, err)
	}
	return r
}

func statuses(o catalog.DataObject) map[int]catalog.ReplicaStatus {
	out := map[int]catalog.ReplicaStatus{}
	for _, r := range o.Replicas {
		out[r.Number] = r.Status
	}
	return out
}

var replicationTests = []test{
	{"CommitCopyKeepsOthersGood", func(t *testing.T, f *fixture) {
		o := f.put("a", demoResc, "sha2:A")
		src := o.Replicas[0]
		cp := f.beginCopy("a", otherResc, "copy")
		sup := must(f.cat.CommitCopy(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: cp.Number, Holder: "copy",
			Size: src.Size, Checksum: src.Checksum}, src.Number))(t)
		if len(sup) != 0 {
			t.Errorf("superseded %+v", sup)
		}
		got := f.object("a")
		if st := statuses(got); len(st) != 2 || st[src.Number] != catalog.ReplicaGood || st[cp.Number] != catalog.ReplicaGood {
			t.Fatalf("after the copy: %v, want two good replicas", st)
		}
		for _, r := range got.Replicas {
			if r.Number == cp.Number && (r.Size != src.Size || r.Checksum != src.Checksum || r.LockHolder != "") {
				t.Errorf("copy %+v", r)
			}
		}
		// CommitReplica, by contrast, makes the others stale.
		// The write on otherResc replaces the copy there, under its number.
		w := f.beginCopy("a", otherResc, "write")
		sup = must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: w.Number, Holder: "write", Size: 2, Checksum: "sha2:B"}))(t)
		got = f.object("a")
		if st := statuses(got); len(st) != 2 || st[src.Number] != catalog.ReplicaStale || st[cp.Number] != catalog.ReplicaGood ||
			catalog.CommittedNumber(w.Number, sup) != cp.Number {
			t.Fatalf("after an overwrite: %v, superseded %+v", st, sup)
		}
	}},
	{"CommitCopyRefreshesStale", func(t *testing.T, f *fixture) {
		o := f.put("a", demoResc, "sha2:A")
		first := o.Replicas[0]
		w := f.beginCopy("a", otherResc, "w")
		must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: w.Number, Holder: "w", Size: 5, Checksum: "sha2:new"}))(t)
		// first is stale now; copy w back onto demoResc.
		cp := f.beginCopy("a", demoResc, "c")
		sup := must(f.cat.CommitCopy(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: cp.Number, Holder: "c", Size: 5, Checksum: "sha2:new"}, w.Number))(t)
		if len(sup) != 1 || sup[0].Number != first.Number || sup[0].PhysicalPath != first.PhysicalPath {
			t.Fatalf("superseded %+v, want the stale replica %d", sup, first.Number)
		}
		// The refreshed replica keeps the stale one's number.
		if st := statuses(f.object("a")); len(st) != 2 || st[w.Number] != catalog.ReplicaGood || st[first.Number] != catalog.ReplicaGood {
			t.Fatalf("after refresh: %v", st)
		}
	}},
	{"CommitCopyConflicts", func(t *testing.T, f *fixture) {
		o := f.put("a", demoResc, "sha2:A")
		src := o.Replicas[0]
		cases := []struct {
			name   string
			commit catalog.ReplicaCommit
			source int
			want   error
		}{
			{"checksum differs", catalog.ReplicaCommit{Size: src.Size, Checksum: "sha2:other"}, src.Number, catalog.ErrConflict},
			{"size differs", catalog.ReplicaCommit{Size: src.Size + 1, Checksum: src.Checksum}, src.Number, catalog.ErrConflict},
			{"no such source", catalog.ReplicaCommit{Size: src.Size, Checksum: src.Checksum}, 99, catalog.ErrConflict},
			{"metadata", catalog.ReplicaCommit{Size: src.Size, Checksum: src.Checksum, Metadata: []catalog.AVU{{Attribute: "a", Value: "v"}}}, src.Number, catalog.ErrInvalidArgument},
			{"wrong holder", catalog.ReplicaCommit{Size: src.Size, Checksum: src.Checksum, Holder: "someone"}, src.Number, catalog.ErrLocked},
		}
		cp := f.beginCopy("a", otherResc, "c")
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := tc.commit
				c.Object, c.Number = o.ID, cp.Number
				if c.Holder == "" {
					c.Holder = "c"
				}
				_, err := f.cat.CommitCopy(f.ctx, c, tc.source)
				wantErr(t, err, tc.want)
			})
		}
		// Source made stale by an overwrite meanwhile: the copy is of old bytes.
		ok(t, f.cat.MarkStale(f.ctx, o.ID, src.Number))
		_, err := f.cat.CommitCopy(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: cp.Number, Holder: "c", Size: src.Size, Checksum: src.Checksum}, src.Number)
		wantErr(t, err, catalog.ErrConflict)
		if st := statuses(f.object("a")); st[cp.Number] != catalog.ReplicaIntermediate {
			t.Errorf("a refused copy is %v", st[cp.Number])
		}
		must(f.cat.AbortReplica(f.ctx, o.ID, cp.Number, "c"))(t)
	}},
	{"TrimReplica", func(t *testing.T, f *fixture) {
		o := f.put("a", demoResc, "sha2:A")
		src := o.Replicas[0]
		cp := f.beginCopy("a", otherResc, "c")
		// An intermediate replica is not trimmed.
		_, err := f.cat.TrimReplica(f.ctx, o.ID, cp.Number)
		wantErr(t, err, catalog.ErrLocked)
		must(f.cat.CommitCopy(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: cp.Number, Holder: "c", Size: src.Size, Checksum: src.Checksum}, src.Number))(t)
		got := must(f.cat.TrimReplica(f.ctx, o.ID, src.Number))(t)
		if got.Number != src.Number || got.PhysicalPath != src.PhysicalPath || got.Resource != demoResc {
			t.Errorf("TrimReplica returned %+v", got)
		}
		if st := statuses(f.object("a")); len(st) != 1 || st[cp.Number] != catalog.ReplicaGood {
			t.Fatalf("after trim: %v", st)
		}
		// The last replica stays.
		_, err = f.cat.TrimReplica(f.ctx, o.ID, cp.Number)
		wantErr(t, err, catalog.ErrConflict)
		_, err = f.cat.TrimReplica(f.ctx, o.ID, 42)
		wantErr(t, err, catalog.ErrNotFound)
	}},
	{"TrimKeepsLastGood", func(t *testing.T, f *fixture) {
		o := f.put("a", demoResc, "sha2:A")
		w := f.beginCopy("a", otherResc, "w")
		must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: w.Number, Holder: "w", Size: 1, Checksum: "sha2:B"}))(t)
		_, err := f.cat.TrimReplica(f.ctx, o.ID, w.Number)
		wantErr(t, err, catalog.ErrConflict)
		// The stale one goes.
		must(f.cat.TrimReplica(f.ctx, o.ID, o.Replicas[0].Number))(t)
		if st := statuses(f.object("a")); len(st) != 1 || st[w.Number] != catalog.ReplicaGood {
			t.Fatalf("after trim: %v", st)
		}
	}},
	{"MarkStale", func(t *testing.T, f *fixture) {
		o := f.put("a", demoResc, "sha2:A")
		n := o.Replicas[0].Number
		ok(t, f.cat.MarkStale(f.ctx, o.ID, n))
		ok(t, f.cat.MarkStale(f.ctx, o.ID, n)) // stale stays stale
		if st := statuses(f.object("a")); st[n] != catalog.ReplicaStale {
			t.Fatalf("after MarkStale: %v", st)
		}
		cp := f.beginCopy("a", otherResc, "c")
		wantErr(t, f.cat.MarkStale(f.ctx, o.ID, cp.Number), catalog.ErrConflict)
		wantErr(t, f.cat.MarkStale(f.ctx, o.ID, 42), catalog.ErrNotFound)
	}},
	{"DataObjectByID", func(t *testing.T, f *fixture) {
		f.mkdir("d", alice)
		o := f.put("d/x", demoResc, "sha2:A")
		got := must(f.cat.DataObjectByID(f.ctx, o.ID))(t)
		if got.ID != o.ID || got.Path != o.Path || got.Owner != o.Owner || len(got.Replicas) != 1 {
			t.Errorf("DataObjectByID = %+v, want %+v", got, o)
		}
		sameReplica(t, "replica", got.Replicas[0], o.Replicas[0])
		_, err := f.cat.DataObjectByID(f.ctx, o.ID+1000)
		wantErr(t, err, catalog.ErrNotFound)
	}},
}
