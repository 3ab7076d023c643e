package dgraph

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/arca-data/arca/catalog"
)

type avuNode struct {
	UID  string `json:"uid"`
	Attr string `json:"attr"`
	Val  string `json:"val"`
	Unit string `json:"unit"`
}

func (a avuNode) avu() catalog.AVU { return catalog.AVU{Attribute: a.Attr, Value: a.Val, Unit: a.Unit} }

// resolveTarget finds the uid of the node t names.
func (t *tx) resolveTarget(target catalog.AVUTarget) (string, error) {
	switch target.Kind {
	case catalog.TargetDataObject:
		n, err := t.objAt(target.Path)
		if err != nil {
			return "", err
		}
		return n.UID, nil
	case catalog.TargetCollection:
		n, err := t.collAt(target.Path)
		if err != nil {
			return "", err
		}
		return n.UID, nil
	case catalog.TargetResource:
		n, err := t.resource(target.Name)
		if err != nil {
			return "", err
		}
		if n == nil {
			return "", catalog.ErrNotFound
		}
		return n.UID, nil
	case catalog.TargetUser:
		n, err := t.userByID(target.User)
		if err != nil {
			return "", err
		}
		if n == nil {
			return "", catalog.ErrNotFound
		}
		return n.UID, nil
	}
	return "", invalid("unknown AVU target kind %d", int(target.Kind))
}

// avuNodes reads the AVUs of the node uid, in ListMetadata order.
func (t *tx) avuNodes(uid string) ([]avuNode, error) {
	var out struct {
		N []struct {
			AVUs []avuNode `json:"avus"`
		} `json:"n"`
	}
	if err := t.query(`query q($u: string) {
		n(func: uid($u)) { avus: ~P.of @filter(eq(P.kind, "avu")) { uid attr: P.attr val: P.val unit: P.unit } }
	}`, map[string]string{"$u": uid}, &out); err != nil {
		return nil, err
	}
	if len(out.N) == 0 {
		return nil, nil
	}
	as := out.N[0].AVUs
	slices.SortFunc(as, func(a, b avuNode) int {
		return cmp.Or(strings.Compare(a.Attr, b.Attr), strings.Compare(a.Val, b.Val), strings.Compare(a.Unit, b.Unit))
	})
	return as, nil
}

// addAVUs attaches avus to the node uid. With merge, an AVU it has is
// kept; without, it is ErrExists.
func (t *tx) addAVUs(uid string, avus []catalog.AVU, merge bool) error {
	if len(avus) == 0 {
		return nil
	}
	have, err := t.avuNodes(uid)
	if err != nil {
		return err
	}
	seen := map[catalog.AVU]bool{}
	for _, a := range have {
		seen[a.avu()] = true
	}
	var ms []map[string]any
	for _, a := range avus {
		if seen[a] {
			if merge {
				continue
			}
			return fmt.Errorf("add AVU %s: %w", a, catalog.ErrExists)
		}
		seen[a] = true
		ms = append(ms, map[string]any{
			"uid": t.blank(), "dgraph.type": t.c.typ,
			t.c.p("kind"): kindAVU, t.c.p("of"): map[string]string{"uid": uid},
			t.c.p("attr"): a.Attribute, t.c.p("val"): a.Value, t.c.p("unit"): a.Unit,
		})
	}
	if err := t.touch(uid); err != nil {
		return err
	}
	return t.set(ms...)
}

func (t *tx) mergeAVUs(uid string, avus []catalog.AVU) error { return t.addAVUs(uid, avus, true) }

// AddMetadata attaches avus to t in one transaction.
func (c *Catalog) AddMetadata(ctx context.Context, t catalog.AVUTarget, avus ...catalog.AVU) error {
	return c.AddMetadataBulk(ctx, []catalog.AVUBatch{{Target: t, AVUs: avus}})
}

