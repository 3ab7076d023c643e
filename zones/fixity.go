package zones

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
)

// Fixity checks (PREMIS 3 "fixity check" events): the bytes of a replica
// are read from storage (a tape replica through its recall) and their
// SHA-256 compared with the catalog's. Each check is kept as the replica's
// last check (a catalog record, FixityKind) and recorded as a PREMIS
// event in the object's provenance chain, which iprov shows; a replica
// that fails is marked stale, so that it is never served, and with Repair
// refreshed from a good one.

// FixityKind is the kind of the catalog records of fixity checks, one per
// check, never changed (written in batches, the history of each replica's
// checks): key "object:ID/N/TIME" (replica N, TIME in base 36 Unix
// nanoseconds), ref "object:ID", document a FixityCheck as JSON.
// policies/certificates reads them (LastFixity).
const FixityKind = "fixity"

// Fixity outcomes, PREMIS eventOutcome.
const (
	FixityPass       = "pass"
	FixityFail       = "fail"
	FixityUnreadable = "unreadable" // not read: the check is to be done again
)

// FixityCheck is one check of one replica.
type FixityCheck struct {
	Object   catalog.ID `json:"object"`
	Path     string     `json:"path"`
	Replica  int        `json:"replica"`
	Resource string     `json:"resource"`
	Time     time.Time  `json:"time"`
	Outcome  string     `json:"outcome"`
	Detail   string     `json:"detail,omitempty"`
	Agent    string     `json:"agent"`
	// Repair says what was done about a failed replica.
	Repair string `json:"repair,omitempty"`
}

// FixityRequest asks for the fixity of the objects at or below Path.
type FixityRequest struct {
	Path catalog.Path
	// MaxAge: replicas checked more recently are left alone (0: check
	// every replica).
	MaxAge time.Duration
	// Repair refreshes a failed replica from a good one.
	Repair bool
}

// fixityBatch is how many objects' last checks are read at once.
const fixityBatch = 500

// FixityKey names replica n of object id in the map LastFixity returns.
func FixityKey(id catalog.ID, n int) string {
	return fixityRef(id) + "/" + strconv.Itoa(n)
}

// LastFixity returns the last check of each replica of the objects ids
// that has one, by FixityKey, from the records in recs (of FixityKind).
func LastFixity(recs []catalog.Record) map[string]FixityCheck {
	out := map[string]FixityCheck{}
	for _, r := range recs {
		var c FixityCheck
		if json.Unmarshal(r.Doc, &c) != nil {
			continue
		}
		k := FixityKey(c.Object, c.Replica)
		if prev, ok := out[k]; !ok || c.Time.After(prev.Time) {
			out[k] = c
		}
	}
	return out
}

func fixityRef(id catalog.ID) string {
	return catalog.SubjectObject + ":" + strconv.FormatInt(int64(id), 10)
}

