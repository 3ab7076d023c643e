package dgraph

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/arca-data/arca/catalog"
)

// Jobs are nodes of kind "job" holding the job as a JSON document, with
// its key (unique, @upsert) beside it. Jobs are few: claims read them all.

type jobNode struct {
	UID string `json:"uid"`
	Doc string `json:"doc"`
}

func (n jobNode) job() (catalog.Job, error) {
	var j catalog.Job
	if err := json.Unmarshal([]byte(n.Doc), &j); err != nil {
		return j, fmt.Errorf("stored job: %w", err)
	}
	j.ID = idOf(n.UID)
	return j, nil
}

func (t *tx) jobs(filter string, vars map[string]string) ([]catalog.Job, map[catalog.ID]string, error) {
	var out struct {
		N []jobNode `json:"n"`
	}
	q := `{ n(func: eq(P.kind, "job")) { uid doc: P.doc } }`
	if filter != "" {
		q = filter
	}
	if err := t.query(q, vars, &out); err != nil {
		return nil, nil, err
	}
	uids := map[catalog.ID]string{}
	var js []catalog.Job
	for _, n := range out.N {
		j, err := n.job()
		if err != nil {
			return nil, nil, err
		}
		js = append(js, j)
		uids[j.ID] = n.UID
	}
	slices.SortFunc(js, func(a, b catalog.Job) int { return cmp.Compare(a.ID, b.ID) })
	return js, uids, nil
}

func (t *tx) job(id catalog.ID) (catalog.Job, error) {
	uid := uidOf(id)
	if uid != "" {
		js, _, err := t.jobs(`query q($u: string) { n(func: uid($u)) @filter(eq(P.kind, "job")) { uid doc: P.doc } }`,
			map[string]string{"$u": uid})
		if err != nil {
			return catalog.Job{}, err
		}
		if len(js) == 1 {
			return js[0], nil
		}
	}
	return catalog.Job{}, fmt.Errorf("job %d: %w", id, catalog.ErrNotFound)
}

func (t *tx) putJob(j catalog.Job) error {
	doc, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return t.set(map[string]any{"uid": uidOf(j.ID), t.c.p("doc"): string(doc)})
}

// AddJob stores j.
func (c *Catalog) AddJob(ctx context.Context, j catalog.Job) (catalog.Job, error) {
	fail := func(err error) (catalog.Job, error) {
		return catalog.Job{}, fmt.Errorf("add job of rule %s: %w", j.Rule, err)
	}
	if err := j.Validate(); err != nil {
		return fail(err)
	}
	j.Due = fromNanos(nanos(j.Due))
	err := c.write(ctx, func(t *tx) error {
		if j.Key != "" {
			var out struct {
				N []uidOnly `json:"n"`
			}
			if err := t.query(`query q($k: string) { n(func: eq(P.jkey, $k)) @filter(eq(P.kind, "job")) { uid } }`,
				map[string]string{"$k": j.Key}, &out); err != nil {
				return err
			}
			if len(out.N) > 0 {
				return fmt.Errorf("insert: job key %q: %w", j.Key, catalog.ErrExists)
			}
		}
		j.ID, j.Attempts, j.Holder, j.LeaseExpiry, j.Failed, j.LastError = 0, 0, "", time.Time{}, false, ""
		j.CreateTime = fromNanos(nowNS())
		doc, err := json.Marshal(j)
		if err != nil {
			return err
		}
		m := map[string]any{c.p("kind"): "job", c.p("doc"): string(doc)}
		if j.Key != "" {
			m[c.p("jkey")] = j.Key
		}
		ref, err := t.create(m)
		t.afterCommit(func(resolve func(string) string) { j.ID = idOf(resolve(ref)) })
		return err
	})
	if err != nil {
		return fail(err)
	}
	return j, nil
}

// Job returns the job id.
func (c *Catalog) Job(ctx context.Context, id catalog.ID) (catalog.Job, error) {
	var j catalog.Job
	err := c.read(ctx, func(t *tx) (err error) {
		j, err = t.job(id)
		return err
	})
	return j, err
}

