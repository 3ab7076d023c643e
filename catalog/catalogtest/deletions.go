package catalogtest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
)

// pending returns every recorded deletion, read in pages of two.
func (f *fixture) pending(t *testing.T) []catalog.Deletion {
	t.Helper()
	var out []catalog.Deletion
	after := catalog.Deletion{}
	for {
		page := must(f.cat.PendingDeletions(f.ctx, after, 2))(t)
		out = append(out, page...)
		if len(page) < 2 {
			return out
		}
		after = page[len(page)-1]
	}
}

func deletionsOf(reps ...catalog.Replica) []catalog.Deletion {
	var out []catalog.Deletion
	for _, r := range reps {
		out = append(out, catalog.Deletion{Resource: r.Resource, PhysicalPath: r.PhysicalPath})
	}
	return sortedDeletions(out)
}

func sortedDeletions(ds []catalog.Deletion) []catalog.Deletion {
	ds = slices.Clone(ds)
	slices.SortFunc(ds, func(a, b catalog.Deletion) int {
		if c := strings.Compare(a.Resource, b.Resource); c != 0 {
			return c
		}
		return strings.Compare(a.PhysicalPath, b.PhysicalPath)
	})
	return ds
}

// wantPending checks that exactly the files of reps are recorded, and
// forgets them.
func (f *fixture) wantPending(t *testing.T, what string, reps ...catalog.Replica) {
	t.Helper()
	got, want := f.pending(t), deletionsOf(reps...)
	if !slices.Equal(got, want) {
		t.Errorf("%s: pending deletions %+v, want %+v", what, got, want)
	}
	ok(t, f.cat.ForgetDeletions(f.ctx, got))
	if left := f.pending(t); len(left) != 0 {
		t.Errorf("%s: after ForgetDeletions, %+v", what, left)
	}
}

var deletionTests = []test{
	{"EveryRemovalRecordsItsFile", func(t *testing.T, f *fixture) {
		if got := f.pending(t); len(got) != 0 {
			t.Fatalf("a new catalog has deletions: %+v", got)
		}
		f.mkdir("d", alice)
		f.mkdir("d/sub", alice)
		a := f.put("d/a", demoResc, "sha2:A")
		b := f.put("d/sub/b", demoResc, "sha2:B")
		c := f.put("c", demoResc, "sha2:C")
		f.wantPending(t, "puts")

		// An overwrite supersedes the replica on the same resource.
		f.put("c", demoResc, "sha2:C2")
		f.wantPending(t, "overwrite", c.Replicas[0])

		// A copy that supersedes, and a trim.
		o := f.object("c")
		cp := f.beginCopy("c", otherResc, "copy")
		must(f.cat.CommitCopy(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: cp.Number, Holder: "copy",
			Size: o.Replicas[0].Size, Checksum: o.Replicas[0].Checksum}, o.Replicas[0].Number))(t)
		f.wantPending(t, "copy")
		cp2 := f.beginCopy("c", otherResc, "copy2")
		must(f.cat.CommitCopy(f.ctx, catalog.ReplicaCommit{Object: o.ID, Number: cp2.Number, Holder: "copy2",
			Size: o.Replicas[0].Size, Checksum: o.Replicas[0].Checksum}, o.Replicas[0].Number))(t)
		f.wantPending(t, "copy over a copy", cp)
		trimmed := must(f.cat.TrimReplica(f.ctx, o.ID, o.Replicas[0].Number))(t)
		f.wantPending(t, "trim", trimmed)

		// An aborted and an expired write.
		_, w := must2(f.cat.BeginReplica(f.ctx, f.newReplica(f.path("w"), demoResc, "w")))(t)
		must(f.cat.AbortReplica(f.ctx, w.ObjectID, w.Number, "w"))(t)
		f.wantPending(t, "abort", w)
		nr := f.newReplica(f.path("x"), demoResc, "x")
		nr.LeaseExpiry = time.Now().Add(time.Second)
		_, x := must2(f.cat.BeginReplica(f.ctx, nr))(t)
		must(f.cat.ResolveExpired(f.ctx, x.ObjectID, x.Number, time.Now().Add(time.Minute)))(t)
		f.wantPending(t, "resolve expired", x)

		// Removals of objects and trees, in the transaction that removes
		// them; nothing is recorded when the removal fails.
		reps := must(f.cat.RemoveDataObject(f.ctx, f.path("c")))(t)
		f.wantPending(t, "remove data object", reps...)
		_, err := f.cat.RemoveCollection(f.ctx, f.path("d"), false)
		wantErr(t, err, catalog.ErrNotEmpty)
		f.wantPending(t, "refused removal")
		reps = must(f.cat.RemoveCollection(f.ctx, f.path("d"), true))(t)
		if len(reps) != 2 {
			t.Errorf("removed %+v", reps)
		}
		f.wantPending(t, "remove tree", a.Replicas[0], b.Replicas[0])
		ok(t, f.cat.ForgetDeletions(f.ctx, []catalog.Deletion{{Resource: demoResc, PhysicalPath: "never"}}))
		ok(t, f.cat.ForgetDeletions(f.ctx, nil))
		_, err = f.cat.PendingDeletions(f.ctx, catalog.Deletion{}, 0)
		wantErr(t, err, catalog.ErrInvalidArgument)
	}},
	{"NewReplicaTakesTheFileOver", func(t *testing.T, f *fixture) {
		a := f.put("a", demoResc, "sha2:A")
		must(f.cat.RemoveDataObject(f.ctx, f.path("a")))(t)
		other := f.put("other", otherResc, "sha2:O")
		must(f.cat.RemoveDataObject(f.ctx, f.path("other")))(t)
		// A new replica at the same file (ireg of a file whose deletion
		// failed): the file is not deleted under it.
		nr := f.newReplica(f.path("b"), demoResc, "b")
		nr.PhysicalPath = a.Replicas[0].PhysicalPath
		_, r := must2(f.cat.BeginReplica(f.ctx, nr))(t)
		must(f.cat.CommitReplica(f.ctx, catalog.ReplicaCommit{Object: r.ObjectID, Number: r.Number, Holder: "b", Size: 1, Checksum: "x"}))(t)
		reg := catalog.RegisteredObject{Path: f.path("reg"), Owner: alice,
			Replicas: []catalog.RegisteredReplica{{Resource: otherResc, PhysicalPath: other.Replicas[0].PhysicalPath, Size: 1, Checksum: "x"}}}
		ok(t, f.cat.Register(f.ctx, []catalog.RegisteredObject{reg}, false))
		f.wantPending(t, "taken over")
	}},
}
