package dgraph

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/arca-data/arca/catalog"
)

// Jobs are nodes of kind "job" holding the job as a JSON document (doc),
// with beside it what the queue looks jobs up by, each indexed:
//
//	jkey   the job's Key (unique, @upsert)
//	jrule  its rule
//	jpath  its path, if any
//	jdue   while it is not failed: when it may be claimed (its due time,
//	       or, while held, the end of its lease), so that a claim reads
//	       only claimable jobs
//	jpend  while it is pending (not held, not failed) and has a path: a
//	       digest of rule and path, @upsert, so that two transactions
//	       adding a pending job of one rule and path conflict

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

// pendingKey is the jpend value of a pending job of rule on path.
func pendingKey(rule, path string) string {
	h := sha256.Sum256([]byte(rule + "\x00" + path))
	return hex.EncodeToString(h[:])
}

// jobs runs q, a query of a block n of job nodes (uid, doc), and returns
// the jobs by ID.
func (t *tx) jobs(q string, vars map[string]string) ([]catalog.Job, error) {
	var out struct {
		N []jobNode `json:"n"`
	}
	if err := t.query(q, vars, &out); err != nil {
		return nil, err
	}
	js := make([]catalog.Job, 0, len(out.N))
	for _, n := range out.N {
		j, err := n.job()
		if err != nil {
			return nil, err
		}
		js = append(js, j)
	}
	slices.SortFunc(js, func(a, b catalog.Job) int { return cmp.Compare(a.ID, b.ID) })
	return js, nil
}

