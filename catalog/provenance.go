package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Provenance records, for every change of a collection or data object, a
// W3C PROV activity: who did it (a user, or a rule on a user's behalf),
// what it used and generated, and when. The records of one subject form a
// chain: each carries the digest of the one before it, and the catalog
// keeps the digest of the last (the head), so that a record removed from
// or edited in the chain is detected (VerifyProvChain). Records are never
// changed or removed; they outlive their subject.

// Subject kinds of provenance chains.
const (
	SubjectCollection = "collection"
	SubjectObject     = "object"
)

// ProvSubject is what a provenance chain is about: a collection or a data
// object, by id, so that its chain follows it through renames and stays
// when it is removed (ids are never reused).
type ProvSubject struct {
	Kind string `json:"kind"`
	ID   ID     `json:"id"`
}

func (s ProvSubject) String() string { return s.Kind + ":" + strconv.FormatInt(int64(s.ID), 10) }

// Validate checks s without a catalog.
func (s ProvSubject) Validate() error {
	if s.Kind != SubjectCollection && s.Kind != SubjectObject {
		return invalid("provenance subject kind %q (want collection or object)", s.Kind)
	}
	if s.ID <= 0 {
		return invalid("provenance subject id %d", s.ID)
	}
	return nil
}

// ProvEntity is what an activity used, generated or invalidated: a version
// of a data object (its path, replica and checksum) or a collection (its
// path; Replica is -1).
type ProvEntity struct {
	Kind     string `json:"kind"` // SubjectObject or SubjectCollection
	Path     string `json:"path"`
	Replica  int    `json:"replica"`
	Resource string `json:"resource,omitempty"`
	Checksum string `json:"checksum,omitempty"`
	Size     int64  `json:"size,omitempty"`
}

// ProvRecord is one PROV activity as it concerns one subject.
type ProvRecord struct {
	Subject ProvSubject `json:"subject"`
	// Seq numbers the records of a subject from 1; Prev is the digest of
	// record Seq-1 ("" for the first). The catalog sets both.
	Seq  int64  `json:"seq"`
	Prev string `json:"prev"`
	// Activity names the operation; the records of one operation about
	// several subjects (a copy: its source and its destination) share it.
	Activity string `json:"activity"`
	Op       string `json:"op"`
	// Path is the subject's path when the activity ended (before it, for a
	// removal).
	Path string `json:"path"`
	// Agent is the user who asked, name#zone; when a rule's action did it,
	// the rule's actor, with Rule naming the rule and OnBehalfOf the user
	// whose operation set the rule off.
	Agent      string `json:"agent"`
	Rule       string `json:"rule,omitempty"`
	OnBehalfOf string `json:"onBehalfOf,omitempty"`
	// RuleSetVersion is the version of the zone's rule set (in the
	// catalog) the rule belongs to: with the rule, the prov:plan.
	RuleSetVersion string       `json:"ruleSetVersion,omitempty"`
	Start          time.Time    `json:"start"`
	End            time.Time    `json:"end"`
	Used           []ProvEntity `json:"used,omitempty"`
	Generated      []ProvEntity `json:"generated,omitempty"`
	Invalidated    []ProvEntity `json:"invalidated,omitempty"`
	// DerivedFrom are what the generated entities were derived from
	// (prov:wasDerivedFrom): a copy's source, iput --derived-from.
	DerivedFrom []ProvEntity `json:"derivedFrom,omitempty"`
	// Attributes say what else the operation changed: the AVU, the grant,
	// the destination of a rename.
	Attributes map[string]string `json:"attributes,omitempty"`

	// Digest is "sha256:" and the hex SHA-256 of Doc; Doc is the record as
	// the catalog stores it. Both are set by the catalog.
	Digest string `json:"-"`
	Doc    []byte `json:"-"`
}

// Limits of a provenance record.
const (
	MaxProvEntities   = 1024
	MaxProvAttributes = 64
	MaxProvText       = 4096 // bytes of any one string in a record
)

