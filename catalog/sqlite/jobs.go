package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
)

const jobCols = `id, job_key, rule, path, owner_name, owner_zone, every, due_ns, work, state, attempts, last_error, failed, holder, lease_ns, create_ns`

func scanJob(s interface{ Scan(...any) error }) (catalog.Job, error) {
	var (
		j                   catalog.Job
		key                 sql.NullString
		due, lease, created int64
		failed              int
	)
	err := s.Scan(&j.ID, &key, &j.Rule, &j.Path, &j.Owner.Name, &j.Owner.Zone, &j.Every, &due, &j.Work, &j.State, &j.Attempts, &j.LastError, &failed, &j.Holder, &lease, &created)
	j.Key, j.Failed = key.String, failed == 1
	j.Due, j.LeaseExpiry, j.CreateTime = fromNanos(due), fromNanos(lease), fromNanos(created)
	return j, err
}

// AddJob stores a job.
func (c *Catalog) AddJob(ctx context.Context, j catalog.Job) (catalog.Job, error) {
	fail := func(err error) (catalog.Job, error) {
		return catalog.Job{}, fmt.Errorf("add job of rule %s: %w", j.Rule, err)
	}
	if err := j.Validate(); err != nil {
		return fail(err)
	}
	var key any
	if j.Key != "" {
		key = j.Key
	}
	err := c.write(ctx, func(w *wtx) error {
		t, n := now()
		if j.Path != "" {
			// The job replaces the pending one of its rule and path.
			// "path <> ''" lets SQLite use the partial index jobs_pending:
			// it cannot know that a bound path is not empty, and without it
			// scanned every live job of the rule.
			if _, err := w.exec(`DELETE FROM jobs WHERE rule = ? AND path = ? AND path <> '' AND failed = 0 AND holder = ''`, j.Rule, j.Path); err != nil {
				return err
			}
		}
		if j.MaxPending > 0 {
			var live int
			if err := w.queryRow(`SELECT coalesce((SELECT n FROM job_live WHERE rule = ?), 0)`, j.Rule).Scan(&live); err != nil {
				return err
			}
			if live >= j.MaxPending {
				return fmt.Errorf("%w: rule %s has %d live jobs, its limit", catalog.ErrQuotaExceeded, j.Rule, live)
			}
		}
		res, err := w.exec(`INSERT INTO jobs (job_key, rule, path, owner_name, owner_zone, every, due_ns, work, state, create_ns)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, key, j.Rule, j.Path, j.Owner.Name, j.Owner.Zone, j.Every, nanos(j.Due), j.Work, j.State, n)
		if err != nil {
			return mapErr("insert", err)
		}
		id, err := res.LastInsertId()
		j.ID, j.CreateTime, j.Attempts, j.Holder, j.LeaseExpiry, j.Failed, j.LastError = catalog.ID(id), t, 0, "", time.Time{}, false, ""
		j.MaxPending = 0
		return err
	})
	if err != nil {
		return fail(err)
	}
	return j, nil
}

// Job returns one job.
func (c *Catalog) Job(ctx context.Context, id catalog.ID) (catalog.Job, error) {
	var j catalog.Job
	err := c.read(ctx, func(q *rtx) error {
		var err error
		j, err = scanJob(q.queryRow(`SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("job %d: %w", id, catalog.ErrNotFound)
		}
		return err
	})
	return j, err
}

