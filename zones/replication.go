package zones

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/compose"
)

// copyReplica copies the good replica src of obj to the storage resource
// dest. It follows the write protocol: an intermediate replica is
// registered (locking the object against writers) before a byte is written,
// the bytes are made durable and checked against src's size and checksum,
// and only then CommitCopy marks the copy good, leaving the other good
// replicas good. On any failure nothing good is left behind.
func (z *Zone) copyReplica(ctx context.Context, obj catalog.DataObject, src catalog.Replica, dest string) (catalog.Replica, error) {
	fail := func(err error) (catalog.Replica, error) {
		return catalog.Replica{}, fmt.Errorf("copy replica %d of %s to %s: %w", src.Number, obj.Path, dest, err)
	}
	srcDrv, _, err := z.resource(ctx, src.Resource)
	if err != nil {
		return fail(err)
	}
	dstDrv, _, err := z.resource(ctx, dest)
	if err != nil {
		return fail(err)
	}
	holder := z.newHolder()
	_, rep, err := z.cat.BeginReplica(ctx, catalog.NewReplica{
		Path: obj.Path, Owner: obj.Owner, Resource: dest, PhysicalPath: physicalPath(obj.Path),
		Holder: holder, LeaseExpiry: time.Now().Add(z.lease), Overwrite: true, Copy: true,
	})
	if err != nil {
		return fail(err)
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := z.cat.AbortReplica(cleanup, rep.ObjectID, rep.Number, holder); err != nil {
			z.log.Warn("abort intermediate copy; recovery resolves it when its lease ends",
				"path", obj.Path, "replica", rep.Number, "err", err)
		}
	}()
	stopRenew := z.renewLease(ctx, rep, holder)
	info, err := copyBytes(ctx, srcDrv, src.PhysicalPath, dstDrv, rep.PhysicalPath)
	stopRenew()
	if err != nil {
		return fail(err)
	}
	removeCopy := func() {
		if rerr := dstDrv.Remove(context.WithoutCancel(ctx), rep.PhysicalPath); rerr != nil {
			z.log.Warn("remove file of an uncommitted copy", "resource", dest, "physical_path", rep.PhysicalPath, "err", rerr)
		}
	}
	if info.Size != src.Size || (src.Checksum != "" && info.Checksum != src.Checksum) {
		removeCopy()
		// The source's bytes are not what the catalog says: it is not good.
		if merr := z.cat.MarkStale(context.WithoutCancel(ctx), obj.ID, src.Number); merr != nil {
			z.log.Warn("mark a bad source replica stale", "path", obj.Path, "replica", src.Number, "err", merr)
		}
		return fail(fmt.Errorf("%w: replica %d on %s holds %d bytes with checksum %s, the catalog says %d bytes with %s; it is marked stale",
			ErrChecksumMismatch, src.Number, src.Resource, info.Size, info.Checksum, src.Size, src.Checksum))
	}
	superseded, err := z.cat.CommitCopy(ctx, catalog.ReplicaCommit{
		Object: rep.ObjectID, Number: rep.Number, Holder: holder, Size: info.Size, Checksum: info.Checksum,
	}, src.Number)
	if err != nil {
		removeCopy()
		return fail(err)
	}
	committed = true
	z.removeBytes(context.WithoutCancel(ctx), superseded)
	rep.Status, rep.Size, rep.Checksum, rep.LockHolder = catalog.ReplicaGood, info.Size, info.Checksum, ""
	rep.LeaseExpiry, rep.ModifyTime = time.Time{}, time.Now().UTC()
	rep.Number = catalog.CommittedNumber(rep.Number, superseded)
	if !obj.Lock.IsZero() {
		z.retainBytes(context.WithoutCancel(ctx), obj, []catalog.Replica{rep}, false)
	}
	return rep, nil
}

