package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/arca-data/arca/catalog"
)

const recordCols = `kind, rkey, ref, owner_name, owner_zone, version, doc, create_ns, modify_ns`

func scanRecord(s interface{ Scan(...any) error }) (catalog.Record, error) {
	var (
		r                catalog.Record
		created, changed int64
	)
	err := s.Scan(&r.Kind, &r.Key, &r.Ref, &r.Owner.Name, &r.Owner.Zone, &r.Version, &r.Doc, &created, &changed)
	r.CreateTime, r.ModifyTime = fromNanos(created), fromNanos(changed)
	return r, err
}

// CreateRecord stores a new record.
func (c *Catalog) CreateRecord(ctx context.Context, r catalog.Record) (catalog.Record, error) {
	if err := r.Validate(); err != nil {
		return catalog.Record{}, fmt.Errorf("create %s record: %w", r.Kind, err)
	}
	if r.Doc == nil {
		r.Doc = []byte{}
	}
	err := c.write(ctx, func(w *wtx) error {
		t, n := now()
		_, err := w.exec(`INSERT INTO records (`+recordCols+`) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)`,
			r.Kind, r.Key, r.Ref, r.Owner.Name, r.Owner.Zone, r.Doc, n, n)
		r.Version, r.CreateTime, r.ModifyTime = 1, t, t
		return mapErr("insert", err)
	})
	if err != nil {
		return catalog.Record{}, fmt.Errorf("create %s record %s: %w", r.Kind, r.Key, err)
	}
	return r, nil
}

// Record returns one record.
func (c *Catalog) Record(ctx context.Context, kind, key string) (catalog.Record, error) {
	var r catalog.Record
	err := c.read(ctx, func(q *rtx) error {
		var err error
		r, err = scanRecord(q.queryRow(`SELECT `+recordCols+` FROM records WHERE kind = ? AND rkey = ?`, kind, key))
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrNotFound
		}
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
	err := c.write(ctx, func(w *wtx) error {
		var (
			version int64
			created int64
		)
		err := w.queryRow(`SELECT version, create_ns FROM records WHERE kind = ? AND rkey = ?`, r.Kind, r.Key).Scan(&version, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrNotFound
		}
		if err != nil {
			return err
		}
		if version != r.Version {
			return fmt.Errorf("%w: version %d was read, the record is at %d", catalog.ErrConflict, r.Version, version)
		}
		t, n := now()
		if _, err := w.exec(`UPDATE records SET ref = ?, owner_name = ?, owner_zone = ?, version = ?, doc = ?, modify_ns = ? WHERE kind = ? AND rkey = ?`,
			r.Ref, r.Owner.Name, r.Owner.Zone, version+1, r.Doc, n, r.Kind, r.Key); err != nil {
			return mapErr("update", err)
		}
		r.Version, r.CreateTime, r.ModifyTime = version+1, fromNanos(created), t
		return nil
	})
	if err != nil {
		return catalog.Record{}, fmt.Errorf("update %s record %s: %w", r.Kind, r.Key, err)
	}
	return r, nil
}

// RecordsByRef returns the records about refs.
func (c *Catalog) RecordsByRef(ctx context.Context, kind string, refs []string) ([]catalog.Record, error) {
	if err := catalog.CheckRecordRefs(kind, refs); err != nil {
		return nil, fmt.Errorf("%s records: %w", kind, err)
	}
	var out []catalog.Record
	err := c.read(ctx, func(q *rtx) error {
		out = out[:0]
		seen := map[string]bool{}
		for _, ref := range refs {
			if ref == "" || seen[ref] {
				continue
			}
			seen[ref] = true
			// Sorted below; an ORDER BY here would have SQLite walk the
			// primary key instead of the index on ref.
			rows, err := q.query(`SELECT `+recordCols+` FROM records INDEXED BY records_ref WHERE kind = ? AND ref = ?`, kind, ref)
			if err != nil {
				return err
			}
			for rows.Next() {
				r, err := scanRecord(rows)
				if err != nil {
					rows.Close()
					return err
				}
				out = append(out, r)
			}
			if err := rows.Close(); err != nil {
				return err
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
	err := c.read(ctx, func(q *rtx) error {
		out = out[:0]
		rows, err := q.query(`SELECT `+recordCols+` FROM records WHERE kind = ? AND rkey > ? ORDER BY rkey LIMIT ?`, kind, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRecord(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list %s records: %w", kind, err)
	}
	return out, nil
}

// CreateRecords stores records and sets AVUs in one transaction.
func (c *Catalog) CreateRecords(ctx context.Context, recs []catalog.Record, set []catalog.AVUBatch) ([]catalog.Record, error) {
	if err := catalog.ValidateRecordsBatch(recs, set); err != nil {
		return nil, fmt.Errorf("create records: %w", err)
	}
	out := make([]catalog.Record, len(recs))
	err := c.write(ctx, func(w *wtx) error {
		t, n := now()
		for i, r := range recs {
			if r.Doc == nil {
				r.Doc = []byte{}
			}
			_, err := w.exec(`INSERT INTO records (`+recordCols+`) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)`,
				r.Kind, r.Key, r.Ref, r.Owner.Name, r.Owner.Zone, r.Doc, n, n)
			if err != nil {
				return fmt.Errorf("%s record %s: %w", r.Kind, r.Key, mapErr("insert", err))
			}
			r.Version, r.CreateTime, r.ModifyTime = 1, t, t
			out[i] = r
		}
		for _, b := range set {
			if err := setAVUs(w, b); err != nil {
				return fmt.Errorf("set metadata on %s: %w", b.Target, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create records: %w", err)
	}
	return out, nil
}

// setAVUs replaces the AVUs of b's target that have the attributes of
// b's AVUs by them: one DELETE and one INSERT for a few AVUs (a PID's
// mirror), an INSERT each beyond that.
func setAVUs(w *wtx, b catalog.AVUBatch) error {
	kind, id, err := resolveTarget(w, b.Target)
	if err != nil {
		return err
	}
	var attrs []any
	seen := map[string]bool{}
	for _, a := range b.AVUs {
		if !seen[a.Attribute] {
			seen[a.Attribute] = true
			attrs = append(attrs, a.Attribute)
		}
	}
	for len(attrs) > 0 {
		n := min(len(attrs), maxSetAVUs)
		if _, err := w.exec(`DELETE FROM avus WHERE kind = ? AND target_id = ? AND attribute IN (?`+strings.Repeat(", ?", n-1)+`)`,
			append([]any{kind, id}, attrs[:n]...)...); err != nil {
			return err
		}
		attrs = attrs[n:]
	}
	if len(b.AVUs) > maxSetAVUs {
		for _, a := range b.AVUs {
			if err := insertAVU(w, kind, id, a); err != nil {
				return err
			}
		}
		return nil
	}
	args := make([]any, 0, 5*len(b.AVUs))
	for _, a := range b.AVUs {
		args = append(args, kind, id, a.Attribute, a.Value, a.Unit)
	}
	_, err = w.exec(`INSERT INTO avus (kind, target_id, attribute, value, unit) VALUES (?, ?, ?, ?, ?)`+
		strings.Repeat(", (?, ?, ?, ?, ?)", len(b.AVUs)-1), args...)
	return mapErr("add AVUs", err)
}

// maxSetAVUs bounds the AVUs setAVUs writes in one statement.
const maxSetAVUs = 16
