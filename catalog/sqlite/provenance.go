package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// AppendProvenance appends records to their subjects' chains.
func (c *Catalog) AppendProvenance(ctx context.Context, recs []catalog.ProvRecord) ([]catalog.ProvRecord, error) {
	if err := catalog.CheckProvBatch(recs); err != nil {
		return nil, fmt.Errorf("append provenance: %w", err)
	}
	out := make([]catalog.ProvRecord, len(recs))
	err := c.write(ctx, func(w *wtx) error {
		for i, r := range recs {
			var (
				seq    int64
				digest string
			)
			err := w.queryRow(`SELECT seq, digest FROM prov_heads WHERE subject_kind = ? AND subject_id = ?`,
				r.Subject.Kind, r.Subject.ID).Scan(&seq, &digest)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			sealed, err := catalog.SealProvRecord(r, seq+1, digest)
			if err != nil {
				return err
			}
			if _, err := w.exec(`INSERT INTO prov_records (subject_kind, subject_id, seq, digest, end_ns, doc) VALUES (?, ?, ?, ?, ?, ?)`,
				r.Subject.Kind, r.Subject.ID, sealed.Seq, sealed.Digest, nanos(sealed.End), sealed.Doc); err != nil {
				return mapErr("insert provenance record", err)
			}
			if _, err := w.exec(`INSERT INTO prov_heads (subject_kind, subject_id, seq, digest) VALUES (?, ?, ?, ?)
				ON CONFLICT DO UPDATE SET seq = excluded.seq, digest = excluded.digest`,
				r.Subject.Kind, r.Subject.ID, sealed.Seq, sealed.Digest); err != nil {
				return mapErr("update provenance head", err)
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

func scanProv(rows *sql.Rows, out []catalog.ProvRecord) ([]catalog.ProvRecord, error) {
	defer rows.Close()
	for rows.Next() {
		var (
			doc    []byte
			digest string
		)
		if err := rows.Scan(&digest, &doc); err != nil {
			return nil, err
		}
		r, err := catalog.OpenProvRecord(doc, digest)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
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
	err := c.read(ctx, func(q *rtx) error {
		rows, err := q.query(`SELECT digest, doc FROM prov_records WHERE subject_kind = ? AND subject_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
			s.Kind, s.ID, after, limit)
		if err != nil {
			return err
		}
		out, err = scanProv(rows, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("provenance of %s: %w", s, err)
	}
	return out, nil
}

// ProvenanceOfMany returns every record of the subjects, in one read: a
// query per kind of subject, with the ids as a JSON array (the kind a
// literal: see the note in rows.go).
func (c *Catalog) ProvenanceOfMany(ctx context.Context, subjects []catalog.ProvSubject) ([]catalog.ProvRecord, error) {
	if err := catalog.CheckProvSubjects(subjects); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	ids := map[string][]int64{}
	for _, s := range subjects {
		ids[s.Kind] = append(ids[s.Kind], int64(s.ID))
	}
	var out []catalog.ProvRecord
	err := c.read(ctx, func(q *rtx) error {
		bySubject := map[catalog.ProvSubject][]catalog.ProvRecord{}
		for _, kind := range []string{kindCollection, kindObject} {
			if len(ids[kind]) == 0 {
				continue
			}
			list, err := json.Marshal(ids[kind])
			if err != nil {
				return err
			}
			rows, err := q.query(`SELECT digest, doc FROM prov_records WHERE subject_kind = '`+kind+`'
				AND subject_id IN (SELECT value FROM json_each(?)) ORDER BY subject_id, seq`, string(list))
			if err != nil {
				return err
			}
			recs, err := scanProv(rows, nil)
			if err != nil {
				return err
			}
			for _, r := range recs {
				bySubject[r.Subject] = append(bySubject[r.Subject], r)
			}
		}
		out = out[:0]
		seen := map[catalog.ProvSubject]bool{}
		for _, s := range subjects {
			if !seen[s] {
				seen[s] = true
				out = append(out, bySubject[s]...)
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
	h := catalog.ProvHead{Subject: s}
	err := c.read(ctx, func(q *rtx) error {
		err := q.queryRow(`SELECT seq, digest FROM prov_heads WHERE subject_kind = ? AND subject_id = ?`, s.Kind, s.ID).Scan(&h.Seq, &h.Digest)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrNotFound
		}
		return err
	})
	if err != nil {
		return catalog.ProvHead{}, fmt.Errorf("provenance head of %s: %w", s, err)
	}
	return h, nil
}

// EntryPath returns the path of a collection or data object by id.
func (c *Catalog) EntryPath(ctx context.Context, s catalog.ProvSubject) (catalog.Path, error) {
	if err := s.Validate(); err != nil {
		return catalog.Path{}, fmt.Errorf("path of %s: %w", s, err)
	}
	var path catalog.Path
	err := c.read(ctx, func(q *rtx) error {
		p, ok, err := endPath(q, linkEnd{kind: s.Kind, id: int64(s.ID)})
		if err == nil && !ok {
			err = catalog.ErrNotFound
		}
		path = p
		return err
	})
	if err != nil {
		return catalog.Path{}, fmt.Errorf("path of %s: %w", s, err)
	}
	return path, nil
}