// copyBytes streams the file at from on src into a new file at to on dst
// and returns what Commit made durable.
func copyBytes(ctx context.Context, src resources.Resource, from string, dst resources.Resource, to string) (resources.Info, error) {
	rc, err := src.Open(ctx, from, 0)
	if err != nil {
		return resources.Info{}, fmt.Errorf("read source: %w", err)
	}
	defer rc.Close()
	w, err := dst.Create(ctx, to)
	if err != nil {
		return resources.Info{}, fmt.Errorf("create copy: %w", err)
	}
	if _, err := io.Copy(w, rc); err != nil {
		w.Abort()
		return resources.Info{}, fmt.Errorf("copy: %w", err)
	}
	info, err := w.Commit()
	if err != nil {
		return resources.Info{}, fmt.Errorf("commit copy: %w", err)
	}
	return info, nil
}

// ReplicaChange is what an irepl, itrim or iphymv did to one object.
type ReplicaChange struct {
	Path     catalog.Path
	Action   string // replicated | updated | trimmed | moved | unchanged | failed
	Resource string
	Replica  int
	Err      error
	Object   catalog.DataObject // after the change, when known
}

// ReplicateRequest is irepl.
type ReplicateRequest struct {
	Path        catalog.Path
	Dest        string // a resource (root or inside a tree); "" only with UpdateStale
	Source      string // take the bytes from a replica below this resource
	UpdateStale bool   // -a: refresh stale replicas and fill missing children of replication resources
	Recursive   bool
}

// Replicate is irepl: it copies the data object at req.Path (or every
// object below a collection, with Recursive) to req.Dest, and with
// UpdateStale refreshes every stale replica from a good one. report hears
// of every object.
func (z *Zone) Replicate(ctx context.Context, caller Principal, req ReplicateRequest, report func(ReplicaChange) error) error {
	op := &Op{Name: "replicate", Caller: caller, Path: req.Path, Resource: req.Dest, Recursive: req.Recursive}
	return z.do(ctx, op, func(ctx context.Context) error {
		if req.Dest == "" && !req.UpdateStale {
			return fmt.Errorf("%w: name a destination resource (-R) or ask to update stale replicas (-a)", catalog.ErrInvalidArgument)
		}
		t, err := z.loadTree(ctx)
		if err != nil {
			return err
		}
		var dest *compose.Node
		if req.Dest != "" {
			if dest, err = t.Node(req.Dest); err != nil {
				return err
			}
		}
		if req.Source != "" {
			if _, err := t.Node(req.Source); err != nil {
				return err
			}
		}
		if err := z.checkRulesBelow(ctx, op, req.Path, req.Recursive, catalog.AccessWrite); err != nil {
			return err
		}
		return z.eachObject(ctx, caller, req.Path, req.Recursive, func(obj catalog.DataObject) error {
			return report(z.replicateOne(ctx, t, obj, dest, req))
		})
	})
}

// eachObject calls fn for the data object at p, or every data object
// below the collection p when recursive, that caller may write.
func (z *Zone) eachObject(ctx context.Context, caller Principal, p catalog.Path, recursive bool, fn func(catalog.DataObject) error) error {
	return z.eachObjectAt(ctx, caller, p, recursive, catalog.AccessWrite, fn)
}

// eachObjectAt is eachObject for the objects caller has level on.
func (z *Zone) eachObjectAt(ctx context.Context, caller Principal, p catalog.Path, recursive bool, level catalog.AccessLevel, fn func(catalog.DataObject) error) error {
	e, err := z.cat.Stat(ctx, p)
	if err != nil {
		return err
	}
	if e.Object != nil {
		return fn(*e.Object)
	}
	if !recursive {
		return fmt.Errorf("%s is a collection: %w (use -r)", p, catalog.ErrNotDataObject)
	}
	groups, err := z.groupsOf(ctx, caller.User)
	if err != nil {
		return err
	}
	admin := isAdmin(caller.User, z.name) && caller.AdminMode
	for after := ""; ; {
		objs, err := z.cat.ListObjects(ctx, p, after, listPage)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if !admin && accessOf(caller.User, groups, o.ACL) < level {
				continue
			}
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(objs) < listPage {
			break
		}
		after = objs[len(objs)-1].Path.Name()
	}
	colls, err := z.allCollections(ctx, p)
	if err != nil {
		return err
	}
	for _, c := range colls {
		if err := z.eachObjectAt(ctx, caller, c.Path, true, level, fn); err != nil {
			return err
		}
	}
	return nil
}

