// Package provenance records W3C PROV provenance for every change a zone
// makes to data, metadata, access and replicas, keeps it in the catalog as
// hash-chained records (catalog.Provenance), and exports it as PROV-JSON,
// PROV-N or Graphviz dot. Derivations (prov:wasDerivedFrom) are links of
// the catalog (catalog.Links), so that the graph queries walk them there.
package provenance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// Derived is the relation of a derivation link: the From end was derived
// from the To end.
const Derived = "prov:wasDerivedFrom"

// maxChain bounds how far a derivation cycle is looked for.
const maxChain = 1000

// Catalog is what the recorder needs of the zone's catalog.
type Catalog interface {
	catalog.Provenance
	catalog.Links
	Stat(ctx context.Context, p catalog.Path) (catalog.Entry, error)
	ListObjects(ctx context.Context, coll catalog.Path, after string, limit int) ([]catalog.DataObject, error)
	ListCollections(ctx context.Context, coll catalog.Path, after string, limit int) ([]catalog.Collection, error)
}

// Recorder is a zones.Hook (and zones.Observer) that records a PROV
// activity for every operation that changes data, metadata, access or
// replicas, and the zones.ProvenanceKeeper that answers iprov.
type Recorder struct {
	cat  Catalog
	zone string
	log  *slog.Logger

	mu      sync.Mutex
	pending map[*zones.Op]*opState
}

// New returns a recorder over cat for zone.
func New(cat Catalog, zone string, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{cat: cat, zone: zone, log: log, pending: map[*zones.Op]*opState{}}
}

var (
	_ zones.Hook             = (*Recorder)(nil)
	_ zones.Observer         = (*Recorder)(nil)
	_ zones.ProvenanceKeeper = (*Recorder)(nil)
)

// what an operation changes, and so what the recorder must learn of it
// before it runs.
type kind int

const (
	notRecorded kind = iota
	created          // the entry at Path (or Dest) is there afterwards
	replicas         // replicas of the object at Path change: compare before and after
	removed          // the entry at Path is gone afterwards
	described        // metadata, access, PIDs, RAiD links of the entry at Path
)

var recorded = map[zones.OpName]kind{
	zones.OpPut:              created,
	zones.OpCopy:             created,
	zones.OpMkdir:            created,
	zones.OpRegister:         created,
	zones.OpRename:           described,
	zones.OpRemove:           removed,
	zones.OpTrashRemove:      removed,
	zones.OpTrashRemoveOther: removed,
	zones.OpReplicate:        replicas,
	zones.OpTrim:             replicas,
	zones.OpPhysMove:         replicas,
	zones.OpStage:            replicas,
	zones.OpChecksum:         replicas,
	zones.OpACLSet:           described,
	zones.OpACLInherit:       described,
	zones.OpMetadataAdd:      described,
	zones.OpMetadataSet:      described,
	zones.OpMetadataRemove:   described,
	zones.OpMetadataModify:   described,
	zones.OpProvDerive:       described,
	zones.OpPIDMint:          described,
	zones.OpRAiDLink:         described,
	zones.OpRAiDUnlink:       described,
}

// Recorded reports whether the operation name gets provenance records.
func Recorded(name zones.OpName) bool { return recorded[name] != notRecorded }

// opState is what Before learned of an operation.
type opState struct {
	start  time.Time
	before catalog.Entry
	had    bool
}

// Before notes the start, and what is there before operations that
// change or remove it.
func (r *Recorder) Before(ctx context.Context, op *zones.Op) error {
	k := recorded[op.Name]
	if k == notRecorded {
		return nil
	}
	st := &opState{start: time.Now()}
	if (k == replicas || k == removed) && !op.Path.IsZero() {
		if e, err := r.cat.Stat(ctx, op.Path); err == nil {
			st.before, st.had = e, true
		}
	}
	r.mu.Lock()
	r.pending[op] = st
	r.mu.Unlock()
	return nil
}