func (t *tx) job(id catalog.ID) (catalog.Job, error) {
	uid := uidOf(id)
	if uid != "" {
		js, err := t.jobs(`query q($u: string) { n(func: uid($u)) @filter(eq(P.kind, "job")) { uid doc: P.doc } }`,
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

// jobPreds are the predicates of j beside its kind, set (values) or
// absent (nil).
func (c *Catalog) jobPreds(j catalog.Job) (map[string]any, error) {
	j.MaxPending = 0
	doc, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	m := map[string]any{c.p("doc"): string(doc), c.p("jrule"): j.Rule, c.p("jpath"): nil, c.p("jdue"): nil, c.p("jpend"): nil}
	if j.Path != "" {
		m[c.p("jpath")] = j.Path
	}
	if !j.Failed {
		claimable := j.Due
		if j.Holder != "" {
			claimable = j.LeaseExpiry
		}
		m[c.p("jdue")] = nanos(claimable)
		if j.Holder == "" && j.Path != "" {
			m[c.p("jpend")] = pendingKey(j.Rule, j.Path)
		}
	}
	return m, nil
}

// putJob writes the stored job j, as it now is.
func (t *tx) putJob(j catalog.Job) error {
	m, err := t.c.jobPreds(j)
	if err != nil {
		return err
	}
	uid := uidOf(j.ID)
	set, del := map[string]any{"uid": uid}, map[string]any{"uid": uid}
	for k, v := range m {
		if v == nil {
			del[k] = nil
		} else {
			set[k] = v
		}
	}
	if len(del) > 1 {
		if err := t.del(del); err != nil {
			return err
		}
	}
	return t.set(set)
}

// pendingOf returns the pending job of rule on path, if there is one.
func (t *tx) pendingOf(rule, path string) ([]catalog.Job, error) {
	return t.jobs(`query q($k: string) { n(func: eq(P.jpend, $k)) @filter(eq(P.kind, "job")) { uid doc: P.doc } }`,
		map[string]string{"$k": pendingKey(rule, path)})
}

// AddJob stores j.
func (c *Catalog) AddJob(ctx context.Context, j catalog.Job) (catalog.Job, error) {
	fail := func(err error) (catalog.Job, error) {
		return catalog.Job{}, fmt.Errorf("add job of rule %s: %w", j.Rule, err)
	}
	if err := j.Validate(); err != nil {
		return fail(err)
	}
	maxPending := j.MaxPending
	j.Due = fromNanos(nanos(j.Due))
	j.ID, j.Attempts, j.Holder, j.LeaseExpiry, j.Failed, j.LastError, j.MaxPending = 0, 0, "", time.Time{}, false, "", 0
	err := c.write(ctx, func(t *tx) error {
		// The queries below do not see this transaction's deletions: what
		// it replaces is taken off what they find.
		var replaced []catalog.Job
		if j.Path != "" {
			var err error
			if replaced, err = t.pendingOf(j.Rule, j.Path); err != nil {
				return err
			}
			for _, o := range replaced {
				if err := t.del(map[string]any{"uid": uidOf(o.ID)}); err != nil {
					return err
				}
			}
		}
		if j.Key != "" {
			var out struct {
				N []uidOnly `json:"n"`
			}
			if err := t.query(`query q($k: string) { n(func: eq(P.jkey, $k)) @filter(eq(P.kind, "job")) { uid } }`,
				map[string]string{"$k": j.Key}, &out); err != nil {
				return err
			}
			for _, n := range out.N {
				if !slices.ContainsFunc(replaced, func(o catalog.Job) bool { return uidOf(o.ID) == n.UID }) {
					return fmt.Errorf("insert: job key %q: %w", j.Key, catalog.ErrExists)
				}
			}
		}
		if maxPending > 0 {
			var out struct {
				N []struct {
					Count int `json:"count"`
				} `json:"n"`
			}
			if err := t.query(`query q($r: string) { n(func: eq(P.jrule, $r)) @filter(has(P.jdue)) { count(uid) } }`,
				map[string]string{"$r": j.Rule}, &out); err != nil {
				return err
			}
			live := -len(replaced)
			if len(out.N) > 0 {
				live += out.N[0].Count
			}
			if live >= maxPending {
				return fmt.Errorf("%w: rule %s has %d live jobs, its limit", catalog.ErrQuotaExceeded, j.Rule, live)
			}
		}
		j.CreateTime = fromNanos(nowNS())
		m, err := c.jobPreds(j)
		if err != nil {
			return err
		}
		for k, v := range m {
			if v == nil {
				delete(m, k)
			}
		}
		m[c.p("kind")] = "job"
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
	err := c.read(ctx, func(t *tx) (err error) {
		// Results of a root function come in uid order, which is ID order.
		page := `first: ` + strconv.Itoa(limit)
		if after > 0 {
			page += `, after: ` + uidOf(after)
		}
		out, err = t.jobs(`{ n(func: eq(P.kind, "job"), `+page+`) { uid doc: P.doc } }`, nil)
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

// CancelJobs deletes the pending jobs f selects.
func (c *Catalog) CancelJobs(ctx context.Context, f catalog.JobFilter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, fmt.Errorf("cancel jobs: %w", err)
	}
	var n int
	err := c.write(ctx, func(t *tx) error {
		n = 0
		var (
			q    string
			vars = map[string]string{}
		)
		switch {
		case f.Path != "" && f.Below && f.Path == "/":
			q = `{ n(func: has(P.jpath)) @filter(eq(P.kind, "job")) { uid doc: P.doc } }`
		case f.Path != "" && f.Below:
			// Below p: from "p/" up to "p0", '0' coming right after '/'.
			q = `query q($p: string, $lo: string, $hi: string) {
				n(func: eq(P.jpath, $p)) @filter(eq(P.kind, "job")) { uid doc: P.doc }
				m(func: gt(P.jpath, $lo)) @filter(lt(P.jpath, $hi) AND eq(P.kind, "job")) { uid doc: P.doc } }`
			vars["$p"], vars["$lo"], vars["$hi"] = f.Path, f.Path+"/", f.Path+"0"
		case f.Path != "":
			q = `query q($p: string) { n(func: eq(P.jpath, $p)) @filter(eq(P.kind, "job")) { uid doc: P.doc } }`
			vars["$p"] = f.Path
		default:
			q = `query q($r: string) { n(func: eq(P.jrule, $r)) @filter(eq(P.kind, "job")) { uid doc: P.doc } }`
			vars["$r"] = f.Rule
		}
		var out struct {
			N []jobNode `json:"n"`
			M []jobNode `json:"m"`
		}
		if err := t.query(q, vars, &out); err != nil {
			return err
		}
		now := time.Now()
		for _, node := range append(out.N, out.M...) {
			j, err := node.job()
			if err != nil {
				return err
			}
			if j.Failed || j.Holder != "" && j.LeaseExpiry.After(now) || f.Rule != "" && j.Rule != f.Rule {
				continue
			}
			if err := t.del(map[string]any{"uid": node.UID}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cancel jobs: %w", err)
	}
	return n, nil
}

// SaveJobState records the progress of a held job's run.
func (c *Catalog) SaveJobState(ctx context.Context, id catalog.ID, holder string, state []byte) error {
	return c.write(ctx, func(t *tx) error {
		j, err := t.heldJob(id, holder)
		if err != nil {
			return err
		}
		j.State = state
		return t.putJob(j)
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
		var err error
		out, err = t.jobs(`query q($now: int, $n: int) {
			n(func: le(P.jdue, $now), orderasc: P.jdue, first: $n) @filter(eq(P.kind, "job")) { uid doc: P.doc } }`,
			map[string]string{"$now": strconv.FormatInt(nanos(at), 10), "$n": strconv.Itoa(limit)})
		if err != nil {
			return err
		}
		slices.SortFunc(out, func(a, b catalog.Job) int { return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID)) })
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

// release makes the held job j pending again, as changed, unless another
// job of its rule and path is pending: that one replaced it, and j is
// deleted.
func (t *tx) release(j catalog.Job) error {
	j.Holder, j.LeaseExpiry = "", time.Time{}
	if j.Path != "" && !j.Failed {
		others, err := t.pendingOf(j.Rule, j.Path)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(others, func(o catalog.Job) bool { return o.ID != j.ID }) {
			return t.del(map[string]any{"uid": uidOf(j.ID)})
		}
	}
	return t.putJob(j)
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
		j.Due, j.Attempts, j.LastError, j.State = fromNanos(nanos(next)), 0, "", nil
		return t.release(j)
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
		j.Attempts, j.LastError = j.Attempts+1, msg
		if at.IsZero() {
			j.Failed = true
		} else {
			j.Due = fromNanos(nanos(at))
		}
		return t.release(j)
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

// indexJobs gives the jobs of a catalog made before jobs had their index
// predicates (jrule, jdue, ...) those predicates.
func (c *Catalog) indexJobs(ctx context.Context) error {
	for {
		n := 0
		err := c.write(ctx, func(t *tx) error {
			js, err := t.jobs(`{ n(func: eq(P.kind, "job"), first: 500) @filter(NOT has(P.jrule)) { uid doc: P.doc } }`, nil)
			n = len(js)
			for _, j := range js {
				if err := t.putJob(j); err != nil {
					return err
				}
			}
			return err
		})
		if err != nil || n < 500 {
			return err
		}
	}
}