// CheckFixity checks the good replicas of the data object at req.Path, or
// of every one below the collection, whose last check is older than
// req.MaxAge, and reports each check.
func (z *Zone) CheckFixity(ctx context.Context, caller Principal, req FixityRequest, report func(FixityCheck) error) error {
	return z.do(ctx, &Op{Name: OpFixityCheck, Caller: caller, Path: req.Path, Recursive: true}, func(ctx context.Context) error {
		var batch []catalog.DataObject
		flush := func() error {
			err := z.fixityBatch(ctx, caller, batch, req, report)
			batch = batch[:0]
			return err
		}
		err := z.eachObjectAt(ctx, caller, req.Path, true, catalog.AccessRead, func(o catalog.DataObject) error {
			batch = append(batch, o)
			if len(batch) == fixityBatch {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	})
}

func (z *Zone) fixityBatch(ctx context.Context, caller Principal, objs []catalog.DataObject, req FixityRequest, report func(FixityCheck) error) error {
	if len(objs) == 0 {
		return nil
	}
	ids := make([]catalog.ID, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
	}
	last, err := z.lastFixity(ctx, ids)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	agent := caller.UserID().String()
	var checks []FixityCheck
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return err
		}
		failed := false
		for _, rep := range o.Good() {
			if c, ok := last[FixityKey(o.ID, rep.Number)]; ok && req.MaxAge > 0 && c.Outcome == FixityPass && now.Sub(c.Time) < req.MaxAge {
				continue
			}
			c := z.checkReplica(ctx, o, rep)
			c.Time, c.Agent = now, agent
			if c.Outcome == FixityFail {
				c.Detail += z.markBad(ctx, rep)
				failed = true
			}
			checks = append(checks, c)
		}
		if failed && req.Repair {
			repair := z.repairObject(ctx, o.ID)
			for i := range checks {
				if checks[i].Object == o.ID && checks[i].Outcome == FixityFail {
					checks[i].Repair = repair
				}
			}
		}
	}
	if err := z.recordFixity(ctx, checks); err != nil {
		return err
	}
	for _, c := range checks {
		if err := report(c); err != nil {
			return err
		}
	}
	return nil
}

// lastFixity returns the records of the last checks of the replicas of
// the objects ids, by key.
func (z *Zone) lastFixity(ctx context.Context, ids []catalog.ID) (map[string]FixityCheck, error) {
	refs := make([]string, len(ids))
	for i, id := range ids {
		refs[i] = fixityRef(id)
	}
	var all []catalog.Record
	for chunk := range slices.Chunk(refs, catalog.MaxProvBatch) {
		recs, err := z.cat.RecordsByRef(ctx, FixityKind, chunk)
		if err != nil {
			return nil, fmt.Errorf("fixity: last checks: %w", err)
		}
		all = append(all, recs...)
	}
	return LastFixity(all), nil
}

// recordChecksums records the checks of ichksum -K as fixity checks.
func (z *Zone) recordChecksums(ctx context.Context, caller Principal, obj catalog.DataObject, checks []FixityCheck) {
	now := time.Now().UTC()
	for i := range checks {
		checks[i].Object, checks[i].Path, checks[i].Time, checks[i].Agent = obj.ID, obj.Path.String(), now, caller.UserID().String()
	}
	if err := z.recordFixity(ctx, checks); err != nil {
		z.log.Warn("record the fixity checks of a checksum verification", "path", obj.Path.String(), "err", err)
	}
}

// checkReplica reads rep from storage and compares it with the catalog.
func (z *Zone) checkReplica(ctx context.Context, o catalog.DataObject, rep catalog.Replica) FixityCheck {
	c := FixityCheck{Object: o.ID, Path: o.Path.String(), Replica: rep.Number, Resource: rep.Resource}
	resc, _, err := z.resource(ctx, rep.Resource)
	if err != nil {
		c.Outcome, c.Detail = FixityUnreadable, err.Error()
		return c
	}
	st, err := resc.Stat(ctx, rep.PhysicalPath)
	switch {
	case errors.Is(err, resources.ErrNotFound):
		c.Outcome, c.Detail = FixityFail, "the replica's file is missing from storage"
		return c
	case err != nil:
		c.Outcome, c.Detail = FixityUnreadable, err.Error()
		return c
	case st.Size != rep.Size:
		c.Outcome, c.Detail = FixityFail, fmt.Sprintf("size %d in storage, %d in the catalog", st.Size, rep.Size)
		return c
	}
	sum, err := resc.Checksum(ctx, rep.PhysicalPath)
	switch {
	case errors.Is(err, resources.ErrCorrupt):
		c.Outcome, c.Detail = FixityFail, err.Error()
	case err != nil:
		c.Outcome, c.Detail = FixityUnreadable, err.Error()
	case sum != rep.Checksum:
		c.Outcome, c.Detail = FixityFail, fmt.Sprintf("SHA-256 %s in storage, %s in the catalog", sum, rep.Checksum)
	default:
		c.Outcome = FixityPass
	}
	return c
}

// repairObject refreshes the stale replicas of an object from a good one.
func (z *Zone) repairObject(ctx context.Context, id catalog.ID) string {
	t, err := z.loadTree(ctx)
	if err != nil {
		return "not repaired: " + err.Error()
	}
	obj, err := z.cat.DataObjectByID(ctx, id)
	if err != nil {
		return "not repaired: " + err.Error()
	}
	ch := z.replicateOne(ctx, t, obj, nil, ReplicateRequest{Path: obj.Path, UpdateStale: true})
	switch {
	case ch.Err != nil:
		return "could not refresh from a good replica: " + ch.Err.Error()
	case ch.Action == "unchanged":
		return "no good replica left to repair from"
	}
	return "refreshed from a good replica"
}

// recordFixity keeps each check (a record of FixityKind) and appends it to
// the object's provenance chain as a PREMIS fixity check event, both in
// batches.
func (z *Zone) recordFixity(ctx context.Context, checks []FixityCheck) error {
	if len(checks) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	var (
		events []catalog.ProvRecord
		recs   []catalog.Record
	)
	for _, c := range checks {
		doc, err := json.Marshal(c)
		if err != nil {
			return err
		}
		key := FixityKey(c.Object, c.Replica) + "/" + strconv.FormatInt(c.Time.UnixNano(), 36)
		recs = append(recs, catalog.Record{Kind: FixityKind, Key: key, Ref: fixityRef(c.Object), Owner: catalog.UserID{Name: DefaultAdmin, Zone: z.name}, Doc: doc})
		attrs := map[string]string{
			"premis:eventType":              "fixity check",
			"premis:eventOutcome":           c.Outcome,
			"premis:messageDigestAlgorithm": "SHA-256",
			"replica":                       strconv.Itoa(c.Replica),
			"resource":                      c.Resource,
		}
		if c.Detail != "" {
			attrs["premis:eventOutcomeDetail"] = truncateName(c.Detail, catalog.MaxProvText)
		}
		if c.Repair != "" {
			attrs["repair"] = truncateName(c.Repair, catalog.MaxProvText)
		}
		events = append(events, catalog.ProvRecord{
			Subject:  catalog.ProvSubject{Kind: catalog.SubjectObject, ID: c.Object},
			Activity: "fixity-" + strconv.FormatInt(int64(c.Object), 10) + "-" + strconv.Itoa(c.Replica) + "-" + strconv.FormatInt(c.Time.UnixNano(), 36),
			Op:       string(OpFixityCheck), Path: c.Path, Agent: c.Agent,
			Start: c.Time, End: c.Time, Attributes: attrs,
		})
	}
	for chunk := range slices.Chunk(recs, catalog.MaxRecordsBatch) {
		if _, err := z.cat.CreateRecords(ctx, chunk, nil); err != nil {
			return fmt.Errorf("fixity: keep the checks: %w", err)
		}
	}
	for chunk := range slices.Chunk(events, catalog.MaxProvBatch) {
		if _, err := z.cat.AppendProvenance(ctx, chunk); err != nil {
			return fmt.Errorf("fixity: record the PREMIS events: %w", err)
		}
	}
	return nil
}