// After records the operation if it changed something.
func (r *Recorder) After(ctx context.Context, op *zones.Op, err error) {
	r.mu.Lock()
	st, ok := r.pending[op]
	delete(r.pending, op)
	r.mu.Unlock()
	if !ok || err != nil {
		return
	}
	r.record(ctx, op, st)
}

// Observe records a change a rule action made without the dispatcher.
func (r *Recorder) Observe(ctx context.Context, op *zones.Op) {
	if recorded[op.Name] == notRecorded {
		return
	}
	r.record(ctx, op, &opState{start: time.Now()})
}

func (r *Recorder) record(ctx context.Context, op *zones.Op, st *opState) {
	// The operation is done: its record is written even if the client
	// has gone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	recs, err := r.records(ctx, op, st)
	if err == nil && len(recs) > 0 {
		_, err = r.cat.AppendProvenance(ctx, recs)
	}
	if err != nil {
		r.log.Error("provenance not recorded", "op", op.Name, "path", op.Path.String(), "user", op.Caller.UserID().String(), "err", err)
	}
}

// ActivityID names one operation's activity: when it started, and enough
// randomness to tell apart those that started at once.
func ActivityID(start time.Time) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return start.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:])
}

// base is the record of op without its subject and entities.
func (r *Recorder) base(ctx context.Context, op *zones.Op, st *opState) catalog.ProvRecord {
	end := time.Now()
	if end.Before(st.start) {
		end = st.start
	}
	rec := catalog.ProvRecord{
		Activity: ActivityID(st.start), Op: string(op.Name), Agent: op.Caller.UserID().String(),
		Start: st.start, End: end,
	}
	if a, ok := rules.ActingRule(ctx); ok {
		rec.Rule, rec.RuleSetVersion = a.Rule, a.RuleSetVersion
		if a.User.Name != "" {
			rec.OnBehalfOf = a.User.String()
		}
	}
	return rec
}

func subjectOf(e catalog.Entry) catalog.ProvSubject {
	if e.Collection != nil {
		return catalog.ProvSubject{Kind: catalog.SubjectCollection, ID: e.Collection.ID}
	}
	return catalog.ProvSubject{Kind: catalog.SubjectObject, ID: e.Object.ID}
}

// Versions are the entities of e: a collection, or one version per
// replica of a data object (those keep selects, all when nil).
func Versions(e catalog.Entry, keep func(catalog.Replica) bool) []catalog.ProvEntity {
	if e.Collection != nil {
		return []catalog.ProvEntity{{Kind: catalog.SubjectCollection, Path: e.Collection.Path.String(), Replica: -1}}
	}
	var out []catalog.ProvEntity
	for _, rep := range e.Object.Replicas {
		if rep.Status == catalog.ReplicaIntermediate || keep != nil && !keep(rep) {
			continue
		}
		out = append(out, versionOf(e.Object.Path, rep))
	}
	return out
}

func versionOf(p catalog.Path, rep catalog.Replica) catalog.ProvEntity {
	return catalog.ProvEntity{Kind: catalog.SubjectObject, Path: p.String(), Replica: rep.Number, Resource: rep.Resource,
		Checksum: rep.Checksum, Size: rep.Size}
}

// current is the version that describes e: its newest good replica, or
// the collection.
func current(e catalog.Entry) []catalog.ProvEntity {
	if e.Collection != nil {
		return Versions(e, nil)
	}
	if rep, ok := e.Object.Newest(); ok {
		return []catalog.ProvEntity{versionOf(e.Object.Path, rep)}
	}
	return nil
}

