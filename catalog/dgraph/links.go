package dgraph

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// Links are nodes of kind "l" with edges lfrom and lto to their ends and
// the relation in rel; lkey ("from|relation|to" by uid) is unique. They
// follow their ends through renames; a link whose end is gone is ignored
// by every read (uids are never reused). The graph queries walk them level
// by level, one query per level for the whole frontier.

type linkEnd struct {
	UID  string `json:"uid"`
	Kind string `json:"kind"`
	Path string `json:"path"`
}

func (e linkEnd) live() bool { return e.Kind == kindColl || e.Kind == kindObj }

func linkKey(from, rel, to string) string { return from + "|" + rel + "|" + to }

// ends resolves the two ends of l.
func (t *tx) ends(l catalog.Link) (from, to *node, err error) {
	if from, err = t.at(l.From); err != nil {
		return nil, nil, err
	}
	if from == nil {
		return nil, nil, fmt.Errorf("%s: %w", l.From, catalog.ErrNotFound)
	}
	if to, err = t.at(l.To); err != nil {
		return nil, nil, err
	}
	if to == nil {
		return nil, nil, fmt.Errorf("%s: %w", l.To, catalog.ErrNotFound)
	}
	return from, to, nil
}

func (t *tx) linkUID(key string) (string, error) {
	var out struct {
		N []uidOnly `json:"n"`
	}
	if err := t.query(`query q($k: string) { n(func: eq(P.lkey, $k)) @filter(eq(P.kind, "l")) { uid } }`,
		map[string]string{"$k": key}, &out); err != nil {
		return "", err
	}
	if len(out.N) == 0 {
		return "", nil
	}
	return out.N[0].UID, nil
}

// AddLink records l.
func (c *Catalog) AddLink(ctx context.Context, l catalog.Link) error {
	if err := l.Validate(); err != nil {
		return err
	}
	err := c.write(ctx, func(t *tx) error {
		from, to, err := t.ends(l)
		if err != nil {
			return err
		}
		key := linkKey(from.UID, l.Relation, to.UID)
		if u, err := t.linkUID(key); err != nil {
			return err
		} else if u != "" {
			return fmt.Errorf("insert link: %w", catalog.ErrExists)
		}
		// Removing an end deletes its node, which conflicts with these.
		if err := t.touch(from.UID, to.UID); err != nil {
			return err
		}
		_, err = t.create(map[string]any{c.p("kind"): kindLink, c.p("lfrom"): map[string]string{"uid": from.UID},
			c.p("lto"): map[string]string{"uid": to.UID}, c.p("rel"): l.Relation, c.p("lkey"): key})
		return err
	})
	if err != nil {
		return fmt.Errorf("add link %s: %w", l, err)
	}
	return nil
}

// RemoveLink removes l.
func (c *Catalog) RemoveLink(ctx context.Context, l catalog.Link) error {
	if err := l.Validate(); err != nil {
		return err
	}
	err := c.write(ctx, func(t *tx) error {
		from, to, err := t.ends(l)
		if err != nil {
			return err
		}
		u, err := t.linkUID(linkKey(from.UID, l.Relation, to.UID))
		if err != nil {
			return err
		}
		if u == "" {
			return catalog.ErrNotFound
		}
		return t.del(map[string]any{"uid": u})
	})
	if err != nil {
		return fmt.Errorf("remove link %s: %w", l, err)
	}
	return nil
}

func sortLinks(ls []catalog.Link) {
	slices.SortFunc(ls, func(a, b catalog.Link) int {
		return cmp.Or(strings.Compare(a.From.String(), b.From.String()), strings.Compare(a.Relation, b.Relation),
			strings.Compare(a.To.String(), b.To.String()))
	})
}