// ListJobs returns up to limit jobs with IDs above after, by ID.
func (c *Catalog) ListJobs(ctx context.Context, after catalog.ID, limit int) ([]catalog.Job, error) {
	if err := catalog.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	var out []catalog.Job
	err := c.read(ctx, func(t *tx) error {
		js, _, err := t.jobs("", nil)
		out = nil
		for _, j := range js {
			if j.ID > after && len(out) < limit {
				out = append(out, j)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return out, nil
}

// RemoveJob deletes the job id.
func (c *Catalog) RemoveJob(ctx context.Context, id catalog.ID) error {
	return c.write(ctx, func(t *tx) error {
		if _, err := t.job(id); err != nil {
			return fmt.Errorf("remove job %d: %w", id, catalog.ErrNotFound)
		}
		return t.del(map[string]any{"uid": uidOf(id)})
	})
}

// ClaimJobs claims up to limit due jobs for holder.
func (c *Catalog) ClaimJobs(ctx context.Context, holder string, at time.Time, lease time.Duration, limit int) ([]catalog.Job, error) {
	if err := catalog.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	if err := catalog.CheckJobClaim(holder, lease); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	var out []catalog.Job
	err := c.write(ctx, func(t *tx) error {
		out = nil
		js, _, err := t.jobs("", nil)
		if err != nil {
			return err
		}
		for _, j := range js {
			if !j.Failed && !j.Due.After(at) && (j.Holder == "" || !j.LeaseExpiry.After(at)) {
				out = append(out, j)
			}
		}
		slices.SortFunc(out, func(a, b catalog.Job) int { return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID)) })
		if len(out) > limit {
			out = out[:limit]
		}
		until := fromNanos(nanos(at.Add(lease)))
		for i := range out {
			out[i].Holder, out[i].LeaseExpiry = holder, until
			if err := t.putJob(out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	return out, nil
}

func (t *tx) heldJob(id catalog.ID, holder string) (catalog.Job, error) {
	j, err := t.job(id)
	if err != nil {
		return j, err
	}
	if j.Holder != holder {
		return j, fmt.Errorf("job %d: %w: held by %q, not %q", id, catalog.ErrLocked, j.Holder, holder)
	}
	return j, nil
}

// FinishJob ends a successful run.
func (c *Catalog) FinishJob(ctx context.Context, id catalog.ID, holder string, next time.Time) error {
	if err := catalog.CheckTime("next run", next); err != nil {
		return err
	}
	return c.write(ctx, func(t *tx) error {
		j, err := t.heldJob(id, holder)
		if err != nil {
			return err
		}
		if next.IsZero() {
			return t.del(map[string]any{"uid": uidOf(id)})
		}
		j.Holder, j.LeaseExpiry, j.Due, j.Attempts, j.LastError = "", time.Time{}, fromNanos(nanos(next)), 0, ""
		return t.putJob(j)
	})
}

// RetryJob ends a failed run.
func (c *Catalog) RetryJob(ctx context.Context, id catalog.ID, holder string, at time.Time, msg string) error {
	if err := catalog.CheckTime("retry time", at); err != nil {
		return err
	}
	return c.write(ctx, func(t *tx) error {
		j, err := t.heldJob(id, holder)
		if err != nil {
			return err
		}
		j.Holder, j.LeaseExpiry, j.Attempts, j.LastError = "", time.Time{}, j.Attempts+1, msg
		if at.IsZero() {
			j.Failed = true
		} else {
			j.Due = fromNanos(nanos(at))
		}
		return t.putJob(j)
	})
}

// RenewJob extends a held job's lease.
func (c *Catalog) RenewJob(ctx context.Context, id catalog.ID, holder string, until time.Time) error {
	if err := catalog.CheckJobLease(until); err != nil {
		return fmt.Errorf("renew job %d: %w", id, err)
	}
	return c.write(ctx, func(t *tx) error {
		j, err := t.heldJob(id, holder)
		if err != nil {
			return err
		}
		j.LeaseExpiry = fromNanos(nanos(until))
		return t.putJob(j)
	})
}