func (r *Recorder) records(ctx context.Context, op *zones.Op, st *opState) ([]catalog.ProvRecord, error) {
	rec := r.base(ctx, op, st)
	target := op.Path
	switch op.Name {
	case zones.OpCopy:
		target = op.Dest
	case zones.OpRename:
		target = op.Dest
	case zones.OpMetadataAdd, zones.OpMetadataSet, zones.OpMetadataRemove, zones.OpMetadataModify:
		if op.Target.Kind != catalog.TargetDataObject && op.Target.Kind != catalog.TargetCollection {
			return nil, nil // AVUs of users and resources are no data
		}
	}
	if target.IsZero() {
		return nil, nil
	}
	rec.Path = target.String()
	switch recorded[op.Name] {
	case removed:
		if !st.had {
			return nil, nil
		}
		rec.Subject = subjectOf(st.before)
		rec.Invalidated = Versions(st.before, nil)
		if e, err := r.cat.Stat(ctx, op.Path); err == nil && subjectOf(e) == rec.Subject {
			return nil, nil // still there (irmtrash of nothing)
		}
		return []catalog.ProvRecord{rec}, nil
	}
	var after catalog.Entry
	if op.Object != nil && op.Object.Path == target {
		after.Object = op.Object // a put's or copy's: spares a query
	} else {
		var err error
		after, err = r.cat.Stat(ctx, target)
		if errors.Is(err, catalog.ErrNotFound) {
			return nil, nil // gone again already
		}
		if err != nil {
			return nil, err
		}
	}
	rec.Subject = subjectOf(after)
	switch op.Name {
	case zones.OpPut, zones.OpRegister, zones.OpMkdir:
		rec.Generated = changedSince(after, st.start)
		if len(op.AVUs) > 0 {
			rec.Attributes = avuAttrs(op.AVUs)
		}
	case zones.OpCopy:
		rec.Generated = changedSince(after, st.start)
		if src, err := r.cat.Stat(ctx, op.Path); err == nil {
			rec.Used = current(src)
			rec.DerivedFrom = rec.Used
			r.derive(ctx, target, op.Path)
		}
	case zones.OpRename:
		rec.Attributes = map[string]string{"from": op.Path.String(), "to": op.Dest.String()}
		rec.Used = []catalog.ProvEntity{renamed(after, op.Path)}
		rec.Generated = []catalog.ProvEntity{renamed(after, op.Dest)}
	case zones.OpReplicate, zones.OpTrim, zones.OpPhysMove, zones.OpStage, zones.OpChecksum:
		if after.Object == nil {
			// Of a collection, recursively: recorded on the collection.
			rec.Attributes = map[string]string{"resource": op.Resource, "recursive": "true"}
			rec.Generated = Versions(after, nil)
			break
		}
		gen, inv := replicaChanges(st, after)
		if len(gen) == 0 && len(inv) == 0 {
			return nil, nil // nothing changed (a checksum that was there)
		}
		rec.Generated, rec.Invalidated = gen, inv
		rec.Used = sameContent(st, after)
		if op.Resource != "" {
			rec.Attributes = map[string]string{"resource": op.Resource}
		}
	case zones.OpACLSet, zones.OpACLInherit:
		rec.Attributes = map[string]string{}
		if op.Name == zones.OpACLSet {
			rec.Attributes["grantee"] = op.Group.String()
			rec.Attributes["level"] = levelOf(after, op.Group).String()
		} else if after.Collection != nil {
			rec.Attributes["inherit"] = strconv.FormatBool(after.Collection.Inherit)
		}
		rec.Generated = current(after)
	case zones.OpProvDerive:
		if src, err := r.cat.Stat(ctx, op.Dest); err == nil {
			rec.DerivedFrom = current(src)
		} else {
			rec.DerivedFrom = []catalog.ProvEntity{{Kind: catalog.SubjectObject, Path: op.Dest.String(), Replica: -1}}
		}
		rec.Generated = current(after)
	default: // metadata, pid.mint, raid.link
		rec.Attributes = avuAttrs(op.AVUs)
		if op.Owner.Name != "" {
			rec.Attributes["owner"] = op.Owner.String()
		}
		rec.Generated = current(after)
	}
	return []catalog.ProvRecord{rec}, nil
}

