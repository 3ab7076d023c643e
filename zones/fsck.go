package zones

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/compose"
)

// FsckRequest is arca fsck.
type FsckRequest struct {
	Repair          bool
	VerifyChecksums bool   // read every good replica (slow); else sizes only
	Resource        string // "" for every storage resource
}

// Finding kinds.
const (
	FindMissing          = "missing"            // a replica's file is not in storage
	FindSizeMismatch     = "size_mismatch"      // the file's size differs from the catalog
	FindChecksumMismatch = "checksum_mismatch"  // the file's bytes differ from the catalog
	FindOrphan           = "orphan"             // a file no replica points to
	FindStuck            = "stuck_intermediate" // a write that died; its lease ended
	FindUnreadable       = "unreadable"         // the resource could not be checked
	FindRepair           = "repair"             // the refresh of an object whose replicas were bad
	// FindNoGoodReplica is an object that has replicas but none good and
	// none being written: it cannot be read. Reported on every run until a
	// good replica is restored (irepl from a backup, iput -f) or the object
	// is removed; no repair can make one.
	FindNoGoodReplica = "no_good_replica"
)

// Finding is one inconsistency between catalog and storage.
type Finding struct {
	Kind         string
	Resource     string
	Path         catalog.Path // of the data object, when a replica is concerned
	Replica      int
	PhysicalPath string
	Detail       string
	Repaired     bool
	Repair       string // what the repair did, or why it could not
}

// Fsck compares the catalog with storage: every good replica's file must
// exist with the catalog's size (and, with VerifyChecksums, its checksum);
// every file must belong to a replica; no intermediate replica may outlive
// its lease. With Repair, a bad good replica is marked stale and refreshed
// from another good one, an orphan file is removed, and a stuck
// intermediate replica is resolved. report hears of every finding.
func (z *Zone) Fsck(ctx context.Context, caller Principal, req FsckRequest, report func(Finding) error) error {
	return z.do(ctx, &Op{Name: "fsck", Caller: caller, Resource: req.Resource}, func(ctx context.Context) error {
		t, err := z.loadTree(ctx)
		if err != nil {
			return err
		}
		var leaves []*compose.Node
		if req.Resource != "" {
			n, err := t.Node(req.Resource)
			if err != nil {
				return err
			}
			leaves = n.Leaves()
		} else {
			for _, n := range t.Nodes() {
				if n.Storage() {
					leaves = append(leaves, n)
				}
			}
		}
		sortNodes(leaves)
		// Stuck intermediates first: resolving them removes their files,
		// which would otherwise be counted as orphans.
		if err := z.fsckStuck(ctx, req, report); err != nil {
			return err
		}
		var toRepair, stale []catalog.ID
		for _, leaf := range leaves {
			// The run stops when its caller is gone (the client left, the
			// server shuts down): every loop below checks ctx.
			if err := ctx.Err(); err != nil {
				return err
			}
			ids, staleHere, err := z.fsckLeaf(ctx, leaf, req, report)
			if err != nil {
				return err
			}
			toRepair = append(toRepair, ids...)
			stale = append(stale, staleHere...)
		}
		if err := z.fsckRepair(ctx, t, toRepair, req, report); err != nil {
			return err
		}
		return z.fsckNoGoodReplica(ctx, append(stale, toRepair...), report)
	})
}

func sortNodes(ns []*compose.Node) {
	slices.SortFunc(ns, func(a, b *compose.Node) int { return strings.Compare(a.Name(), b.Name()) })
}

func (z *Zone) fsckStuck(ctx context.Context, req FsckRequest, report func(Finding) error) error {
	reps, err := z.cat.ExpiredReplicas(ctx, time.Now(), 10000)
	if err != nil {
		return err
	}
	for _, r := range reps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if req.Resource != "" && r.Resource != req.Resource {
			continue
		}
		f := Finding{Kind: FindStuck, Resource: r.Resource, Replica: r.Number, PhysicalPath: r.PhysicalPath,
			Detail: fmt.Sprintf("held by %s; its lease ended at %s", r.LockHolder, r.LeaseExpiry.Format(time.RFC3339))}
		if obj, err := z.cat.DataObjectByID(ctx, r.ObjectID); err == nil {
			f.Path = obj.Path
		}
		if req.Repair {
			removed, err := z.cat.ResolveExpired(ctx, r.ObjectID, r.Number, time.Now())
			if err != nil {
				f.Repair = "not resolved: " + err.Error()
			} else {
				z.removeBytes(ctx, []catalog.Replica{removed})
				f.Repaired, f.Repair = true, "resolved: the replica and its partial file were removed"
			}
		}
		if err := report(f); err != nil {
			return err
		}
	}
	return nil
}