// Validate checks r for AppendProvenance without a catalog; Seq, Prev,
// Digest and Doc are the catalog's to set.
func (r ProvRecord) Validate() error {
	if err := r.Subject.Validate(); err != nil {
		return err
	}
	switch {
	case r.Activity == "" || r.Op == "" || r.Agent == "":
		return invalid("a provenance record needs an activity, an operation and an agent")
	case r.Start.IsZero() || r.End.IsZero():
		return invalid("a provenance record needs start and end times")
	case r.End.Before(r.Start):
		return invalid("provenance record ends (%s) before it starts (%s)", r.End, r.Start)
	case len(r.Attributes) > MaxProvAttributes:
		return invalid("%d attributes in a provenance record (at most %d)", len(r.Attributes), MaxProvAttributes)
	case len(r.Used)+len(r.Generated)+len(r.Invalidated)+len(r.DerivedFrom) > MaxProvEntities:
		return invalid("more than %d entities in a provenance record", MaxProvEntities)
	}
	if err := CheckTime("start", r.Start); err != nil {
		return err
	}
	if err := CheckTime("end", r.End); err != nil {
		return err
	}
	texts := []string{r.Activity, r.Op, r.Path, r.Agent, r.Rule, r.OnBehalfOf, r.RuleSetVersion}
	for k, v := range r.Attributes {
		texts = append(texts, k, v)
	}
	for _, es := range [][]ProvEntity{r.Used, r.Generated, r.Invalidated, r.DerivedFrom} {
		for _, e := range es {
			if e.Kind != SubjectCollection && e.Kind != SubjectObject {
				return invalid("provenance entity kind %q", e.Kind)
			}
			texts = append(texts, e.Path, e.Resource, e.Checksum)
		}
	}
	for _, s := range texts {
		if len(s) > MaxProvText || !utf8.ValidString(s) {
			return invalid("a provenance record holds text of more than %d bytes or not UTF-8", MaxProvText)
		}
	}
	return nil
}

// SealProvRecord makes r record seq of its subject's chain, after the
// record whose digest is prev, and returns it with Doc and Digest set: the
// catalog stores Doc as it is and Digest beside it.
func SealProvRecord(r ProvRecord, seq int64, prev string) (ProvRecord, error) {
	r.Seq, r.Prev = seq, prev
	r.Start, r.End = r.Start.UTC(), r.End.UTC()
	doc, err := json.Marshal(r)
	if err != nil {
		return ProvRecord{}, fmt.Errorf("encode provenance record: %w", err)
	}
	r.Doc, r.Digest = doc, ProvDigest(doc)
	return r, nil
}