// changedSince are the versions of e written since start: what a put or
// copy generated (an overwrite leaves other replicas as they were).
func changedSince(e catalog.Entry, start time.Time) []catalog.ProvEntity {
	if e.Collection != nil {
		return Versions(e, nil)
	}
	out := Versions(e, func(rep catalog.Replica) bool { return !rep.ModifyTime.Before(start.Add(-time.Millisecond)) })
	if len(out) == 0 {
		return current(e)
	}
	return out
}

func renamed(e catalog.Entry, p catalog.Path) catalog.ProvEntity {
	out := catalog.ProvEntity{Kind: catalog.SubjectCollection, Path: p.String(), Replica: -1}
	if e.Object != nil {
		if rep, ok := e.Object.Newest(); ok {
			out = versionOf(p, rep)
		}
	}
	return out
}

// replicaChanges are the replicas that are new or changed since before
// (generated) and those gone or gone bad (invalidated).
func replicaChanges(st *opState, after catalog.Entry) (gen, inv []catalog.ProvEntity) {
	var before []catalog.Replica
	if st.had && st.before.Object != nil {
		before = st.before.Object.Replicas
	}
	find := func(reps []catalog.Replica, n int) (catalog.Replica, bool) {
		i := slices.IndexFunc(reps, func(r catalog.Replica) bool { return r.Number == n })
		if i < 0 {
			return catalog.Replica{}, false
		}
		return reps[i], true
	}
	for _, rep := range after.Object.Replicas {
		old, ok := find(before, rep.Number)
		switch {
		case rep.Status == catalog.ReplicaIntermediate:
		case !ok || old.Checksum != rep.Checksum || old.Resource != rep.Resource || old.Size != rep.Size ||
			old.PhysicalPath != rep.PhysicalPath || old.Status != rep.Status && rep.Status == catalog.ReplicaGood:
			gen = append(gen, versionOf(after.Object.Path, rep))
		}
		if ok && old.Status == catalog.ReplicaGood && rep.Status == catalog.ReplicaStale {
			inv = append(inv, versionOf(after.Object.Path, old))
		}
	}
	for _, old := range before {
		if _, ok := find(after.Object.Replicas, old.Number); !ok && old.Status != catalog.ReplicaIntermediate {
			inv = append(inv, versionOf(after.Object.Path, old))
		}
	}
	return gen, inv
}

// sameContent are the good replicas of before that a replica operation
// copied from: those it kept.
func sameContent(st *opState, after catalog.Entry) []catalog.ProvEntity {
	if !st.had || st.before.Object == nil {
		return nil
	}
	var out []catalog.ProvEntity
	for _, old := range st.before.Object.Good() {
		for _, rep := range after.Object.Replicas {
			if rep.Number == old.Number && rep.Checksum == old.Checksum && rep.Resource == old.Resource {
				out = append(out, versionOf(after.Object.Path, old))
			}
		}
	}
	return out
}

func levelOf(e catalog.Entry, who catalog.UserID) catalog.AccessLevel {
	acl := e.Object
	var aces []catalog.ACE
	if acl != nil {
		aces = acl.ACL
	} else if e.Collection != nil {
		aces = e.Collection.ACL
	}
	for _, a := range aces {
		if a.Principal == who {
			return a.Level
		}
	}
	return catalog.AccessNull
}

// avuAttrs are the AVUs an operation names, as record attributes.
func avuAttrs(avus []catalog.AVU) map[string]string {
	out := map[string]string{}
	for i, a := range avus {
		if i >= catalog.MaxProvAttributes-2 {
			out["avus.more"] = strconv.Itoa(len(avus) - i)
			break
		}
		v := a.Attribute + "=" + a.Value
		if a.Unit != "" {
			v += " [" + a.Unit + "]"
		}
		if len(v) > catalog.MaxProvText {
			v = v[:catalog.MaxProvText]
		}
		out[fmt.Sprintf("avu.%d", i)] = v
	}
	return out
}
