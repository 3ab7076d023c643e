package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

const ruleSetCols = `version, digest, author_name, author_zone, create_ns, comment`

func scanRuleSet(s interface{ Scan(...any) error }) (catalog.RuleSet, error) {
	var (
		rs      catalog.RuleSet
		created int64
	)
	err := s.Scan(&rs.Version, &rs.Digest, &rs.Author.Name, &rs.Author.Zone, &created, &rs.Comment)
	rs.Created = fromNanos(created)
	return rs, err
}

// StoreRuleSet appends rs as version expectVersion+1 in one write
// transaction: the writer's BEGIN IMMEDIATE serializes it with every other
// write to the file, from this process or another.
func (c *Catalog) StoreRuleSet(ctx context.Context, rs catalog.RuleSet, expectVersion int64) (catalog.RuleSet, error) {
	fail := func(err error) (catalog.RuleSet, error) {
		return catalog.RuleSet{}, fmt.Errorf("store rule set version %d: %w", expectVersion+1, err)
	}
	if err := catalog.CheckRuleSetVersion(expectVersion, 0); err != nil {
		return fail(err)
	}
	if err := rs.Validate(); err != nil {
		return fail(err)
	}
	rs.Digest = catalog.RuleSetDigest(rs.Files)
	err := c.write(ctx, func(w *wtx) error {
		var cur int64
		if err := w.queryRow(`SELECT coalesce(max(version), 0) FROM rule_sets`).Scan(&cur); err != nil {
			return err
		}
		if cur != expectVersion {
			return fmt.Errorf("%w: the rule set is at version %d, not %d", catalog.ErrConflict, cur, expectVersion)
		}
		t, n := now()
		rs.Version, rs.Created = expectVersion+1, t
		if _, err := w.exec(`INSERT INTO rule_sets (`+ruleSetCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
			rs.Version, rs.Digest, rs.Author.Name, rs.Author.Zone, n, rs.Comment); err != nil {
			return mapErr("insert", err)
		}
		for name, b := range rs.Files {
			if b == nil {
				b = []byte{}
			}
			if _, err := w.exec(`INSERT INTO rule_files (version, name, content) VALUES (?, ?, ?)`, rs.Version, name, b); err != nil {
				return mapErr("insert file", err)
			}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return rs, nil
}

// RuleSetVersion returns the newest version and its digest.
func (c *Catalog) RuleSetVersion(ctx context.Context) (int64, string, error) {
	var (
		v      int64
		digest string
	)
	err := c.read(ctx, func(q *rtx) error {
		err := q.queryRow(`SELECT version, digest FROM rule_sets ORDER BY version DESC LIMIT 1`).Scan(&v, &digest)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, "", fmt.Errorf("rule set version: %w", err)
	}
	return v, digest, nil
}

// CurrentRuleSet returns the newest version with its files.
func (c *Catalog) CurrentRuleSet(ctx context.Context) (catalog.RuleSet, error) {
	return c.ruleSet(ctx, 0)
}

// RuleSetAt returns one version with its files.
func (c *Catalog) RuleSetAt(ctx context.Context, version int64) (catalog.RuleSet, error) {
	if err := catalog.CheckRuleSetVersion(version, 1); err != nil {
		return catalog.RuleSet{}, err
	}
	return c.ruleSet(ctx, version)
}

// ruleSet reads version (0: the newest) and its files in one snapshot.
func (c *Catalog) ruleSet(ctx context.Context, version int64) (catalog.RuleSet, error) {
	var rs catalog.RuleSet
	err := c.read(ctx, func(q *rtx) error {
		var err error
		if version == 0 {
			rs, err = scanRuleSet(q.queryRow(`SELECT ` + ruleSetCols + ` FROM rule_sets ORDER BY version DESC LIMIT 1`))
		} else {
			rs, err = scanRuleSet(q.queryRow(`SELECT `+ruleSetCols+` FROM rule_sets WHERE version = ?`, version))
		}
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.ErrNotFound
		}
		if err != nil {
			return err
		}
		rows, err := q.query(`SELECT name, content FROM rule_files WHERE version = ?`, rs.Version)
		if err != nil {
			return err
		}
		defer rows.Close()
		rs.Files = map[string][]byte{}
		for rows.Next() {
			var (
				name string
				b    []byte
			)
			if err := rows.Scan(&name, &b); err != nil {
				return err
			}
			if b == nil {
				b = []byte{}
			}
			rs.Files[name] = b
		}
		return rows.Err()
	})
	if err != nil {
		if version == 0 {
			return catalog.RuleSet{}, fmt.Errorf("rule set: %w", err)
		}
		return catalog.RuleSet{}, fmt.Errorf("rule set version %d: %w", version, err)
	}
	return rs, nil
}

// RuleSetHistory returns the newest versions first, without files.
func (c *Catalog) RuleSetHistory(ctx context.Context, limit int) ([]catalog.RuleSet, error) {
	if err := catalog.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("rule set history: %w", err)
	}
	var out []catalog.RuleSet
	err := c.read(ctx, func(q *rtx) error {
		out = nil
		rows, err := q.query(`SELECT `+ruleSetCols+` FROM rule_sets ORDER BY version DESC LIMIT ?`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			rs, err := scanRuleSet(rows)
			if err != nil {
				return err
			}
			out = append(out, rs)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("rule set history: %w", err)
	}
	return out, nil
}
