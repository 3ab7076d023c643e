package dgraph

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// Provenance records are nodes of kind "pv": the subject ("object:ID") in
// psub, the number in pseq, the digest in pdig and the stored document in
// doc; pvkey ("subject|seq", @upsert) is unique. The head of each chain is
// a node of kind "ph" whose phkey (@upsert) is the subject, with the last
// number and digest: two servers appending to one chain at once write the
// same head, and Dgraph aborts one of them, which retries.

const (
	kindProv     = "pv"
	kindProvHead = "ph"
)

type provNode struct {
	Seq    int64  `json:"seq"`
	Digest string `json:"dig"`
	Doc    string `json:"doc"`
}

type provHeadNode struct {
	UID    string `json:"uid"`
	Seq    int64  `json:"seq"`
	Digest string `json:"dig"`
}

func (t *tx) provHead(s catalog.ProvSubject) (provHeadNode, bool, error) {
	var out struct {
		N []provHeadNode `json:"n"`
	}
	if err := t.query(`query q($s: string) { n(func: eq(P.phkey, $s)) @filter(eq(P.kind, "ph")) { uid seq: P.pseq dig: P.pdig } }`,
		map[string]string{"$s": s.String()}, &out); err != nil {
		return provHeadNode{}, false, err
	}
	if len(out.N) == 0 {
		return provHeadNode{}, false, nil
	}
	return out.N[0], true, nil
}

