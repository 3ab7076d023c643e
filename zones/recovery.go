package zones

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/compose"
)

// ResolveExpired removes intermediate replicas whose lease has ended: their
// writer died (a crashed server, a lost client) without committing or
// aborting. Their bytes were never acknowledged to anyone, so the partial
// file goes too. It returns how many it resolved.
func (z *Zone) ResolveExpired(ctx context.Context) (int, error) {
	n := 0
	for {
		reps, err := z.cat.ExpiredReplicas(ctx, time.Now(), 500)
		if err != nil {
			return n, fmt.Errorf("list expired replicas: %w", err)
		}
		progressed := false
		for _, r := range reps {
			removed, err := z.cat.ResolveExpired(ctx, r.ObjectID, r.Number, time.Now())
			if errors.Is(err, catalog.ErrLocked) || errors.Is(err, catalog.ErrNotFound) {
				continue // renewed or finished meanwhile
			}
			if err != nil {
				return n, fmt.Errorf("resolve replica %d of object %d: %w", r.Number, r.ObjectID, err)
			}
			progressed = true
			n++
			z.log.Info("resolved an intermediate replica whose lease ended",
				"resource", removed.Resource, "physical_path", removed.PhysicalPath, "holder", removed.LockHolder)
			z.removeBytes(ctx, []catalog.Replica{removed})
		}
		if len(reps) < 500 || !progressed {
			return n, nil
		}
	}
}

// Orphan is a file in a vault that no replica in the catalog points to.
type Orphan struct {
	Resource string
	Info     resources.Info
}

// FindOrphans walks every resource and returns the files that no replica
// references. The vault is listed before the catalog is read, and a replica
// is registered before its file is created, so a file being written is never
// taken for an orphan.
func (z *Zone) FindOrphans(ctx context.Context) ([]Orphan, error) {
	rescs, err := z.cat.ListResources(ctx)
	if err != nil {
		return nil, err
	}
	var orphans []Orphan
	for _, rec := range rescs {
		if !compose.IsStorageType(rec.Type) {
			continue // coordinating resources hold no files
		}
		resc, _, err := z.resource(ctx, rec.Name)
		if err != nil {
			z.log.Warn("orphan scan skips a resource", "resource", rec.Name, "err", err)
			continue
		}
		var files []resources.Info
		if err := resc.Walk(ctx, func(i resources.Info) error {
			files = append(files, i)
			return nil
		}); err != nil {
			return orphans, fmt.Errorf("walk %s: %w", rec.Name, err)
		}
		known := map[string]bool{}
		if err := z.cat.ReplicasOn(ctx, rec.Name, func(r catalog.Replica) error {
			known[r.PhysicalPath] = true
			return nil
		}); err != nil {
			return orphans, fmt.Errorf("replicas on %s: %w", rec.Name, err)
		}
		for _, f := range files {
			if !known[f.Key] {
				orphans = append(orphans, Orphan{Resource: rec.Name, Info: f})
			}
		}
	}
	return orphans, nil
}

// Recover runs at start, before the zone serves: it resolves intermediate
// replicas whose lease ended, and deletes the files of removed replicas
// that the previous run did not (it crashed, or storage refused).
func (z *Zone) Recover(ctx context.Context) error {
	n, err := z.ResolveExpired(ctx)
	if err != nil {
		return err
	}
	deleted, failed, err := z.DeletePending(ctx)
	if err != nil {
		return err
	}
	z.log.Info("recovery done", "resolved_intermediate", n, "deleted_files", deleted, "files_not_deleted", failed)
	return nil
}

// deletionPage is how many pending deletions DeletePending takes at a time,
// and deletionLogged how many failures it logs one by one in a pass.
const (
	deletionPage   = 500
	deletionLogged = 10
)

