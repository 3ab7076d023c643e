package zones

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
)

// AccessTimeFlush is how often the access times of data objects on tiered
// resources are written to the catalog by default (RunAccessTimes).
const AccessTimeFlush = 5 * time.Second

// accessTimes collects when data objects on tiered resources are read or
// written, for the catalog to keep in batches (catalog.SetAccessTimes):
// tiering needs to know what is at rest, and one catalog transaction per
// read would cost as much as the read. An access seen by a server that
// stops before its batch is written is lost; it made the object look
// idle for a shorter time than it is, never longer.
type accessTimes struct {
	mu      sync.Mutex
	pending map[catalog.Path]time.Time
	full    chan struct{} // a flush is due before the interval ends
}

// noteAccess records that the data object obj was read or written now,
// when one of its replicas is on a tiered resource.
func (z *Zone) noteAccess(ctx context.Context, obj catalog.DataObject) {
	_, leaves, _ := z.tierGroups(ctx)
	if len(leaves) == 0 {
		return
	}
	tiered := false
	for _, r := range obj.Replicas {
		if _, ok := leaves[r.Resource]; ok {
			tiered = true
			break
		}
	}
	if !tiered {
		return
	}
	a := &z.atimes
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = map[catalog.Path]time.Time{}
	}
	a.pending[obj.Path] = time.Now()
	if len(a.pending) >= catalog.MaxAccessTimes/2 && a.full != nil {
		select {
		case a.full <- struct{}{}:
		default:
		}
	}
}

// FlushAccessTimes writes the access times collected so far to the
// catalog; on failure they are kept for the next flush.
func (z *Zone) FlushAccessTimes(ctx context.Context) error {
	a := &z.atimes
	a.mu.Lock()
	batch := a.pending
	a.pending = nil
	a.mu.Unlock()
	for len(batch) > 0 {
		part := batch
		if len(batch) > catalog.MaxAccessTimes {
			part = map[catalog.Path]time.Time{}
			for p, t := range batch {
				part[p] = t
				delete(batch, p)
				if len(part) == catalog.MaxAccessTimes {
					break
				}
			}
		} else {
			batch = nil
		}
		if err := z.cat.SetAccessTimes(ctx, part); err != nil {
			a.mu.Lock()
			if a.pending == nil {
				a.pending = map[catalog.Path]time.Time{}
			}
			for _, m := range []map[catalog.Path]time.Time{part, batch} {
				for p, t := range m {
					if t.After(a.pending[p]) {
						a.pending[p] = t
					}
				}
			}
			a.mu.Unlock()
			return err
		}
	}
	return nil
}

// RunAccessTimes writes the collected access times every interval
// (AccessTimeFlush if 0), and sooner when many have gathered, until ctx
// ends; then once more.
func (z *Zone) RunAccessTimes(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = AccessTimeFlush
	}
	full := make(chan struct{}, 1)
	z.atimes.mu.Lock()
	z.atimes.full = full
	z.atimes.mu.Unlock()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			done, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := z.FlushAccessTimes(done); err != nil {
				z.log.Warn("write access times at shutdown", "err", err)
			}
			return
		case <-t.C:
		case <-full:
		}
		if err := z.FlushAccessTimes(ctx); err != nil && ctx.Err() == nil {
			z.log.Warn("write access times", "err", err)
		}
	}
}

// pendingAccessTimes is a copy of what the next flush writes (tests).
func (z *Zone) pendingAccessTimes() map[catalog.Path]time.Time {
	z.atimes.mu.Lock()
	defer z.atimes.mu.Unlock()
	return maps.Clone(z.atimes.pending)
}

// backfillAccessTimes gives every data object with a replica below the
// resource name an access time, its replica's modify time, unless it has
// a later one: objects put before the resource joined a tier group would
// otherwise never be seen at rest. It pages through them by DATA_ID.
func (z *Zone) backfillAccessTimes(ctx context.Context, name string) (int, error) {
	t, err := z.tree(ctx)
	if err != nil {
		return 0, err
	}
	n, ok := t.Lookup(name)
	if !ok {
		return 0, fmt.Errorf("%w: resource %s", catalog.ErrNotFound, name)
	}
	admin := catalog.Caller{User: catalog.UserID{Name: DefaultAdmin, Zone: z.name}, Admin: true}
	total := 0
	for _, leaf := range n.Leaves() {
		for after := int64(0); ; {
			q, err := query.Parse(fmt.Sprintf("select DATA_ID, COLL_NAME, DATA_NAME, DATA_MODIFY_TIME where DATA_RESC_NAME = '%s' and DATA_ID > '%d' order by DATA_ID limit %d",
				leaf.Name(), after, catalog.MaxAccessTimes))
			if err != nil {
				return total, err
			}
			times := map[catalog.Path]time.Time{}
			rows := 0
			err = z.cat.Query(ctx, q, admin, func(r []string) error {
				rows++
				id, err := strconv.ParseInt(r[0], 10, 64)
				if err != nil {
					return fmt.Errorf("DATA_ID %q: %w", r[0], err)
				}
				after = id
				coll := r[1]
				if coll != "/" {
					coll += "/"
				}
				p, err := catalog.ParsePath(coll + r[2])
				if err != nil {
					return err
				}
				at, err := parseQueryTime(r[3])
				if err != nil {
					return err
				}
				if at.After(times[p]) {
					times[p] = at
				}
				return nil
			})
			if err != nil {
				return total, err
			}
			if err := z.cat.SetAccessTimes(ctx, times); err != nil {
				return total, err
			}
			total += len(times)
			if rows < catalog.MaxAccessTimes {
				break
			}
		}
	}
	return total, nil
}

// parseQueryTime reads a time column of a query's row.
func parseQueryTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	return t, nil
}
