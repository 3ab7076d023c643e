package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// Tiering is what the tiering actions ask of the zone beside Zone.
type Tiering interface {
	Stat(ctx context.Context, caller zones.Principal, p catalog.Path) (catalog.Entry, error)
	TierGroups(ctx context.Context) ([]zones.TierGroup, error)
	Query(ctx context.Context, caller zones.Principal, text string, fn func(columns []string, rows [][]string) error) error
	PhysMove(ctx context.Context, caller zones.Principal, req zones.PhysMoveRequest, report func(zones.ReplicaChange) error) error
	Replicate(ctx context.Context, caller zones.Principal, req zones.ReplicateRequest, report func(zones.ReplicaChange) error) error
	Trim(ctx context.Context, caller zones.Principal, req zones.TrimRequest, report func(zones.ReplicaChange) error) error
	VerifyReplica(ctx context.Context, p catalog.Path, number int, how string) error
	TierKeeps(ctx context.Context, p catalog.Path, leaf, dest string) error
}

// DefaultTierBatch is how many objects at rest a tiering pass selects
// with one query, and DefaultTierWorkers how many it moves at once.
const (
	DefaultTierBatch   = 500
	DefaultTierWorkers = 16
)

// TierResult counts what a tiering pass did.
type TierResult struct {
	Selected, Moved, Failed int
	// Kept are the objects at rest that a QoS requirement holds where
	// they are.
	Kept     int
	FirstErr error
}

// TierPass moves every data object at rest on a tier of a group (every
// group when group is "") to the next tier: an object rests on a tier when
// nobody has read or written it for longer than the tier's time (its
// catalog.AccessTimeAttr, as iRODS storage tiering reads
// irods::access_time). The selection is one query per tier leaf and
// batch, in DATA_ID order, answered by the index of AVU values, so a pass
// over a million objects reads only those at rest; the moves run workers
// at a time.
func TierPass(ctx context.Context, z Tiering, actor zones.Principal, group string, batch, workers int, now time.Time) (TierResult, error) {
	var res TierResult
	if batch <= 0 {
		batch = DefaultTierBatch
	}
	if workers <= 0 {
		workers = DefaultTierWorkers
	}
	groups, err := z.TierGroups(ctx)
	if err != nil {
		return res, err
	}
	found := group == ""
	for _, g := range groups {
		if group != "" && g.Name != group {
			continue
		}
		found = true
		for i, level := range g.Levels[:max(len(g.Levels)-1, 0)] {
			if level.Rest <= 0 {
				continue
			}
			cutoff := now.Add(-level.Rest)
			for _, leaf := range level.Leaves {
				if err := tierLeaf(ctx, z, actor, leaf, level, g.Levels[i+1], cutoff, batch, workers, &res); err != nil {
					return res, err
				}
			}
		}
	}
	if !found {
		return res, fmt.Errorf("%w: no tier group %q", catalog.ErrNotFound, group)
	}
	return res, nil
}

// tierLeaf moves the objects at rest on leaf, a storage resource of level,
// to next.
func tierLeaf(ctx context.Context, z Tiering, actor zones.Principal, leaf string, level, next zones.TierLevel, cutoff time.Time, batch, workers int, res *TierResult) error {
	for after := int64(0); ; {
		ids, paths, err := atRest(ctx, z, actor, leaf, cutoff, after, batch)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		after = ids[len(ids)-1]
		res.Selected += len(paths)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			work = make(chan catalog.Path)
		)
		for range min(workers, len(paths)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range work {
					if kerr := z.TierKeeps(ctx, p, leaf, next.Resource); errors.Is(kerr, zones.ErrQoSRequired) {
						mu.Lock()
						res.Kept++
						mu.Unlock()
						continue
					}
					err := TierMove(ctx, z, actor, p, leaf, level, next)
					mu.Lock()
					if err != nil {
						res.Failed++
						if res.FirstErr == nil {
							res.FirstErr = err
						}
					} else {
						res.Moved++
					}
					mu.Unlock()
				}
			}()
		}
		for _, p := range paths {
			if ctx.Err() != nil {
				break
			}
			work <- p
		}
		close(work)
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(ids) < batch {
			return nil
		}
	}
}

