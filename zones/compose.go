package zones

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/bytesize"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/compose"
)

// treeTTL is how long a loaded resource tree is used. Changes made through
// this server drop it at once; those of other servers of the zone are seen
// within this time.
const treeTTL = 2 * time.Second

// tree returns the resource tree, from a short-lived cache.
func (z *Zone) tree(ctx context.Context) (*compose.Tree, error) {
	z.mu.Lock()
	t, at := z.treeCache, z.treeAt
	z.mu.Unlock()
	if t != nil && time.Since(at) < treeTTL {
		return t, nil
	}
	t, err := z.loadTree(ctx)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	z.treeCache, z.treeAt = t, time.Now()
	z.mu.Unlock()
	return t, nil
}

// forgetResources drops the cached tree and the cached record of name, after
// a change to them.
func (z *Zone) forgetResources(names ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.treeCache = nil
	for _, n := range names {
		if c, ok := z.rescs[n]; ok {
			c.checked = time.Time{}
			z.rescs[n] = c
		}
	}
}

// queueRecall returns an error wrapping resources.ErrStaging, after queueing
// a recall, when rep is on a resource that must recall it before a read.
func queueRecall(ctx context.Context, d resources.Resource, rep catalog.Replica) error {
	st, ok := d.(resources.Stager)
	if !ok {
		return nil
	}
	online, err := st.Staged(ctx, rep.PhysicalPath)
	if err != nil || online {
		return err
	}
	if err := st.Stage(ctx, rep.PhysicalPath); err != nil {
		return err
	}
	return fmt.Errorf("%w: replica %d on %s is being recalled from tape (REPLICA_IS_BEING_STAGED); try again later",
		resources.ErrStaging, rep.Number, rep.Resource)
}

// stageToCache: a read of an object whose best replica is on the archive of
// a compound copies it to the compound's cache first and reads that, as
// iRODS's compound does. If that fails, the archive replica is read.
func (z *Zone) stageToCache(ctx context.Context, t *compose.Tree, obj catalog.DataObject, rep catalog.Replica, noWait bool) catalog.Replica {
	n, ok := t.Lookup(rep.Resource)
	if !ok {
		return rep
	}
	var archive *compose.Node
	for m := n; m.Parent != nil; m = m.Parent {
		if m.Role() == "archive" {
			archive = m
			break
		}
	}
	if archive == nil {
		return rep
	}
	cache, _, err := archive.Parent.Child("cache").WriteTargets()
	if err != nil {
		return rep
	}
	if noWait {
		if d, _, err := z.resource(ctx, rep.Resource); err == nil {
			if queueRecall(ctx, d, rep) != nil {
				return rep // the caller reports the recall
			}
		}
	}
	staged, err := z.copyReplica(ctx, obj, rep, cache.Name())
	if err != nil {
		z.log.Warn("stage to cache failed; reading the archive", "path", obj.Path, "cache", cache.Hierarchy(), "err", err)
		return rep
	}
	z.enforceWatermarks(ctx, archive.Parent) // the staged replica is the newest: it stays
	return staged
}