// AddMetadataBulk attaches the AVUs of every item of batch in one transaction.
func (c *Catalog) AddMetadataBulk(ctx context.Context, batch []catalog.AVUBatch) error {
	fail := func(err error) error {
		if len(batch) == 1 {
			return fmt.Errorf("add metadata to %s: %w", batch[0].Target, err)
		}
		return fmt.Errorf("add metadata: %w", err)
	}
	if err := catalog.ValidateBatch(batch); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(t *tx) error {
		// Items naming one target are added together, so that an AVU given
		// twice for it is found.
		byUID := map[string][]catalog.AVU{}
		var order []string
		for _, b := range batch {
			uid, err := t.resolveTarget(b.Target)
			if err == nil {
				for _, a := range b.AVUs {
					if slices.Contains(byUID[uid], a) {
						err = fmt.Errorf("add AVU %s: %w", a, catalog.ErrExists)
						break
					}
				}
			}
			if err != nil {
				if len(batch) > 1 {
					return fmt.Errorf("%s: %w", b.Target, err)
				}
				return err
			}
			if _, ok := byUID[uid]; !ok {
				order = append(order, uid)
			}
			byUID[uid] = append(byUID[uid], b.AVUs...)
		}
		for _, uid := range order {
			if err := t.addAVUs(uid, byUID[uid], false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// changeAVUs checks target and bad, then runs fn in one write transaction
// with the target's AVUs.
func (c *Catalog) changeAVUs(ctx context.Context, target catalog.AVUTarget, bad error, fn func(t *tx, uid string, have []avuNode) error) error {
	if err := target.Validate(); err != nil {
		return err
	}
	if bad != nil {
		return bad
	}
	return c.write(ctx, func(t *tx) error {
		uid, err := t.resolveTarget(target)
		if err != nil {
			return err
		}
		have, err := t.avuNodes(uid)
		if err != nil {
			return err
		}
		if err := t.touch(uid); err != nil {
			return err
		}
		return fn(t, uid, have)
	})
}

// setAVUs sets the AVUs of every item of batch, in order, as SetMetadata
// does: each replaces the AVUs of its target with its attribute. Items
// naming one target are merged first, since the transaction's reads do
// not see its own mutations.
func (t *tx) setAVUs(batch []catalog.AVUBatch) error {
	byUID := map[string][]catalog.AVU{}
	var order []string
	for _, b := range batch {
		uid, err := t.resolveTarget(b.Target)
		if err != nil {
			return fmt.Errorf("set metadata on %s: %w", b.Target, err)
		}
		if _, ok := byUID[uid]; !ok {
			order = append(order, uid)
		}
		attrs := map[string]bool{}
		for _, a := range b.AVUs {
			attrs[a.Attribute] = true
		}
		byUID[uid] = append(slices.DeleteFunc(byUID[uid], func(a catalog.AVU) bool { return attrs[a.Attribute] }), b.AVUs...)
	}
	for _, uid := range order {
		avus := byUID[uid]
		attrs := map[string]bool{}
		for _, a := range avus {
			attrs[a.Attribute] = true
		}
		have, err := t.avuNodes(uid)
		if err != nil {
			return err
		}
		var dels []map[string]any
		for _, a := range have {
			if attrs[a.Attr] {
				dels = append(dels, map[string]any{"uid": a.UID})
			}
		}
		if err := t.del(dels...); err != nil {
			return err
		}
		if err := t.touch(uid); err != nil {
			return err
		}
		ms := make([]map[string]any, 0, len(avus))
		for _, a := range avus {
			ms = append(ms, map[string]any{"uid": t.blank(), "dgraph.type": t.c.typ,
				t.c.p("kind"): kindAVU, t.c.p("of"): map[string]string{"uid": uid},
				t.c.p("attr"): a.Attribute, t.c.p("val"): a.Value, t.c.p("unit"): a.Unit})
		}
		if err := t.set(ms...); err != nil {
			return err
		}
	}
	return nil
}

// SetMetadata replaces every AVU of t with avu's attribute by avu.
func (c *Catalog) SetMetadata(ctx context.Context, target catalog.AVUTarget, avu catalog.AVU) error {
	err := c.changeAVUs(ctx, target, avu.Validate(), func(t *tx, uid string, have []avuNode) error {
		var dels []map[string]any
		for _, a := range have {
			if a.Attr == avu.Attribute {
				dels = append(dels, map[string]any{"uid": a.UID})
			}
		}
		if err := t.del(dels...); err != nil {
			return err
		}
		return t.set(map[string]any{"uid": t.blank(), "dgraph.type": c.typ,
			c.p("kind"): kindAVU, c.p("of"): map[string]string{"uid": uid},
			c.p("attr"): avu.Attribute, c.p("val"): avu.Value, c.p("unit"): avu.Unit})
	})
	if err != nil {
		return fmt.Errorf("set metadata %s on %s: %w", avu, target, err)
	}
	return nil
}

// RemoveMetadata removes the AVU avu of t.
func (c *Catalog) RemoveMetadata(ctx context.Context, target catalog.AVUTarget, avu catalog.AVU) error {
	err := c.changeAVUs(ctx, target, avu.Validate(), func(t *tx, uid string, have []avuNode) error {
		for _, a := range have {
			if a.avu() == avu {
				return t.del(map[string]any{"uid": a.UID})
			}
		}
		return fmt.Errorf("no such AVU: %w", catalog.ErrNotFound)
	})
	if err != nil {
		return fmt.Errorf("remove metadata %s from %s: %w", avu, target, err)
	}
	return nil
}

// RemoveMetadataMatching removes every AVU of t that matches pattern.
func (c *Catalog) RemoveMetadataMatching(ctx context.Context, target catalog.AVUTarget, pattern catalog.AVU) ([]catalog.AVU, error) {
	var removed []catalog.AVU
	err := c.changeAVUs(ctx, target, catalog.ValidatePattern(pattern), func(t *tx, uid string, have []avuNode) error {
		removed = nil
		var dels []map[string]any
		for _, a := range have {
			if catalog.MatchLike(pattern.Attribute, a.Attr) && catalog.MatchLike(pattern.Value, a.Val) &&
				catalog.MatchLike(pattern.Unit, a.Unit) {
				dels = append(dels, map[string]any{"uid": a.UID})
				removed = append(removed, a.avu())
			}
		}
		if len(removed) == 0 {
			return fmt.Errorf("no AVU matches: %w", catalog.ErrNotFound)
		}
		return t.del(dels...)
	})
	if err != nil {
		return nil, fmt.Errorf("remove metadata matching %s from %s: %w", pattern, target, err)
	}
	return removed, nil
}

// ModifyMetadata replaces the AVU old of t by new.
func (c *Catalog) ModifyMetadata(ctx context.Context, target catalog.AVUTarget, old, new catalog.AVU) error {
	err := c.changeAVUs(ctx, target, catalog.ValidateAVUChange(old, new), func(t *tx, uid string, have []avuNode) error {
		var found *avuNode
		for i, a := range have {
			if a.avu() == old {
				found = &have[i]
			}
		}
		if found == nil {
			return fmt.Errorf("no such AVU: %w", catalog.ErrNotFound)
		}
		if old == new {
			return nil
		}
		for _, a := range have {
			if a.avu() == new {
				return fmt.Errorf("update: %w", catalog.ErrExists)
			}
		}
		return t.set(map[string]any{"uid": found.UID, c.p("attr"): new.Attribute, c.p("val"): new.Value, c.p("unit"): new.Unit})
	})
	if err != nil {
		return fmt.Errorf("modify metadata %s of %s to %s: %w", old, target, new, err)
	}
	return nil
}

// ListMetadata returns the AVUs of t.
func (c *Catalog) ListMetadata(ctx context.Context, target catalog.AVUTarget) ([]catalog.AVU, error) {
	fail := func(err error) ([]catalog.AVU, error) { return nil, fmt.Errorf("list metadata of %s: %w", target, err) }
	if err := target.Validate(); err != nil {
		return fail(err)
	}
	var out []catalog.AVU
	err := c.read(ctx, func(t *tx) error {
		uid, err := t.resolveTarget(target)
		if err != nil {
			return err
		}
		have, err := t.avuNodes(uid)
		if err != nil {
			return err
		}
		out = nil
		for _, a := range have {
			out = append(out, a.avu())
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}