// fsckLeaf checks one storage resource and returns the objects whose good
// replicas there are bad.
//
// It reads the catalog once (one ReplicasOn pass) for the checks of the
// replicas, and at most once more, at the end, to confirm the orphans it
// found: the cost is two passes per resource, not one per stray file.
func (z *Zone) fsckLeaf(ctx context.Context, leaf *compose.Node, req FsckRequest, report func(Finding) error) (bad, stale []catalog.ID, err error) {
	d, _, err := z.resource(ctx, leaf.Name())
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, nil, cerr
		}
		return nil, nil, report(Finding{Kind: FindUnreadable, Resource: leaf.Name(), Detail: err.Error()})
	}
	// Storage is listed before the catalog is read, as FindOrphans does, so
	// that a file being written is never taken for an orphan: a replica is
	// registered (intermediate, with its lease) before its file is created,
	// so every file the listing holds that a put or a copy writes already
	// has its replica in the catalog when the pass below reads it; a file
	// created after the listing is not in it, and is not looked at at all.
	files := map[string]resources.Info{}
	if err := d.Walk(ctx, func(i resources.Info) error {
		files[i.Key] = i
		return nil
	}); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, nil, cerr
		}
		return nil, nil, report(Finding{Kind: FindUnreadable, Resource: leaf.Name(), Detail: "walk: " + err.Error()})
	}
	known := make(map[string]bool, len(files))
	var reps []catalog.Replica
	if err := z.cat.ReplicasOn(ctx, leaf.Name(), func(r catalog.Replica) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		known[r.PhysicalPath] = true
		switch r.Status {
		case catalog.ReplicaGood:
			reps = append(reps, r)
		case catalog.ReplicaStale:
			stale = append(stale, r.ObjectID)
		}
		return nil
	}); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, nil, cerr
		}
		return nil, nil, fmt.Errorf("fsck %s: %w", leaf.Name(), err)
	}
	for _, r := range reps {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		f := Finding{Resource: leaf.Name(), Replica: r.Number, PhysicalPath: r.PhysicalPath}
		info, ok := files[r.PhysicalPath]
		if !ok {
			// Listed before: look again, it may have been written since.
			st, err := d.Stat(ctx, r.PhysicalPath)
			if errors.Is(err, resources.ErrNotFound) {
				f.Kind, f.Detail = FindMissing, "no file in storage"
			} else if err != nil {
				f.Kind, f.Detail = FindUnreadable, err.Error()
			} else {
				info = st
			}
		}
		if f.Kind == "" && info.Size != r.Size {
			f.Kind, f.Detail = FindSizeMismatch, fmt.Sprintf("%d bytes in storage, %d in the catalog", info.Size, r.Size)
		}
		if f.Kind == "" && req.VerifyChecksums && r.Checksum != "" {
			sum, err := d.Checksum(ctx, r.PhysicalPath)
			switch {
			case errors.Is(err, resources.ErrCorrupt):
				// The store found the bytes bad itself (a tape's index):
				// a mismatch, which repair replaces from a good replica.
				f.Kind, f.Detail = FindChecksumMismatch, err.Error()
			case err != nil:
				f.Kind, f.Detail = FindUnreadable, err.Error()
			case sum != r.Checksum:
				f.Kind, f.Detail = FindChecksumMismatch, fmt.Sprintf("checksum %s in storage, %s in the catalog", sum, r.Checksum)
			}
		}
		if f.Kind == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, err // the file checks failed because the run was cancelled
		}
		// The replica was read from the catalog before its file was looked
		// at; an overwrite, a trim or a removal since then replaces or
		// removes it, and deletes its file after the catalog changed. Read
		// it again: only a replica that is still there, good and the same
		// is a finding. (An overwrite keeps the replica's number, so marking
		// a replaced replica stale would mark the new, good one.)
		obj, current, err := z.fsckReread(ctx, r)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, nil, cerr
			}
			// Not confirmed: reported, but nothing is changed.
			f.Detail += "; the catalog could not be read again to confirm it: " + err.Error()
			if req.Repair {
				f.Repair = "not marked stale: not confirmed"
			}
		} else if !current {
			continue // replaced or removed meanwhile: its file went with it
		} else {
			f.Path = obj.Path
			if req.Repair && f.Kind != FindUnreadable {
				// Bad bytes are never served again.
				if err := z.cat.MarkStale(ctx, r.ObjectID, r.Number); err != nil {
					f.Repair = "not marked stale: " + err.Error()
				} else {
					f.Repair = "marked stale"
					bad = append(bad, r.ObjectID)
				}
			}
		}
		if err := report(f); err != nil {
			return nil, nil, err
		}
	}
	if err := z.fsckOrphans(ctx, d, leaf.Name(), files, known, req, report); err != nil {
		return nil, nil, err
	}
	return bad, stale, nil
}

// fsckReread reads replica r again from the catalog. current says whether
// it is still there as it was: good, with the same physical path, size and
// checksum. An object that is gone is not an error.
func (z *Zone) fsckReread(ctx context.Context, r catalog.Replica) (obj catalog.DataObject, current bool, err error) {
	obj, err = z.cat.DataObjectByID(ctx, r.ObjectID)
	if errors.Is(err, catalog.ErrNotFound) {
		return obj, false, nil
	}
	if err != nil {
		return obj, false, err
	}
	for _, c := range obj.Replicas {
		if c.Number == r.Number && c.Resource == r.Resource {
			return obj, c.Status == catalog.ReplicaGood && c.PhysicalPath == r.PhysicalPath &&
				c.Size == r.Size && c.Checksum == r.Checksum, nil
		}
	}
	return obj, false, nil
}