// pickSource returns the best good replica of obj to copy from, below the
// resource source if it is set.
func (z *Zone) pickSource(ctx context.Context, t *compose.Tree, obj catalog.DataObject, source string) (catalog.Replica, error) {
	good, why := z.readableReplicas(ctx, t, obj)
	for _, r := range good {
		if source == "" || isBelow(t, r.Resource, source) {
			return r, nil
		}
	}
	if source != "" {
		return catalog.Replica{}, fmt.Errorf("%w: %s has no good replica below %s to copy from (%s)", resources.ErrUnavailable, obj.Path, source, strings.Join(why, "; "))
	}
	return catalog.Replica{}, fmt.Errorf("%w: no readable replica of %s (%s)", resources.ErrUnavailable, obj.Path, strings.Join(why, "; "))
}

// isBelow reports whether the resource leaf is at or below resource top.
func isBelow(t *compose.Tree, leaf, top string) bool {
	for n, _ := t.Lookup(leaf); n != nil; n = n.Parent {
		if n.Name() == top {
			return true
		}
	}
	return false
}

// wantedLeaves are the leaves that should hold a good replica of an object
// that has replicas below dest: every leaf a write to dest reaches.
func wantedLeaves(dest *compose.Node) ([]*compose.Node, error) {
	p, more, err := dest.WriteTargets()
	if err != nil {
		return nil, err
	}
	if dest.Rec.Type == "replication" {
		// Every child that is up, not only those a write picked.
		var all []*compose.Node
		for _, c := range dest.Children {
			if lp, lm, err := c.WriteTargets(); err == nil {
				all = append(append(all, lp), lm...)
			}
		}
		return all, nil
	}
	return append([]*compose.Node{p}, more...), nil
}

func (z *Zone) replicateOne(ctx context.Context, t *compose.Tree, obj catalog.DataObject, dest *compose.Node, req ReplicateRequest) ReplicaChange {
	ch := ReplicaChange{Path: obj.Path, Action: "unchanged", Object: obj}
	failed := func(err error) ReplicaChange {
		ch.Action, ch.Err = "failed", err
		return ch
	}
	// The leaves to fill: below dest; with -a also every leaf holding a
	// stale replica, and every leaf of a replication or compound tree that
	// holds a replica of obj.
	var targets []*compose.Node
	if dest != nil {
		leaves, err := wantedLeaves(dest)
		if err != nil {
			return failed(err)
		}
		targets = leaves
	}
	if req.UpdateStale {
		roots := map[string]*compose.Node{}
		for _, r := range obj.Replicas {
			n, ok := t.Lookup(r.Resource)
			if !ok {
				continue
			}
			if r.Status == catalog.ReplicaStale && n.Up() {
				targets = append(targets, n)
			}
			roots[n.Root().Name()] = n.Root()
		}
		for _, root := range roots {
			if leaves, err := wantedLeaves(root); err == nil {
				targets = append(targets, leaves...)
			}
		}
	}
	var done []string
	for _, leaf := range dedupe(targets) {
		have := false
		for _, r := range obj.Replicas {
			if r.Resource == leaf.Name() && r.Status == catalog.ReplicaGood {
				have = true
			}
		}
		if have {
			continue
		}
		src, err := z.pickSource(ctx, t, obj, req.Source)
		if err != nil {
			return failed(err)
		}
		hadStale := slices.ContainsFunc(obj.Replicas, func(r catalog.Replica) bool { return r.Resource == leaf.Name() })
		rep, err := z.copyReplica(ctx, obj, src, leaf.Name())
		if err != nil {
			return failed(err)
		}
		done = append(done, leaf.Name())
		ch.Resource, ch.Replica = leaf.Name(), rep.Number
		if hadStale {
			ch.Action = "updated"
		} else if ch.Action != "updated" {
			ch.Action = "replicated"
		}
		if o, err := z.cat.DataObject(ctx, obj.Path); err == nil {
			obj = o
		}
	}
	ch.Object = obj
	if len(done) > 1 {
		ch.Resource = strings.Join(done, ",")
	}
	return ch
}

