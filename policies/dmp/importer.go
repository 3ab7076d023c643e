package dmp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// RecordKind is the kind of the catalog records that hold imported DMPs
// (catalog.Record, keyed by dmp_id); recordRef is the ref they all carry,
// so that RecordsByRef lists them.
const (
	RecordKind = "dmp"
	recordRef  = "dmp"
)

// Zone is what importing asks of the zone: its operations, as the caller.
type Zone interface {
	Name() string
	MakeCollection(ctx context.Context, caller zones.Principal, p catalog.Path, parents bool) (catalog.Collection, error)
	AddQoS(ctx context.Context, caller zones.Principal, p catalog.Path, expr string, replicas int) (zones.QoSStatus, error)
	// SetMetadataByRule sets an AVU as the zone does: the collections of
	// a DMP's datasets name it in the zone's own attributes.
	SetMetadataByRule(ctx context.Context, p catalog.Path, avu catalog.AVU) error
}

// The zone's attributes on a dataset's collection that name its DMP and
// the version imported (certificates state them).
const (
	AttrDMP         = "arca.dmp"
	AttrDMPModified = "arca.dmp_modified"
)

// Importer imports DMPs into a zone.
type Importer struct {
	Zone       Zone
	Records    catalog.Records
	Vocabulary *Vocabulary
	Validator  *Validator
	// Now is the clock (time.Now if nil), for embargoes.
	Now func() time.Time
}

// ImportOptions are idmp import's flags.
type ImportOptions struct {
	// Datasets maps dataset identifiers to collections (--dataset ID=PATH).
	Datasets map[string]string
	// DryRun says what would change and changes nothing.
	DryRun bool
}

// Result is what an import did, or with DryRun would do.
type Result struct {
	DMP      string        `json:"dmp"`
	Title    string        `json:"title"`
	Modified time.Time     `json:"modified"`
	Previous *time.Time    `json:"previous,omitempty"` // the stored version's modified, when it replaces one
	Datasets []DatasetPlan `json:"datasets"`
	DryRun   bool          `json:"dry_run"`
}

// Import reads, checks and maps a DMP and, unless DryRun, stores it (a
// catalog record keyed by its dmp_id: a newer modified replaces it, an
// older or the same is refused), makes each dataset's collection and puts
// its requirements on it. Requirements already there are kept.
func (im *Importer) Import(ctx context.Context, caller zones.Principal, r io.Reader, o ImportOptions) (Result, error) {
	d, err := im.Validator.Parse(r)
	if err != nil {
		return Result{}, err
	}
	now := time.Now
	if im.Now != nil {
		now = im.Now
	}
	plans, err := im.Vocabulary.Plan(d, im.Zone.Name(), o.Datasets, now().UTC().Format("2006-01-02"))
	if err != nil {
		return Result{}, err
	}
	res := Result{DMP: d.ID, Title: d.Title, Modified: d.Modified, Datasets: plans, DryRun: o.DryRun}
	old, err := im.Records.Record(ctx, RecordKind, d.ID)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
	case err != nil:
		return Result{}, err
	default:
		prev, perr := storedModified(old.Doc)
		if perr != nil {
			return Result{}, fmt.Errorf("stored dmp %s: %w", d.ID, perr)
		}
		if !d.Modified.After(prev) {
			return Result{}, fieldErr("/dmp/modified", "%s is not newer than the imported version's %s: an older or the same DMP is refused",
				d.Modified.Format(time.RFC3339Nano), prev.Format(time.RFC3339Nano))
		}
		res.Previous = &prev
	}
	if o.DryRun {
		return res, nil
	}
	// Collections and requirements first: a failure leaves the DMP
	// unrecorded, so that importing it again does it all.
	for _, p := range plans {
		coll := catalog.MustPath(p.Collection)
		if _, err := im.Zone.MakeCollection(ctx, caller, coll, true); err != nil && !errors.Is(err, catalog.ErrExists) {
			return Result{}, fmt.Errorf("dataset %s: %w", p.Dataset, err)
		}
		for _, req := range p.Requirements {
			if _, err := im.Zone.AddQoS(ctx, caller, coll, req.Expression, req.Replicas); err != nil && !errors.Is(err, catalog.ErrExists) {
				return Result{}, fmt.Errorf("dataset %s, %s: %w", p.Dataset, req.From, err)
			}
		}
	}
	rec := catalog.Record{Kind: RecordKind, Key: d.ID, Ref: recordRef, Owner: caller.UserID(), Doc: d.Raw}
	if res.Previous == nil {
		_, err = im.Records.CreateRecord(ctx, rec)
	} else {
		rec.Version = old.Version
		_, err = im.Records.UpdateRecord(ctx, rec)
	}
	if err != nil {
		return Result{}, fmt.Errorf("store dmp %s: %w", d.ID, err)
	}
	for _, p := range plans {
		coll := catalog.MustPath(p.Collection)
		for _, a := range []catalog.AVU{{Attribute: AttrDMP, Value: d.ID}, {Attribute: AttrDMPModified, Value: d.Modified.UTC().Format(time.RFC3339)}} {
			if err := im.Zone.SetMetadataByRule(ctx, coll, a); err != nil {
				return Result{}, fmt.Errorf("dataset %s: name its DMP on %s: %w", p.Dataset, coll, err)
			}
		}
	}
	return res, nil
}

// Summary is idmp ls's line of one stored DMP.
type Summary struct {
	DMP      string    `json:"dmp"`
	Title    string    `json:"title"`
	Modified time.Time `json:"modified"`
	Datasets int       `json:"datasets"`
	Version  int64     `json:"version"`
	Owner    string    `json:"owner"`
}

// List returns the stored DMPs.
func (im *Importer) List(ctx context.Context) ([]Summary, error) {
	recs, err := im.Records.RecordsByRef(ctx, RecordKind, []string{recordRef})
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(recs))
	for _, rec := range recs {
		var doc raw
		if err := json.Unmarshal(rec.Doc, &doc); err != nil {
			return nil, fmt.Errorf("stored dmp %s: %w", rec.Key, err)
		}
		m, _ := parseTime(doc.DMP.Modified)
		out = append(out, Summary{DMP: rec.Key, Title: doc.DMP.Title, Modified: m, Datasets: len(doc.DMP.Dataset),
			Version: rec.Version, Owner: rec.Owner.String()})
	}
	return out, nil
}

// Show returns a stored DMP as it was imported.
func (im *Importer) Show(ctx context.Context, id string) (json.RawMessage, error) {
	rec, err := im.Records.Record(ctx, RecordKind, id)
	if err != nil {
		return nil, fmt.Errorf("dmp %s: %w", id, err)
	}
	return rec.Doc, nil
}

func storedModified(doc []byte) (time.Time, error) {
	var d raw
	if err := json.Unmarshal(doc, &d); err != nil {
		return time.Time{}, err
	}
	return parseTime(d.DMP.Modified)
}
