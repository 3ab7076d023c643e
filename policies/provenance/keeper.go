package provenance

import (
	"context"
	"errors"
	"fmt"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// listPage is how many entries one catalog listing returns.
const listPage = 1000

// ErrCycle is a derivation that would make something derived from itself.
var ErrCycle = errors.New("derivation cycle")

// Derive records that derived was derived from source (a catalog link),
// refusing one that would close a cycle.
func (r *Recorder) Derive(ctx context.Context, derived, source catalog.Path) error {
	if derived == source {
		return fmt.Errorf("%w: %w: %s cannot be derived from itself", catalog.ErrInvalidArgument, ErrCycle, derived)
	}
	for _, p := range []catalog.Path{derived, source} {
		if _, err := r.cat.Stat(ctx, p); err != nil {
			return err
		}
	}
	if err := r.wouldCycle(ctx, derived, source); err != nil {
		return err
	}
	err := r.cat.AddLink(ctx, catalog.Link{From: derived, Relation: Derived, To: source})
	if errors.Is(err, catalog.ErrExists) {
		return nil
	}
	return err
}

// wouldCycle refuses derived <- source when source is (transitively)
// derived from derived already.
func (r *Recorder) wouldCycle(ctx context.Context, derived, source catalog.Path) error {
	chain, err := r.cat.Chain(ctx, source, Derived, maxChain)
	if err != nil {
		return err
	}
	for _, l := range chain {
		if l.To == derived {
			return fmt.Errorf("%w: %w: %s is derived from %s already, which would make it derived from itself",
				catalog.ErrInvalidArgument, ErrCycle, source, derived)
		}
	}
	return nil
}

// derive is Derive for a copy, which has happened: a link that would close
// a cycle (a copy back onto an ancestor) is left out, as its record says
// where the bytes came from.
func (r *Recorder) derive(ctx context.Context, derived, source catalog.Path) {
	if derived == source || r.wouldCycle(ctx, derived, source) != nil {
		return
	}
	err := r.cat.AddLink(ctx, catalog.Link{From: derived, Relation: Derived, To: source})
	if err != nil && !errors.Is(err, catalog.ErrExists) {
		r.log.Warn("derivation link of a copy not recorded", "from", derived.String(), "to", source.String(), "err", err)
	}
}

// subject is an entry whose records are read, with the path it has now.
type subject struct {
	s    catalog.ProvSubject
	path catalog.Path
}

// walk calls fn with the entry at p and, for a collection, every
// collection and data object below it that may lets through (all when
// may is nil), in pages.
func (r *Recorder) walk(ctx context.Context, p catalog.Path, may zones.AccessFilter, fn func([]subject) error) error {
	e, err := r.cat.Stat(ctx, p)
	if err != nil {
		return err
	}
	if err := fn([]subject{{subjectOf(e), p}}); err != nil || e.Collection == nil {
		return err
	}
	return r.walkBelow(ctx, p, may, fn)
}

func (r *Recorder) walkBelow(ctx context.Context, coll catalog.Path, may zones.AccessFilter, fn func([]subject) error) error {
	for after := ""; ; {
		objs, err := r.cat.ListObjects(ctx, coll, after, listPage)
		if err != nil {
			return err
		}
		page := make([]subject, 0, len(objs))
		for _, o := range objs {
			if may == nil || may(o.Path, o.ACL) {
				page = append(page, subject{catalog.ProvSubject{Kind: catalog.SubjectObject, ID: o.ID}, o.Path})
			}
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if len(objs) < listPage {
			break
		}
		after = objs[len(objs)-1].Path.Name()
	}
	for after := ""; ; {
		colls, err := r.cat.ListCollections(ctx, coll, after, listPage)
		if err != nil {
			return err
		}
		for _, c := range colls {
			if may != nil && !may(c.Path, c.ACL) {
				continue // nothing below a collection one may not read is shown
			}
			if err := fn([]subject{{catalog.ProvSubject{Kind: catalog.SubjectCollection, ID: c.ID}, c.Path}}); err != nil {
				return err
			}
			if err := r.walkBelow(ctx, c.Path, may, fn); err != nil {
				return err
			}
		}
		if len(colls) < listPage {
			break
		}
		after = colls[len(colls)-1].Path.Name()
	}
	return nil
}

// Verify checks the chain of every subject at and below p.
func (r *Recorder) Verify(ctx context.Context, p catalog.Path, may zones.AccessFilter) (zones.ProvVerification, error) {
	var out zones.ProvVerification
	err := r.walk(ctx, p, may, func(page []subject) error {
		for _, s := range page {
			var recs []catalog.ProvRecord
			for after := int64(0); ; {
				more, err := r.cat.ProvenanceOf(ctx, s.s, after, listPage)
				if err != nil {
					return err
				}
				recs = append(recs, more...)
				if len(more) < listPage {
					break
				}
				after = more[len(more)-1].Seq
			}
			head, err := r.cat.ProvenanceHead(ctx, s.s)
			hasHead := err == nil
			if err != nil && !errors.Is(err, catalog.ErrNotFound) {
				return err
			}
			if !hasHead && len(recs) == 0 {
				continue // recorded nothing (made before provenance was kept)
			}
			out.Chains++
			out.Records += len(recs)
			for _, prob := range catalog.VerifyProvChain(s.s, recs, head, hasHead) {
				out.Problems = append(out.Problems, zones.ProvChainProblem{Path: s.path, Subject: s.s, ProvProblem: prob})
			}
		}
		return nil
	})
	return out, err
}