// ProvDigest is the digest of a stored record's document.
func ProvDigest(doc []byte) string {
	sum := sha256.Sum256(doc)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// OpenProvRecord reads a stored record: its document and the digest stored
// beside it. It does not check the digest (VerifyProvChain does).
func OpenProvRecord(doc []byte, digest string) (ProvRecord, error) {
	var r ProvRecord
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := dec.Decode(&r); err != nil {
		return ProvRecord{}, fmt.Errorf("stored provenance record: %w", err)
	}
	r.Doc, r.Digest = doc, digest
	return r, nil
}

// ProvHead is the end of a subject's chain: its last record's number and
// digest.
type ProvHead struct {
	Subject ProvSubject
	Seq     int64
	Digest  string
}

// ProvProblem is something VerifyProvChain found wrong with a chain.
type ProvProblem struct {
	Seq     int64 // the record concerned (0: the chain as a whole)
	Problem string
}

func (p ProvProblem) String() string {
	if p.Seq == 0 {
		return p.Problem
	}
	return fmt.Sprintf("record %d: %s", p.Seq, p.Problem)
}

// VerifyProvChain checks the records of one subject, in Seq order, as the
// catalog returned them, against its head: every record's document hashes
// to its digest and names its subject, numbers run from 1 without a gap,
// each record carries the digest of the one before, and the last is the
// head. It returns what is wrong, nothing when the chain holds.
func VerifyProvChain(s ProvSubject, recs []ProvRecord, head ProvHead, hasHead bool) []ProvProblem {
	var out []ProvProblem
	prev := ""
	want := int64(1)
	for _, r := range recs {
		if got := ProvDigest(r.Doc); got != r.Digest {
			out = append(out, ProvProblem{r.Seq, fmt.Sprintf("its content does not match its digest (edited): stored %s, content hashes to %s", short(r.Digest), short(got))})
		}
		if r.Subject != s {
			out = append(out, ProvProblem{r.Seq, fmt.Sprintf("it names subject %s, not %s", r.Subject, s)})
		}
		switch {
		case r.Seq > want:
			out = append(out, ProvProblem{r.Seq, fmt.Sprintf("records %d to %d are missing (removed)", want, r.Seq-1)})
		case r.Seq < want:
			out = append(out, ProvProblem{r.Seq, "it repeats a number"})
		}
		if r.Seq == want && r.Prev != prev {
			out = append(out, ProvProblem{r.Seq, fmt.Sprintf("it links to %s, but the record before it has digest %s (removed or edited)", short(r.Prev), short(prev))})
		}
		prev, want = r.Digest, r.Seq+1
	}
	switch {
	case !hasHead && len(recs) > 0:
		out = append(out, ProvProblem{0, "the chain has records but no head"})
	case hasHead && head.Seq != want-1:
		out = append(out, ProvProblem{0, fmt.Sprintf("the chain ends at record %d, but its head says %d (records removed at the end)", want-1, head.Seq)})
	case hasHead && head.Digest != prev:
		out = append(out, ProvProblem{0, fmt.Sprintf("the last record's digest %s is not the head's %s (edited)", short(prev), short(head.Digest))})
	}
	return out
}

func short(d string) string {
	if d == "" {
		return `""`
	}
	if h, ok := strings.CutPrefix(d, "sha256:"); ok && len(h) > 12 {
		return "sha256:" + h[:12] + "…"
	}
	return d
}

// MaxProvBatch bounds the records of one AppendProvenance and the subjects
// of one ProvenanceOfMany.
const MaxProvBatch = 1000

// CheckProvSubjects checks the subjects of ProvenanceOfMany.
func CheckProvSubjects(subjects []ProvSubject) error {
	if len(subjects) > MaxProvBatch {
		return invalid("%d subjects (at most %d)", len(subjects), MaxProvBatch)
	}
	for _, s := range subjects {
		if err := s.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// CheckProvBatch checks the records of AppendProvenance.
func CheckProvBatch(recs []ProvRecord) error {
	if len(recs) == 0 || len(recs) > MaxProvBatch {
		return invalid("%d provenance records (1 to %d)", len(recs), MaxProvBatch)
	}
	for _, r := range recs {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Provenance stores the provenance chains. There is no method that
// changes or removes a record: the chains only grow.
type Provenance interface {
	// AppendProvenance appends each record to its subject's chain, in
	// order, in one transaction, and returns them sealed (Seq, Prev,
	// Digest, Doc set). The subject need not exist any more: the record of
	// a removal comes after it.
	AppendProvenance(ctx context.Context, recs []ProvRecord) ([]ProvRecord, error)
	// ProvenanceOf returns up to limit records of s numbered above after,
	// in order; none when s has no records.
	ProvenanceOf(ctx context.Context, s ProvSubject, after int64, limit int) ([]ProvRecord, error)
	// ProvenanceOfMany returns every record of the subjects given (at most
	// MaxProvBatch), ordered by subject (as given) and number.
	ProvenanceOfMany(ctx context.Context, subjects []ProvSubject) ([]ProvRecord, error)
	// ProvenanceHead returns the end of s's chain; ErrNotFound when s has
	// no records.
	ProvenanceHead(ctx context.Context, s ProvSubject) (ProvHead, error)
	// EntryPath returns the path s has now: ErrNotFound once it is gone.
	EntryPath(ctx context.Context, s ProvSubject) (Path, error)
}