// fsckOrphans reports, and with Repair removes, the files of the listing
// that no replica of the first catalog pass (known) points to.
//
// A file can also get its replica after that pass: ireg registers a file
// already in the vault. So the candidates are confirmed by one more pass
// over the catalog, after all the other checks and just before the
// removals; a candidate that has a replica by then is left alone. If that
// pass fails, nothing is confirmed and nothing is removed: a failed check
// never leads to a deletion. Candidates are collected before the pass, so
// a resource costs two catalog passes however many stray files it holds.
func (z *Zone) fsckOrphans(ctx context.Context, d resources.Resource, resc string, files map[string]resources.Info, known map[string]bool, req FsckRequest, report func(Finding) error) error {
	candidates := map[string]bool{}
	for key := range files {
		if !known[key] {
			candidates[key] = true
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	if err := z.cat.ReplicasOn(ctx, resc, func(r catalog.Replica) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		delete(candidates, r.PhysicalPath) // registered since the first pass
		return nil
	}); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		f := Finding{Kind: FindUnreadable, Resource: resc,
			Detail: fmt.Sprintf("%d files had no replica in the catalog, but the catalog could not be read again to confirm that they are orphans: %v",
				len(candidates), err)}
		if req.Repair {
			f.Repair = "no file removed: not confirmed"
		}
		return report(f)
	}
	orphans := make([]string, 0, len(candidates))
	for key := range candidates {
		orphans = append(orphans, key)
	}
	slices.Sort(orphans)
	for _, key := range orphans {
		if err := ctx.Err(); err != nil {
			return err
		}
		info := files[key]
		f := Finding{Kind: FindOrphan, Resource: resc, PhysicalPath: key,
			Detail: fmt.Sprintf("%d bytes, modified %s; no replica points to it", info.Size, info.ModTime.Format(time.RFC3339))}
		if req.Repair {
			err := d.Remove(ctx, key)
			switch {
			case errors.Is(err, resources.ErrNotFound):
				continue // gone since the listing: its removal was in flight
			case err != nil:
				if cerr := ctx.Err(); cerr != nil {
					return cerr
				}
				f.Repair = "not removed: " + err.Error()
			default:
				f.Repaired, f.Repair = true, "removed"
			}
		}
		if err := report(f); err != nil {
			return err
		}
	}
	return nil
}

// fsckRepair refreshes the stale replicas of the objects whose good
// replicas were found bad, from the good replicas they still have.
func (z *Zone) fsckRepair(ctx context.Context, t *compose.Tree, ids []catalog.ID, req FsckRequest, report func(Finding) error) error {
	seen := map[catalog.ID]bool{}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		obj, err := z.cat.DataObjectByID(ctx, id)
		if err != nil {
			continue
		}
		ch := z.replicateOne(ctx, t, obj, nil, ReplicateRequest{Path: obj.Path, UpdateStale: true})
		f := Finding{Kind: FindRepair, Path: obj.Path, Resource: ch.Resource, Replica: ch.Replica}
		switch {
		case ch.Err != nil:
			f.Repair = "could not refresh from a good replica: " + ch.Err.Error()
		case ch.Action == "unchanged":
			f.Repair = "no good replica left to repair from; the object's bytes are lost unless a backup holds them"
		default:
			f.Repaired, f.Repair = true, "refreshed from a good replica"
		}
		if err := report(f); err != nil {
			return err
		}
	}
	return nil
}

// fsckNoGoodReplica reports every object among ids (objects with a stale or
// a bad replica) that has no good replica left and none being written.
func (z *Zone) fsckNoGoodReplica(ctx context.Context, ids []catalog.ID, report func(Finding) error) error {
	seen := map[catalog.ID]bool{}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		obj, err := z.cat.DataObjectByID(ctx, id)
		if err != nil {
			continue // removed meanwhile
		}
		if len(obj.Good()) > 0 || slices.ContainsFunc(obj.Replicas, func(r catalog.Replica) bool { return r.Status == catalog.ReplicaIntermediate }) {
			continue
		}
		var where []string
		for _, r := range obj.Replicas {
			where = append(where, fmt.Sprintf("%d on %s (%s)", r.Number, r.Resource, r.Status))
		}
		f := Finding{Kind: FindNoGoodReplica, Path: obj.Path,
			Detail: "no good replica: it cannot be read; replicas " + strings.Join(where, ", "),
			Repair: "restore it from a copy (iput -f, irepl from a backup) or remove it"}
		if len(obj.Replicas) > 0 {
			f.Resource, f.Replica = obj.Replicas[0].Resource, obj.Replicas[0].Number
		}
		if err := report(f); err != nil {
			return err
		}
	}
	return nil
}
