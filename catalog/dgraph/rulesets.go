package dgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/arca-data/arca/catalog"
)

// The versions of the rule set are nodes of kind "rs": rsver the number
// (indexed, to find the newest), rskey the same number as text under
// @upsert, so that two transactions that append the same version conflict
// on its index key and one is retried (and then finds the version taken),
// doc the version's description as JSON, and rsfiles its files as JSON,
// apart, so that polling and history do not read them.

type ruleSetDoc struct {
	Digest  string         `json:"digest"`
	Author  catalog.UserID `json:"author"`
	Created int64          `json:"created"`
	Comment string         `json:"comment"`
}

type ruleSetNode struct {
	UID   string `json:"uid"`
	Ver   int64  `json:"ver"`
	Doc   string `json:"doc"`
	Files string `json:"files"`
}

func (n ruleSetNode) ruleSet(files bool) (catalog.RuleSet, error) {
	var d ruleSetDoc
	if err := json.Unmarshal([]byte(n.Doc), &d); err != nil {
		return catalog.RuleSet{}, fmt.Errorf("stored rule set %d: %w", n.Ver, err)
	}
	rs := catalog.RuleSet{Version: n.Ver, Digest: d.Digest, Author: d.Author, Created: fromNanos(d.Created), Comment: d.Comment}
	if files {
		rs.Files = map[string][]byte{}
		if n.Files != "" {
			if err := json.Unmarshal([]byte(n.Files), &rs.Files); err != nil {
				return catalog.RuleSet{}, fmt.Errorf("stored rule set %d: files: %w", n.Ver, err)
			}
		}
		for name, b := range rs.Files {
			if b == nil {
				rs.Files[name] = []byte{}
			}
		}
	}
	return rs, nil
}

// ruleSets runs a query of rule set nodes named n; withFiles adds their files.
func (t *tx) ruleSets(filter string, vars map[string]string, withFiles bool) ([]ruleSetNode, error) {
	fields := "uid ver: P.rsver doc: P.doc"
	if withFiles {
		fields += " files: P.rsfiles"
	}
	var out struct {
		N []ruleSetNode `json:"n"`
	}
	if err := t.query(fmt.Sprintf(filter, fields), vars, &out); err != nil {
		return nil, err
	}
	return out.N, nil
}

const newestRuleSet = `{ n(func: eq(P.kind, "rs"), orderdesc: P.rsver, first: 1) { %s } }`

// StoreRuleSet appends rs as version expectVersion+1.
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
	files, err := json.Marshal(rs.Files)
	if err != nil {
		return fail(err)
	}
	next := expectVersion + 1
	err = c.write(ctx, func(t *tx) error {
		newest, err := t.ruleSets(newestRuleSet, nil, false)
		if err != nil {
			return err
		}
		var cur int64
		if len(newest) > 0 {
			cur = newest[0].Ver
		}
		if cur != expectVersion {
			return fmt.Errorf("%w: the rule set is at version %d, not %d", catalog.ErrConflict, cur, expectVersion)
		}
		// Read the key as well: the transaction conflicts on its index
		// key with any other that appends this version.
		taken, err := t.ruleSets(`query q($k: string) { n(func: eq(P.rskey, $k)) { %s } }`,
			map[string]string{"$k": strconv.FormatInt(next, 10)}, false)
		if err != nil {
			return err
		}
		if len(taken) > 0 {
			return fmt.Errorf("%w: rule set version %d is taken", catalog.ErrConflict, next)
		}
		created := nowNS()
		doc, err := json.Marshal(ruleSetDoc{Digest: rs.Digest, Author: rs.Author, Created: created, Comment: rs.Comment})
		if err != nil {
			return err
		}
		rs.Version, rs.Created = next, fromNanos(created)
		_, err = t.create(map[string]any{
			c.p("kind"): kindRuleSet, c.p("rskey"): strconv.FormatInt(next, 10), c.p("rsver"): next,
			c.p("doc"): string(doc), c.p("rsfiles"): string(files),
		})
		return err
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
	err := c.read(ctx, func(t *tx) error {
		v, digest = 0, ""
		ns, err := t.ruleSets(newestRuleSet, nil, false)
		if err != nil || len(ns) == 0 {
			return err
		}
		rs, err := ns[0].ruleSet(false)
		v, digest = rs.Version, rs.Digest
		return err
	})
	if err != nil {
		return 0, "", fmt.Errorf("rule set version: %w", err)
	}
	return v, digest, nil
}

// CurrentRuleSet returns the newest version with its files.
func (c *Catalog) CurrentRuleSet(ctx context.Context) (catalog.RuleSet, error) {
	var rs catalog.RuleSet
	err := c.read(ctx, func(t *tx) error {
		ns, err := t.ruleSets(newestRuleSet, nil, true)
		if err != nil {
			return err
		}
		if len(ns) == 0 {
			return catalog.ErrNotFound
		}
		rs, err = ns[0].ruleSet(true)
		return err
	})
	if err != nil {
		return catalog.RuleSet{}, fmt.Errorf("rule set: %w", err)
	}
	return rs, nil
}

// RuleSetAt returns one version with its files.
func (c *Catalog) RuleSetAt(ctx context.Context, version int64) (catalog.RuleSet, error) {
	if err := catalog.CheckRuleSetVersion(version, 1); err != nil {
		return catalog.RuleSet{}, err
	}
	var rs catalog.RuleSet
	err := c.read(ctx, func(t *tx) error {
		ns, err := t.ruleSets(`query q($k: string) { n(func: eq(P.rskey, $k)) @filter(eq(P.kind, "rs")) { %s } }`,
			map[string]string{"$k": strconv.FormatInt(version, 10)}, true)
		if err != nil {
			return err
		}
		if len(ns) == 0 {
			return catalog.ErrNotFound
		}
		rs, err = ns[0].ruleSet(true)
		return err
	})
	if err != nil {
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
	err := c.read(ctx, func(t *tx) error {
		out = nil
		ns, err := t.ruleSets(`{ n(func: eq(P.kind, "rs"), orderdesc: P.rsver, first: `+strconv.Itoa(limit)+`) { %s } }`, nil, false)
		if err != nil {
			return err
		}
		for _, n := range ns {
			rs, err := n.ruleSet(false)
			if err != nil {
				return err
			}
			out = append(out, rs)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rule set history: %w", err)
	}
	return out, nil
}