// LinksOf returns the links from or to p.
func (c *Catalog) LinksOf(ctx context.Context, p catalog.Path) ([]catalog.Link, error) {
	var out []catalog.Link
	err := c.read(ctx, func(t *tx) error {
		out = nil
		n, err := t.at(p)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		var res struct {
			N []struct {
				Out []struct {
					Rel string  `json:"rel"`
					To  linkEnd `json:"to"`
				} `json:"out"`
				In []struct {
					Rel  string  `json:"rel"`
					From linkEnd `json:"from"`
				} `json:"in"`
			} `json:"n"`
		}
		if err := t.query(`query q($u: string) { n(func: uid($u)) {
			out: ~P.lfrom @filter(eq(P.kind, "l")) { rel: P.rel to: P.lto { uid kind: P.kind path: P.path } }
			in: ~P.lto @filter(eq(P.kind, "l")) { rel: P.rel from: P.lfrom { uid kind: P.kind path: P.path } }
		} }`, map[string]string{"$u": n.UID}, &res); err != nil {
			return err
		}
		if len(res.N) == 0 {
			return nil
		}
		add := func(from, rel, to string) error {
			fp, err := catalog.ParsePath(from)
			if err != nil {
				return err
			}
			tp, err := catalog.ParsePath(to)
			if err != nil {
				return err
			}
			out = append(out, catalog.Link{From: fp, Relation: rel, To: tp})
			return nil
		}
		for _, l := range res.N[0].Out {
			if l.To.live() {
				if err := add(n.Path, l.Rel, l.To.Path); err != nil {
					return err
				}
			}
		}
		for _, l := range res.N[0].In {
			if l.From.live() && l.From.UID != n.UID { // a self-link is not allowed; be safe
				if err := add(l.From.Path, l.Rel, n.Path); err != nil {
					return err
				}
			}
		}
		sortLinks(out)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("links of %s: %w", p, err)
	}
	return out, nil
}

// step is one link found while walking the graph.
type step struct {
	from, to linkEnd
	rel      string
}

// neighbours reads the live links out of (and, with both, into) the
// nodes uids, of relation rel ("" for any).
func (t *tx) neighbours(uids []string, rel string, both bool) ([]step, error) {
	filter := `eq(P.kind, "l")`
	vars := map[string]string{}
	q := `{ n(func: uid(` + strings.Join(uids, ", ") + `)) { uid kind: P.kind path: P.path
		out: ~P.lfrom @filter(` + filter + `) { rel: P.rel end: P.lto { uid kind: P.kind path: P.path } }`
	if rel != "" {
		q = strings.Replace(q, "{ n(", "query q($r: string) { n(", 1)
		q = strings.Replace(q, filter, filter+` AND eq(P.rel, $r)`, 1)
		vars["$r"] = rel
	}
	if both {
		q += ` in: ~P.lto @filter(eq(P.kind, "l")) { rel: P.rel end: P.lfrom { uid kind: P.kind path: P.path } }`
	}
	q += ` } }`
	type half struct {
		Rel string  `json:"rel"`
		End linkEnd `json:"end"`
	}
	var res struct {
		N []struct {
			linkEnd
			Out []half `json:"out"`
			In  []half `json:"in"`
		} `json:"n"`
	}
	if err := t.query(q, vars, &res); err != nil {
		return nil, err
	}
	var out []step
	for _, n := range res.N {
		if !n.live() {
			continue
		}
		for _, h := range n.Out {
			if h.End.live() {
				out = append(out, step{from: n.linkEnd, to: h.End, rel: h.Rel})
			}
		}
		for _, h := range n.In {
			if h.End.live() {
				out = append(out, step{from: n.linkEnd, to: h.End, rel: h.Rel})
			}
		}
	}
	return out, nil
}

// Chain follows links of relation out of p, level by level.
func (c *Catalog) Chain(ctx context.Context, p catalog.Path, relation string, depth int) ([]catalog.Link, error) {
	if err := catalog.CheckChain(relation, depth); err != nil {
		return nil, fmt.Errorf("chain of %s: %w", p, err)
	}
	var out []catalog.Link
	err := c.read(ctx, func(t *tx) error {
		out = nil
		n, err := t.at(p)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		seen := map[string]bool{n.UID: true}
		frontier := []string{n.UID}
		for level := 0; level < depth && len(frontier) > 0; level++ {
			steps, err := t.neighbours(frontier, relation, false)
			if err != nil {
				return err
			}
			var links []catalog.Link
			frontier = nil
			for _, s := range steps {
				fp, err := catalog.ParsePath(s.from.Path)
				if err != nil {
					return err
				}
				tp, err := catalog.ParsePath(s.to.Path)
				if err != nil {
					return err
				}
				links = append(links, catalog.Link{From: fp, Relation: s.rel, To: tp})
				if !seen[s.to.UID] {
					seen[s.to.UID] = true
					frontier = append(frontier, s.to.UID)
				}
			}
			sortLinks(links)
			out = append(out, links...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chain of %s: %w", p, err)
	}
	return out, nil
}

// Linked returns what is reachable from p through links in either direction.
func (c *Catalog) Linked(ctx context.Context, p catalog.Path, depth int) ([]catalog.Path, error) {
	if err := catalog.CheckDepth(depth); err != nil {
		return nil, fmt.Errorf("linked to %s: %w", p, err)
	}
	var out []catalog.Path
	err := c.read(ctx, func(t *tx) error {
		out = nil
		n, err := t.at(p)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		seen := map[string]bool{n.UID: true}
		frontier := []string{n.UID}
		for level := 0; level < depth && len(frontier) > 0; level++ {
			steps, err := t.neighbours(frontier, "", true)
			if err != nil {
				return err
			}
			frontier = nil
			for _, s := range steps {
				if seen[s.to.UID] {
					continue
				}
				seen[s.to.UID] = true
				frontier = append(frontier, s.to.UID)
				tp, err := catalog.ParsePath(s.to.Path)
				if err != nil {
					return err
				}
				out = append(out, tp)
			}
		}
		slices.SortFunc(out, func(a, b catalog.Path) int { return strings.Compare(a.String(), b.String()) })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("linked to %s: %w", p, err)
	}
	return out, nil
}