func dedupe(ns []*compose.Node) []*compose.Node {
	seen := map[string]bool{}
	var out []*compose.Node
	for _, n := range ns {
		if !seen[n.Name()] {
			seen[n.Name()] = true
			out = append(out, n)
		}
	}
	return out
}

// TrimRequest is itrim.
type TrimRequest struct {
	Path      catalog.Path
	Keep      int    // keep at least this many replicas; default 2
	Resource  string // only trim replicas below this resource
	Recursive bool
	DryRun    bool
}

// Trim is itrim: it removes replicas of the object (or of every object
// below a collection) down to req.Keep, stale ones first, then the oldest;
// the last good replica always stays.
func (z *Zone) Trim(ctx context.Context, caller Principal, req TrimRequest, report func(ReplicaChange) error) error {
	if req.Keep == 0 {
		req.Keep = 2
	}
	op := &Op{Name: "trim", Caller: caller, Path: req.Path, Resource: req.Resource, Recursive: req.Recursive}
	return z.do(ctx, op, func(ctx context.Context) error {
		if req.Keep < 1 {
			return fmt.Errorf("%w: keep %d replicas: at least one must stay", catalog.ErrInvalidArgument, req.Keep)
		}
		t, err := z.loadTree(ctx)
		if err != nil {
			return err
		}
		if req.Resource != "" {
			if _, err := t.Node(req.Resource); err != nil {
				return err
			}
		}
		if err := z.checkRulesBelow(ctx, op, req.Path, req.Recursive, catalog.AccessWrite); err != nil {
			return err
		}
		return z.eachObject(ctx, caller, req.Path, req.Recursive, func(obj catalog.DataObject) error {
			for _, ch := range z.trimOne(ctx, t, obj, req) {
				if err := report(ch); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

func (z *Zone) trimOne(ctx context.Context, t *compose.Tree, obj catalog.DataObject, req TrimRequest) []ReplicaChange {
	cands := slices.Clone(obj.Replicas)
	// Stale first, then oldest.
	slices.SortStableFunc(cands, func(a, b catalog.Replica) int {
		if (a.Status == catalog.ReplicaStale) != (b.Status == catalog.ReplicaStale) {
			if a.Status == catalog.ReplicaStale {
				return -1
			}
			return 1
		}
		return a.ModifyTime.Compare(b.ModifyTime)
	})
	count := len(obj.Replicas)
	good := len(obj.Good())
	var out []ReplicaChange
	for _, r := range cands {
		if count <= req.Keep {
			break
		}
		if r.Status == catalog.ReplicaIntermediate || (req.Resource != "" && !isBelow(t, r.Resource, req.Resource)) {
			continue
		}
		if r.Status == catalog.ReplicaGood && good <= 1 {
			continue
		}
		ch := ReplicaChange{Path: obj.Path, Action: "trimmed", Resource: r.Resource, Replica: r.Number}
		if n, ok := t.Lookup(r.Resource); ok && !n.Up() {
			// Its file could not be removed: the catalog would forget a
			// file that stays, for fsck to find as an orphan.
			ch.Action, ch.Err = "failed", fmt.Errorf("%w: resource %s is down: its replica's file cannot be removed; bring it up and trim again",
				resources.ErrUnavailable, n.Hierarchy())
			out = append(out, ch)
			continue
		}
		if err := z.qosKeeps(ctx, t, obj, r); err != nil {
			ch.Action, ch.Err = "failed", err
			out = append(out, ch)
			continue
		}
		if !req.DryRun {
			removed, err := z.cat.TrimReplica(ctx, obj.ID, r.Number)
			if err != nil {
				ch.Action, ch.Err = "failed", err
				out = append(out, ch)
				continue
			}
			z.removeBytes(context.WithoutCancel(ctx), []catalog.Replica{removed})
		}
		count--
		if r.Status == catalog.ReplicaGood {
			good--
		}
		// What is trimmed no longer counts for the requirements.
		obj.Replicas = slices.DeleteFunc(slices.Clone(obj.Replicas), func(x catalog.Replica) bool { return x.Number == r.Number })
		out = append(out, ch)
	}
	if len(out) == 0 {
		out = append(out, ReplicaChange{Path: obj.Path, Action: "unchanged"})
	}
	if o, err := z.cat.DataObject(ctx, obj.Path); err == nil {
		for i := range out {
			out[i].Object = o
		}
	}
	return out
}

// PhysMoveRequest is iphymv.
type PhysMoveRequest struct {
	Path      catalog.Path
	Source    string // the resource the replica leaves; "" picks the best good one
	Dest      string
	Recursive bool
}

// PhysMove is iphymv: it copies a good replica to req.Dest, then removes
// the replica it came from.
func (z *Zone) PhysMove(ctx context.Context, caller Principal, req PhysMoveRequest, report func(ReplicaChange) error) error {
	op := &Op{Name: "physmove", Caller: caller, Path: req.Path, Resource: req.Dest, Recursive: req.Recursive}
	return z.do(ctx, op, func(ctx context.Context) error {
		if req.Dest == "" {
			return fmt.Errorf("%w: name the destination resource (-R)", catalog.ErrInvalidArgument)
		}
		t, err := z.loadTree(ctx)
		if err != nil {
			return err
		}
		dest, err := t.Node(req.Dest)
		if err != nil {
			return err
		}
		if err := z.checkRulesBelow(ctx, op, req.Path, req.Recursive, catalog.AccessWrite); err != nil {
			return err
		}
		return z.eachObject(ctx, caller, req.Path, req.Recursive, func(obj catalog.DataObject) error {
			return report(z.moveOne(ctx, t, obj, dest, req.Source))
		})
	})
}

func (z *Zone) moveOne(ctx context.Context, t *compose.Tree, obj catalog.DataObject, dest *compose.Node, source string) ReplicaChange {
	ch := ReplicaChange{Path: obj.Path, Action: "moved", Object: obj}
	src, err := z.pickSource(ctx, t, obj, source)
	if err != nil {
		ch.Action, ch.Err = "failed", err
		return ch
	}
	if isBelow(t, src.Resource, dest.Name()) {
		ch.Action = "unchanged"
		return ch
	}
	// A locked object's replica moves only when its copy can be verified
	// against its checksum: the source is trimmed after (and the catalog
	// would refuse that trim, leaving the copy behind).
	if src.Checksum == "" {
		if err := obj.Lock.Refuse(obj.Path, time.Now(), fmt.Sprintf("moved off replica %d on %s", src.Number, src.Resource)); err != nil {
			ch.Action, ch.Err = "failed", &catalog.LockError{Path: obj.Path, Lock: obj.Lock, Action: fmt.Sprintf("moved off replica %d on %s", src.Number, src.Resource),
				Hint: "the replica has no checksum, so no copy of it can be verified; ichksum it first"}
			return ch
		}
	}
	leaf, _, err := dest.WriteTargets()
	if err != nil {
		ch.Action, ch.Err = "failed", err
		return ch
	}
	rep, err := z.copyReplica(ctx, obj, src, leaf.Name())
	if err != nil {
		ch.Action, ch.Err = "failed", err
		return ch
	}
	ch.Resource, ch.Replica = leaf.Name(), rep.Number
	// The copy counts now: the source goes unless a QoS requirement
	// still needs it there (a move off the only matching resource).
	moved := obj
	copied := rep
	copied.Status = catalog.ReplicaGood
	moved.Replicas = append(slices.Clone(obj.Replicas), copied)
	if err := z.qosKeeps(ctx, t, moved, src); err != nil {
		ch.Action, ch.Err = "failed", fmt.Errorf("copied to %s as replica %d, but the source stays: %w", leaf.Name(), rep.Number, err)
		return ch
	}
	removed, err := z.cat.TrimReplica(ctx, obj.ID, src.Number)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		ch.Action, ch.Err = "failed", fmt.Errorf("copied to %s as replica %d, but the source stays: %w", leaf.Name(), rep.Number, err)
		return ch
	}
	if err == nil {
		z.removeBytes(context.WithoutCancel(ctx), []catalog.Replica{removed})
	}
	if o, err := z.cat.DataObject(ctx, obj.Path); err == nil {
		ch.Object = o
	}
	return ch
}