// DeletePending deletes the files that the catalog recorded when it removed
// their replicas (catalog.Deletions) and forgets them: what a crash between
// a removal's commit and its file deletions left, and what storage refused
// to delete. A file already gone counts as deleted; one of a resource that
// no longer exists is forgotten. Files that cannot be deleted stay
// recorded for the next pass and are logged: the first few one by one, then
// a count. It returns how many files it deleted and how many it could not.
func (z *Zone) DeletePending(ctx context.Context) (deleted, failed int, err error) {
	after := catalog.Deletion{}
	for {
		page, err := z.cat.PendingDeletions(ctx, after, deletionPage)
		if err != nil {
			return deleted, failed, fmt.Errorf("pending deletions: %w", err)
		}
		done := make([]catalog.Deletion, 0, len(page))
		for _, d := range page {
			resc, _, err := z.resource(ctx, d.Resource)
			if errors.Is(err, catalog.ErrNotFound) {
				z.log.Warn("a file of a removed replica is on a resource that no longer exists; forgotten",
					"resource", d.Resource, "physical_path", d.PhysicalPath)
				done = append(done, d)
				continue
			}
			if err == nil {
				err = resc.Remove(ctx, d.PhysicalPath)
			}
			switch {
			case err == nil:
				deleted++
			case errors.Is(err, resources.ErrNotFound):
			default:
				if ctx.Err() != nil {
					return deleted, failed, ctx.Err()
				}
				if failed++; failed <= deletionLogged {
					z.log.Warn("file of a removed replica not deleted; it is tried again later",
						"resource", d.Resource, "physical_path", d.PhysicalPath, "err", err)
				}
				continue
			}
			done = append(done, d)
		}
		if err := z.cat.ForgetDeletions(ctx, done); err != nil {
			return deleted, failed, fmt.Errorf("forget deletions: %w", err)
		}
		if len(page) < deletionPage {
			break
		}
		after = page[len(page)-1]
	}
	if failed > deletionLogged {
		z.log.Warn("files of removed replicas not deleted; they are tried again later", "files", failed)
	}
	return deleted, failed, nil
}

// ReportOrphans logs every orphan file in the vaults. It runs beside
// serving, since walking a large vault takes a while; a file that vanished
// meanwhile (its removal was in flight) is not reported.
func (z *Zone) ReportOrphans(ctx context.Context) {
	orphans, err := z.FindOrphans(ctx)
	if err != nil {
		if ctx.Err() == nil {
			z.log.Warn("orphan scan failed", "err", err)
		}
		return
	}
	reported := 0
	for _, o := range orphans {
		resc, _, err := z.resource(ctx, o.Resource)
		if err != nil {
			continue
		}
		if _, err := resc.Stat(ctx, o.Info.Key); errors.Is(err, resources.ErrNotFound) {
			continue
		}
		reported++
		z.log.Warn("orphan file: no replica in the catalog points to it",
			"resource", o.Resource, "physical_path", o.Info.Key, "size", o.Info.Size, "modified", o.Info.ModTime)
	}
	z.log.Info("orphan scan done", "orphan_files", reported)
}

// expiredSessionRetention is how long an expired session is kept.
const expiredSessionRetention = 24 * time.Hour

// logRemove logs the error of the removal of a file that a failed write
// left: the catalog keeps it for deletion (DeletePending).
func (z *Zone) logRemove(err error, physicalPath string) {
	if err != nil && !errors.Is(err, resources.ErrNotFound) {
		z.log.Warn("file of a failed write not removed; it is deleted again later", "physical_path", physicalPath, "err", err)
	}
}

// deletionRetry is how often RunMaintenance tries again the deletions that
// failed: storage that refused may have come back.
const deletionRetry = 10 * time.Minute

// RunMaintenance resolves expired intermediate replicas and ended sessions
// every interval, and deletes pending files every deletionRetry, until ctx
// ends.
func (z *Zone) RunMaintenance(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	lastDeletions := time.Now() // Recover has just run
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := z.ResolveExpired(ctx); err != nil && ctx.Err() == nil {
				z.log.Warn("resolve expired replicas", "err", err)
			}
			// Expired sessions stay a day, so that their user is told the
			// session expired rather than that it does not exist.
			if _, err := z.cat.RemoveExpiredSessions(ctx, time.Now().Add(-expiredSessionRetention)); err != nil && ctx.Err() == nil {
				z.log.Warn("remove expired sessions", "err", err)
			}
			if time.Since(lastDeletions) >= deletionRetry {
				lastDeletions = time.Now()
				if n, _, err := z.DeletePending(ctx); err != nil && ctx.Err() == nil {
					z.log.Warn("delete the files of removed replicas", "err", err)
				} else if n > 0 {
					z.log.Info("deleted files of removed replicas", "files", n)
				}
			}
		}
	}
}