// ListJobs returns jobs by ID.
func (c *Catalog) ListJobs(ctx context.Context, after catalog.ID, limit int) ([]catalog.Job, error) {
	if err := catalog.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	var out []catalog.Job
	err := c.read(ctx, func(q *rtx) error {
		rows, err := q.query(`SELECT `+jobCols+` FROM jobs WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			j, err := scanJob(rows)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return out, nil
}

// RemoveJob deletes a job.
func (c *Catalog) RemoveJob(ctx context.Context, id catalog.ID) error {
	return c.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM jobs WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("remove job %d: %w", id, catalog.ErrNotFound)
		}
		return nil
	})
}

// CancelJobs deletes the pending jobs f selects.
func (c *Catalog) CancelJobs(ctx context.Context, f catalog.JobFilter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, fmt.Errorf("cancel jobs: %w", err)
	}
	cond := []string{`failed = 0`, `(holder = '' OR lease_ns <= ?)`}
	_, n := now()
	args := []any{n}
	if f.Rule != "" {
		cond = append(cond, `rule = ?`)
		args = append(args, f.Rule)
	}
	switch {
	case f.Path == "":
	case f.Below && f.Path == "/":
		cond = append(cond, `path <> ''`)
	case f.Below:
		// Below p: from "p/" up to "p0", '0' coming right after '/'.
		cond = append(cond, `(path = ? OR (path > ? AND path < ?))`)
		args = append(args, f.Path, f.Path+"/", f.Path+"0")
	default:
		cond = append(cond, `path = ?`)
		args = append(args, f.Path)
	}
	var cancelled int64
	err := c.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM jobs WHERE `+strings.Join(cond, " AND "), args...)
		if err != nil {
			return err
		}
		cancelled, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cancel jobs: %w", err)
	}
	return int(cancelled), nil
}

// SaveJobState records the progress of a held job's run.
func (c *Catalog) SaveJobState(ctx context.Context, id catalog.ID, holder string, state []byte) error {
	return c.write(ctx, func(w *wtx) error {
		if err := heldBy(w, id, holder); err != nil {
			return err
		}
		_, err := w.exec(`UPDATE jobs SET state = ? WHERE id = ?`, state, id)
		return err
	})
}

// release makes the held job id pending again with the assignments set
// (SQL with its args), unless another job of its rule and path is pending:
// that one replaced it, and this one is deleted.
func release(w *wtx, id catalog.ID, set string, args ...any) error {
	var replaced bool
	err := w.queryRow(`SELECT EXISTS (SELECT 1 FROM jobs o, jobs j WHERE j.id = ? AND j.path <> ''
		AND o.rule = j.rule AND o.path = j.path AND o.id <> j.id AND o.failed = 0 AND o.holder = '')`, id).Scan(&replaced)
	if err != nil {
		return err
	}
	if replaced {
		_, err := w.exec(`DELETE FROM jobs WHERE id = ?`, id)
		return err
	}
	_, err = w.exec(`UPDATE jobs SET `+set+` WHERE id = ?`, append(args, id)...)
	return err
}

// ClaimJobs claims due jobs in one write transaction.
func (c *Catalog) ClaimJobs(ctx context.Context, holder string, at time.Time, lease time.Duration, limit int) ([]catalog.Job, error) {
	if err := catalog.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	if err := catalog.CheckJobClaim(holder, lease); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	var out []catalog.Job
	err := c.write(ctx, func(w *wtx) error {
		out = out[:0]
		rows, err := w.query(`SELECT `+jobCols+` FROM jobs WHERE failed = 0 AND due_ns <= ? AND (holder = '' OR lease_ns <= ?)
			ORDER BY due_ns, id LIMIT ?`, nanos(at), nanos(at), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			j, err := scanJob(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		until := at.Add(lease)
		for i := range out {
			if _, err := w.exec(`UPDATE jobs SET holder = ?, lease_ns = ? WHERE id = ?`, holder, nanos(until), out[i].ID); err != nil {
				return err
			}
			out[i].Holder, out[i].LeaseExpiry = holder, until.UTC()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	return out, nil
}

// heldBy checks that holder holds job id.
func heldBy(w *wtx, id catalog.ID, holder string) error {
	var h string
	err := w.queryRow(`SELECT holder FROM jobs WHERE id = ?`, id).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("job %d: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if h != holder {
		return fmt.Errorf("job %d: %w: held by %q, not %q", id, catalog.ErrLocked, h, holder)
	}
	return nil
}

// FinishJob ends a successful run.
func (c *Catalog) FinishJob(ctx context.Context, id catalog.ID, holder string, next time.Time) error {
	if err := catalog.CheckTime("next run", next); err != nil {
		return err
	}
	return c.write(ctx, func(w *wtx) error {
		if err := heldBy(w, id, holder); err != nil {
			return err
		}
		if next.IsZero() {
			_, err := w.exec(`DELETE FROM jobs WHERE id = ?`, id)
			return err
		}
		return release(w, id, `holder = '', lease_ns = 0, due_ns = ?, attempts = 0, last_error = '', state = NULL`, nanos(next))
	})
}

// RenewJob extends a held job's lease.
func (c *Catalog) RenewJob(ctx context.Context, id catalog.ID, holder string, until time.Time) error {
	if err := catalog.CheckJobLease(until); err != nil {
		return fmt.Errorf("renew job %d: %w", id, err)
	}
	return c.write(ctx, func(w *wtx) error {
		if err := heldBy(w, id, holder); err != nil {
			return err
		}
		_, err := w.exec(`UPDATE jobs SET lease_ns = ? WHERE id = ?`, nanos(until), id)
		return err
	})
}

// RetryJob ends a failed run.
func (c *Catalog) RetryJob(ctx context.Context, id catalog.ID, holder string, at time.Time, msg string) error {
	if err := catalog.CheckTime("retry time", at); err != nil {
		return err
	}
	return c.write(ctx, func(w *wtx) error {
		if err := heldBy(w, id, holder); err != nil {
			return err
		}
		if !at.IsZero() {
			return release(w, id, `holder = '', lease_ns = 0, due_ns = ?, attempts = attempts + 1, last_error = ?`, nanos(at), msg)
		}
		_, err := w.exec(`UPDATE jobs SET holder = '', lease_ns = 0, attempts = attempts + 1, last_error = ?, failed = 1 WHERE id = ?`, msg, id)
		return err
	})
}