// atRest selects, in DATA_ID order after after, up to batch objects with a
// replica on leaf that nobody has read or written since cutoff (their
// catalog.AccessTimeAttr is older; the zone keeps it for every object on
// a tiered resource). It returns the ids selected and their paths.
func atRest(ctx context.Context, z Tiering, actor zones.Principal, leaf string, cutoff time.Time, after int64, batch int) ([]int64, []catalog.Path, error) {
	q := fmt.Sprintf("select DATA_ID, COLL_NAME, DATA_NAME where DATA_RESC_NAME = '%s' and META_DATA_ATTR_NAME = '%s' and META_DATA_ATTR_VALUE < '%s' and DATA_ID > '%d' order by DATA_ID limit %d",
		leaf, catalog.AccessTimeAttr, catalog.AccessTimeValue(cutoff), after, batch)
	var (
		ids   []int64
		paths []catalog.Path
	)
	err := z.Query(ctx, actor, q, func(_ []string, rows [][]string) error {
		for _, r := range rows {
			id, err := strconv.ParseInt(r[0], 10, 64)
			if err != nil {
				return fmt.Errorf("DATA_ID %q: %w", r[0], err)
			}
			coll := r[1]
			if coll != "/" {
				coll += "/"
			}
			p, err := catalog.ParsePath(coll + r[2])
			if err != nil {
				return err
			}
			if len(ids) > 0 && ids[len(ids)-1] == id {
				continue
			}
			ids = append(ids, id)
			paths = append(paths, p)
		}
		return nil
	})
	return ids, paths, err
}

// TierMove moves the object at p from leaf, a storage resource of tier
// level, to tier next: it copies the replica (unless next holds a good one
// already), verifies the copy as next says, and trims the replica on leaf
// unless level preserves replicas. A failure leaves the object where it
// was, with at most an extra good replica.
func TierMove(ctx context.Context, z Tiering, actor zones.Principal, p catalog.Path, leaf string, level, next zones.TierLevel) error {
	fail := func(err error) error { return fmt.Errorf("tier %s from %s to %s: %w", p, leaf, next.Resource, err) }
	changeErr := func(ch zones.ReplicaChange) error {
		if ch.Err != nil {
			return ch.Err
		}
		return nil
	}
	if !level.Preserve && next.Verify == "catalog" {
		// One operation: copy, then trim the source.
		err := z.PhysMove(ctx, actor, zones.PhysMoveRequest{Path: p, Source: leaf, Dest: next.Resource}, changeErr)
		if err != nil {
			return fail(err)
		}
		return nil
	}
	if level.Preserve {
		// Moved on before, its replica here kept: nothing to do.
		e, err := z.Stat(ctx, actor, p)
		if err != nil {
			return fail(err)
		}
		if e.Object != nil {
			for _, r := range e.Object.Good() {
				if slices.Contains(next.Leaves, r.Resource) {
					return nil
				}
			}
		}
	}
	number := -1
	err := z.Replicate(ctx, actor, zones.ReplicateRequest{Path: p, Dest: next.Resource, Source: leaf}, func(ch zones.ReplicaChange) error {
		number = ch.Replica
		return changeErr(ch)
	})
	if err != nil {
		return fail(err)
	}
	if number >= 0 {
		if err := z.VerifyReplica(ctx, p, number, next.Verify); err != nil {
			return fail(err)
		}
	}
	if level.Preserve {
		return nil
	}
	err = z.Trim(ctx, actor, zones.TrimRequest{Path: p, Keep: 1, Resource: leaf}, changeErr)
	if err != nil {
		return fail(fmt.Errorf("copied, but the replica on %s stays: %w", leaf, err))
	}
	return nil
}

func tierPassAction(z Zone, o Options) rules.Action {
	return rules.Action{
		Name: "tier.pass",
		Doc: "move every data object at rest on a tier (unread for longer than the tier's time, iadmin modresc NAME tier_time) " +
			"to the next tier of its group: copy, verify, trim; in batches, several at a time; audited with what it moved",
		Args: []rules.Arg{
			{Name: "group", Type: cel.StringType, Doc: "the tier group; default: every group"},
			{Name: "batch", Type: cel.IntType, Doc: "objects selected by one query (default 500)"},
		},
		Run: func(ctx context.Context, c *rules.Call) error {
			tz, ok := z.(Tiering)
			if z == nil || !ok {
				return fmt.Errorf("%w: %s: no zone that tiers", resources.ErrUnavailable, c.Rule)
			}
			actor, err := z.RuleActor(ctx)
			if err != nil {
				return err
			}
			group, _ := c.Args["group"].(string)
			batch, _ := c.Args["batch"].(int64)
			res, err := TierPass(ctx, tz, actor, group, int(batch), 0, time.Now())
			msg := fmt.Sprintf("%d objects at rest selected, %d moved to the next tier, %d kept by QoS requirements, %d failed", res.Selected, res.Moved, res.Kept, res.Failed)
			if res.FirstErr != nil {
				msg += "; first failure: " + res.FirstErr.Error()
			}
			outcome := "done"
			if err != nil || res.Failed > 0 {
				outcome = "failed"
			}
			o.Audit.LogAttrs(ctx, slog.LevelInfo, "tier.pass", slog.String("rule", c.Rule), slog.String("group", group),
				slog.String("outcome", outcome), slog.String("message", msg))
			if err != nil {
				return err
			}
			if res.Failed > 0 {
				return errors.New(msg)
			}
			return nil
		},
	}
}