// enforceWatermarks trims the cache of every compound at or below target
// whose context sets high_water (bytes): when the good replicas on the
// cache exceed it, the least recently modified ones that also have a good
// replica on the archive are trimmed until low_water (default: high_water)
// is reached.
func (z *Zone) enforceWatermarks(ctx context.Context, target *compose.Node) {
	var compounds []*compose.Node
	var walk func(n *compose.Node)
	walk = func(n *compose.Node) {
		if n.Rec.Type == "compound" {
			compounds = append(compounds, n)
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(target)
	for _, c := range compounds {
		if err := z.trimCache(ctx, c); err != nil {
			z.log.Warn("cache watermarks", "resource", c.Name(), "err", err)
		}
	}
}

func (z *Zone) trimCache(ctx context.Context, comp *compose.Node) error {
	hv, ok := comp.Params["high_water"]
	if !ok {
		return nil
	}
	high, err := bytesize.Parse(hv)
	if err != nil {
		return fmt.Errorf("high_water=%q: %w", hv, err)
	}
	low := high
	if lv, ok := comp.Params["low_water"]; ok {
		if low, err = bytesize.Parse(lv); err != nil {
			return fmt.Errorf("low_water=%q: %w", lv, err)
		}
	}
	cache, archive := comp.Child("cache"), comp.Child("archive")
	if cache == nil || archive == nil {
		return nil
	}
	var used int64
	var reps []catalog.Replica
	for _, leaf := range cache.Leaves() {
		err := z.cat.ReplicasOn(ctx, leaf.Name(), func(r catalog.Replica) error {
			if r.Status != catalog.ReplicaIntermediate {
				used += r.Size
				reps = append(reps, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if used <= high {
		return nil
	}
	slices.SortFunc(reps, func(a, b catalog.Replica) int { return a.ModifyTime.Compare(b.ModifyTime) })
	archived := func(obj catalog.DataObject) bool {
		for _, r := range obj.Replicas {
			if n := archive.Find(r.Resource); n != nil && r.Status == catalog.ReplicaGood {
				return true
			}
		}
		return false
	}
	for _, r := range reps {
		if used <= low {
			break
		}
		obj, err := z.cat.DataObjectByID(ctx, r.ObjectID)
		if err != nil || !archived(obj) {
			continue
		}
		removed, err := z.cat.TrimReplica(ctx, r.ObjectID, r.Number)
		if err != nil {
			continue
		}
		z.removeBytes(context.WithoutCancel(ctx), []catalog.Replica{removed})
		used -= r.Size
		z.log.Info("trimmed a cache replica above the high watermark", "resource", comp.Name(),
			"path", obj.Path, "replica", r.Number, "size", strconv.FormatInt(r.Size, 10))
	}
	return nil
}

// online reports whether the file at key on resource can be read without a
// recall.
func (z *Zone) online(ctx context.Context, resource, key string) bool {
	d, _, err := z.resource(ctx, resource)
	if err != nil {
		return false
	}
	st, ok := d.(resources.Stager)
	if !ok {
		return true
	}
	staged, err := st.Staged(ctx, key)
	return err == nil && staged
}

// StageResult is what Stage did.
type StageResult struct {
	Queued, Online int64
}

// Stage queues the recalls of every data object at or below p (with
// recursive) whose best replica is on tape and not online, all at once per
// resource, so that the library orders them by cartridge and position.
func (z *Zone) Stage(ctx context.Context, caller Principal, p catalog.Path, recursive bool) (StageResult, error) {
	var res StageResult
	op := &Op{Name: OpStage, Caller: caller, Path: p}
	err := z.do(ctx, op, func(ctx context.Context) error {
		if err := z.checkRulesBelow(ctx, op, p, recursive, catalog.AccessRead); err != nil {
			return err
		}
		t, err := z.tree(ctx)
		if err != nil {
			return err
		}
		keys := map[string][]string{} // by resource
		err = z.eachObjectAt(ctx, caller, p, recursive, catalog.AccessRead, func(obj catalog.DataObject) error {
			good, _ := z.readableReplicas(ctx, t, obj)
			if len(good) == 0 {
				return nil
			}
			best := good[0]
			if z.online(ctx, best.Resource, best.PhysicalPath) {
				res.Online++
				return nil
			}
			keys[best.Resource] = append(keys[best.Resource], best.PhysicalPath)
			return nil
		})
		if err != nil {
			return err
		}
		for resc, ks := range keys {
			d, _, err := z.resource(ctx, resc)
			if err != nil {
				return err
			}
			if st, ok := d.(resources.Stager); ok {
				if err := st.Stage(ctx, ks...); err != nil {
					return fmt.Errorf("stage on %s: %w", resc, err)
				}
				res.Queued += int64(len(ks))
			}
		}
		return nil
	})
	return res, err
}