// AppendProvenance appends records to their subjects' chains.
func (c *Catalog) AppendProvenance(ctx context.Context, recs []catalog.ProvRecord) ([]catalog.ProvRecord, error) {
	if err := catalog.CheckProvBatch(recs); err != nil {
		return nil, fmt.Errorf("append provenance: %w", err)
	}
	out := make([]catalog.ProvRecord, len(recs))
	err := c.write(ctx, func(t *tx) error {
		// Queries do not see this transaction's own mutations: the heads
		// of subjects written earlier in the batch are kept here.
		heads := map[catalog.ProvSubject]*provHeadNode{}
		for i, r := range recs {
			h, ok := heads[r.Subject]
			if !ok {
				stored, found, err := t.provHead(r.Subject)
				if err != nil {
					return err
				}
				h = &stored
				if !found {
					ref, err := t.create(map[string]any{c.p("kind"): kindProvHead, c.p("phkey"): r.Subject.String()})
					if err != nil {
						return err
					}
					h.UID = ref
				}
				heads[r.Subject] = h
			}
			sealed, err := catalog.SealProvRecord(r, h.Seq+1, h.Digest)
			if err != nil {
				return err
			}
			if _, err := t.create(map[string]any{
				c.p("kind"): kindProv, c.p("psub"): r.Subject.String(), c.p("pseq"): sealed.Seq, c.p("pdig"): sealed.Digest,
				c.p("pvkey"): r.Subject.String() + "|" + strconv.FormatInt(sealed.Seq, 10), c.p("doc"): string(sealed.Doc),
			}); err != nil {
				return err
			}
			h.Seq, h.Digest = sealed.Seq, sealed.Digest
			if err := t.set(map[string]any{"uid": h.UID, c.p("pseq"): h.Seq, c.p("pdig"): h.Digest}); err != nil {
				return err
			}
			out[i] = sealed
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("append provenance: %w", err)
	}
	return out, nil
}

func openProvNodes(ns []provNode, out []catalog.ProvRecord) ([]catalog.ProvRecord, error) {
	slices.SortFunc(ns, func(a, b provNode) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, n := range ns {
		r, err := catalog.OpenProvRecord([]byte(n.Doc), n.Digest)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ProvenanceOf returns records of one subject.
func (c *Catalog) ProvenanceOf(ctx context.Context, s catalog.ProvSubject, after int64, limit int) ([]catalog.ProvRecord, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("provenance of %s: %w", s, err)
	}
	if err := catalog.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("provenance of %s: %w", s, err)
	}
	var out []catalog.ProvRecord
	err := c.read(ctx, func(t *tx) error {
		var res struct {
			N []provNode `json:"n"`
		}
		if err := t.query(`query q($s: string, $a: int, $n: int) {
			n(func: eq(P.psub, $s), orderasc: P.pseq, first: $n) @filter(eq(P.kind, "pv") AND gt(P.pseq, $a)) { seq: P.pseq dig: P.pdig doc: P.doc } }`,
			map[string]string{"$s": s.String(), "$a": strconv.FormatInt(after, 10), "$n": strconv.Itoa(limit)}, &res); err != nil {
			return err
		}
		var err error
		out, err = openProvNodes(res.N, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("provenance of %s: %w", s, err)
	}
	return out, nil
}

// ProvenanceOfMany returns every record of the subjects, in one query.
func (c *Catalog) ProvenanceOfMany(ctx context.Context, subjects []catalog.ProvSubject) ([]catalog.ProvRecord, error) {
	if err := catalog.CheckProvSubjects(subjects); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	if len(subjects) == 0 {
		return nil, nil
	}
	// Subjects are validated ("object:123"): safe to quote into the query.
	quoted := make([]string, len(subjects))
	for i, s := range subjects {
		quoted[i] = strconv.Quote(s.String())
	}
	var out []catalog.ProvRecord
	err := c.read(ctx, func(t *tx) error {
		var res struct {
			N []struct {
				Sub string `json:"sub"`
				provNode
			} `json:"n"`
		}
		if err := t.query(`{ n(func: eq(P.psub, [`+strings.Join(quoted, ", ")+`])) @filter(eq(P.kind, "pv")) {
			sub: P.psub seq: P.pseq dig: P.pdig doc: P.doc } }`, nil, &res); err != nil {
			return err
		}
		bySubject := map[string][]provNode{}
		for _, n := range res.N {
			bySubject[n.Sub] = append(bySubject[n.Sub], n.provNode)
		}
		out = out[:0]
		seen := map[catalog.ProvSubject]bool{}
		for _, s := range subjects {
			if seen[s] {
				continue
			}
			seen[s] = true
			var err error
			if out, err = openProvNodes(bySubject[s.String()], out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	return out, nil
}

// ProvenanceHead returns the end of a chain.
func (c *Catalog) ProvenanceHead(ctx context.Context, s catalog.ProvSubject) (catalog.ProvHead, error) {
	if err := s.Validate(); err != nil {
		return catalog.ProvHead{}, fmt.Errorf("provenance head of %s: %w", s, err)
	}
	var h catalog.ProvHead
	err := c.read(ctx, func(t *tx) error {
		n, ok, err := t.provHead(s)
		if err != nil {
			return err
		}
		if !ok {
			return catalog.ErrNotFound
		}
		h = catalog.ProvHead{Subject: s, Seq: n.Seq, Digest: n.Digest}
		return nil
	})
	if err != nil {
		return catalog.ProvHead{}, fmt.Errorf("provenance head of %s: %w", s, err)
	}
	return h, nil
}

// EntryPath returns the path of a collection or data object by uid.
func (c *Catalog) EntryPath(ctx context.Context, s catalog.ProvSubject) (catalog.Path, error) {
	if err := s.Validate(); err != nil {
		return catalog.Path{}, fmt.Errorf("path of %s: %w", s, err)
	}
	kind := kindObj
	if s.Kind == catalog.SubjectCollection {
		kind = kindColl
	}
	var path string
	err := c.read(ctx, func(t *tx) error {
		var out struct {
			N []struct {
				Path string `json:"path"`
			} `json:"n"`
		}
		if err := t.query(`query q($u: string, $k: string) { n(func: uid($u)) @filter(eq(P.kind, $k)) { path: P.path } }`,
			map[string]string{"$u": uidOf(s.ID), "$k": kind}, &out); err != nil {
			return err
		}
		if len(out.N) == 0 || out.N[0].Path == "" {
			return catalog.ErrNotFound
		}
		path = out.N[0].Path
		return nil
	})
	if err != nil {
		return catalog.Path{}, fmt.Errorf("path of %s: %w", s, err)
	}
	return catalog.ParsePath(path)
}

// Records are nodes of kind "rec" holding the record as JSON in doc, with
// reckey ("kind|key", @upsert) and recref ("kind|ref") beside it. An
// update writes doc of the record's node: two updates at once conflict,
// and the one retried finds the version moved.

const kindRecord = "rec"

type recordNode struct {
	UID string `json:"uid"`
	Doc string `json:"doc"`
}

func (n recordNode) record() (catalog.Record, error) {
	var r catalog.Record
	if err := json.Unmarshal([]byte(n.Doc), &r); err != nil {
		return r, fmt.Errorf("stored record: %w", err)
	}
	return r, nil
}

func recordKey(kind, key string) string { return kind + "|" + key }

func (t *tx) recordNodes(q string, vars map[string]string) ([]recordNode, error) {
	var out struct {
		N []recordNode `json:"n"`
	}
	if err := t.query(q, vars, &out); err != nil {
		return nil, err
	}
	return out.N, nil
}

func (t *tx) recordAt(kind, key string) (recordNode, bool, error) {
	ns, err := t.recordNodes(`query q($k: string) { n(func: eq(P.reckey, $k)) @filter(eq(P.kind, "rec")) { uid doc: P.doc } }`,
		map[string]string{"$k": recordKey(kind, key)})
	if err != nil || len(ns) == 0 {
		return recordNode{}, false, err
	}
	return ns[0], true, nil
}

func (c *Catalog) recordPreds(r catalog.Record) (map[string]any, error) {
	doc, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	m := map[string]any{c.p("doc"): string(doc), c.p("recref"): recordKey(r.Kind, r.Ref)}
	return m, nil
}

// CreateRecord stores a new record.
func (c *Catalog) CreateRecord(ctx context.Context, r catalog.Record) (catalog.Record, error) {
	if err := r.Validate(); err != nil {
		return catalog.Record{}, fmt.Errorf("create %s record: %w", r.Kind, err)
	}
	if r.Doc == nil {
		r.Doc = []byte{}
	}
	err := c.write(ctx, func(t *tx) error {
		if _, found, err := t.recordAt(r.Kind, r.Key); err != nil {
			return err
		} else if found {
			return fmt.Errorf("insert: %w", catalog.ErrExists)
		}
		now := fromNanos(nowNS())
		r.Version, r.CreateTime, r.ModifyTime = 1, now, now
		m, err := c.recordPreds(r)
		if err != nil {
			return err
		}
		m[c.p("kind")], m[c.p("reckey")] = kindRecord, recordKey(r.Kind, r.Key)
		_, err = t.create(m)
		return err
	})
	if err != nil {
		return catalog.Record{}, fmt.Errorf("create %s record %s: %w", r.Kind, r.Key, err)
	}
	return r, nil
}

// CreateRecords stores records and sets AVUs in one transaction.
func (c *Catalog) CreateRecords(ctx context.Context, recs []catalog.Record, set []catalog.AVUBatch) ([]catalog.Record, error) {
	if err := catalog.ValidateRecordsBatch(recs, set); err != nil {
		return nil, fmt.Errorf("create records: %w", err)
	}
	out := make([]catalog.Record, len(recs))
	err := c.write(ctx, func(t *tx) error {
		now := fromNanos(nowNS())
		for i, r := range recs {
			if r.Doc == nil {
				r.Doc = []byte{}
			}
			if _, found, err := t.recordAt(r.Kind, r.Key); err != nil {
				return err
			} else if found {
				return fmt.Errorf("%s record %s: insert: %w", r.Kind, r.Key, catalog.ErrExists)
			}
			r.Version, r.CreateTime, r.ModifyTime = 1, now, now
			m, err := c.recordPreds(r)
			if err != nil {
				return err
			}
			m[c.p("kind")], m[c.p("reckey")] = kindRecord, recordKey(r.Kind, r.Key)
			if _, err := t.create(m); err != nil {
				return err
			}
			out[i] = r
		}
		return t.setAVUs(set)
	})
	if err != nil {
		return nil, fmt.Errorf("create records: %w", err)
	}
	return out, nil
}

// Record returns one record.
func (c *Catalog) Record(ctx context.Context, kind, key string) (catalog.Record, error) {
	var r catalog.Record
	err := c.read(ctx, func(t *tx) error {
		n, found, err := t.recordAt(kind, key)
		if err != nil {
			return err
		}
		if !found {
			return catalog.ErrNotFound
		}
		r, err = n.record()
		return err
	})
	if err != nil {
		return catalog.Record{}, fmt.Errorf("%s record %s: %w", kind, key, err)
	}
	return r, nil
}

// UpdateRecord replaces a record at the version the caller read.
func (c *Catalog) UpdateRecord(ctx context.Context, r catalog.Record) (catalog.Record, error) {
	if err := r.Validate(); err != nil {
		return catalog.Record{}, fmt.Errorf("update %s record: %w", r.Kind, err)
	}
	if r.Doc == nil {
		r.Doc = []byte{}
	}
	in := r
	err := c.write(ctx, func(t *tx) error {
		r = in
		n, found, err := t.recordAt(r.Kind, r.Key)
		if err != nil {
			return err
		}
		if !found {
			return catalog.ErrNotFound
		}
		stored, err := n.record()
		if err != nil {
			return err
		}
		if stored.Version != r.Version {
			return fmt.Errorf("%w: version %d was read, the record is at %d", catalog.ErrConflict, r.Version, stored.Version)
		}
		r.Version, r.CreateTime, r.ModifyTime = stored.Version+1, stored.CreateTime, fromNanos(nowNS())
		m, err := c.recordPreds(r)
		if err != nil {
			return err
		}
		m["uid"] = n.UID
		return t.set(m)
	})
	if err != nil {
		return catalog.Record{}, fmt.Errorf("update %s record %s: %w", in.Kind, in.Key, err)
	}
	return r, nil
}

// RecordsByRef returns the records about refs.
func (c *Catalog) RecordsByRef(ctx context.Context, kind string, refs []string) ([]catalog.Record, error) {
	if err := catalog.CheckRecordRefs(kind, refs); err != nil {
		return nil, fmt.Errorf("%s records: %w", kind, err)
	}
	var quoted []string
	for _, ref := range refs {
		if ref != "" {
			quoted = append(quoted, strconv.Quote(recordKey(kind, ref)))
		}
	}
	if len(quoted) == 0 {
		return nil, nil
	}
	var out []catalog.Record
	err := c.read(ctx, func(t *tx) error {
		// strconv.Quote makes a valid DQL string of any ref.
		ns, err := t.recordNodes(`{ n(func: eq(P.recref, [`+strings.Join(quoted, ", ")+`])) @filter(eq(P.kind, "rec")) { uid doc: P.doc } }`, nil)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, n := range ns {
			r, err := n.record()
			if err != nil {
				return err
			}
			if r.Kind == kind {
				out = append(out, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s records: %w", kind, err)
	}
	catalog.SortRecordsByRef(out)
	return out, nil
}

// ListRecords returns records of a kind by key.
func (c *Catalog) ListRecords(ctx context.Context, kind, after string, limit int) ([]catalog.Record, error) {
	if err := catalog.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("list %s records: %w", kind, err)
	}
	var out []catalog.Record
	err := c.read(ctx, func(t *tx) error {
		// Keys of one kind share the prefix "kind|": a range of reckey.
		ns, err := t.recordNodes(`query q($a: string, $z: string, $n: int) {
			n(func: gt(P.reckey, $a), orderasc: P.reckey, first: $n) @filter(eq(P.kind, "rec") AND lt(P.reckey, $z)) { uid doc: P.doc } }`,
			map[string]string{"$a": recordKey(kind, after), "$z": kind + "}", "$n": strconv.Itoa(limit)})
		if err != nil {
			return err
		}
		out = out[:0]
		for _, n := range ns {
			r, err := n.record()
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s records: %w", kind, err)
	}
	return out, nil
}
