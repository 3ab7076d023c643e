package dgraph

import (
	"context"
	"fmt"

	"github.com/arca-data/arca/catalog"
)

// The QoS requirements of collections and data objects (catalog.QoS): a
// node of kind "qos" with an edge P.qon to its target, so that it follows
// the target through renames; the transactions that remove a target
// remove its requirements (avusOf and below read them with the AVUs).
// P.qrkey (target uid and expression) makes one expression once per
// target, also between concurrent transactions.

const kindQoS = "qos"

const qosFields = `uid expr: P.qexpr n: P.qn by: P.qby ctime: P.ctime on: P.qon { uid kind: P.kind path: P.path }`

type qosNode struct {
	UID   string `json:"uid"`
	Expr  string `json:"expr"`
	N     int    `json:"n"`
	By    string `json:"by"`
	CTime int64  `json:"ctime"`
	On    *struct {
		UID  string `json:"uid"`
		Kind string `json:"kind"`
		Path string `json:"path"`
	} `json:"on"`
}

// requirement turns n into a requirement; ok is false for one whose target
// is gone (none should remain: removals take them along).
func (n qosNode) requirement() (catalog.QoSRequirement, bool) {
	if n.On == nil || n.On.Path == "" {
		return catalog.QoSRequirement{}, false
	}
	p, err := catalog.ParsePath(n.On.Path)
	if err != nil {
		return catalog.QoSRequirement{}, false
	}
	return catalog.QoSRequirement{
		ID: idOf(n.UID), Path: p, Collection: n.On.Kind == kindColl, Expr: n.Expr, Replicas: n.N,
		Creator: parseUserKey(n.By), CreateTime: fromNanos(n.CTime),
	}, true
}

// qosAll reads every requirement that keep(r) accepts, in order. The
// requirements of a zone are few (one per collection a steward cares
// about), so the filter runs here.
func (t *tx) qosAll(keep func(catalog.QoSRequirement) bool) ([]catalog.QoSRequirement, error) {
	var out struct {
		N []qosNode `json:"n"`
	}
	if err := t.query(`{ n(func: eq(P.kind, "`+kindQoS+`")) { `+qosFields+` } }`, nil, &out); err != nil {
		return nil, err
	}
	var rs []catalog.QoSRequirement
	for _, n := range out.N {
		if r, ok := n.requirement(); ok && keep(r) {
			rs = append(rs, r)
		}
	}
	catalog.SortQoSRequirements(rs)
	return rs, nil
}

func (t *tx) qosByID(id catalog.ID) (catalog.QoSRequirement, error) {
	uid := uidOf(id)
	if uid == "" {
		return catalog.QoSRequirement{}, catalog.ErrNotFound
	}
	var out struct {
		N []qosNode `json:"n"`
	}
	if err := t.query(`query q($u: string) { n(func: uid($u)) @filter(eq(P.kind, "`+kindQoS+`")) { `+qosFields+` } }`,
		map[string]string{"$u": uid}, &out); err != nil {
		return catalog.QoSRequirement{}, err
	}
	if len(out.N) == 0 {
		return catalog.QoSRequirement{}, catalog.ErrNotFound
	}
	r, ok := out.N[0].requirement()
	if !ok {
		return catalog.QoSRequirement{}, catalog.ErrNotFound
	}
	return r, nil
}

// AddQoSRequirement stores a requirement on a collection or data object.
func (c *Catalog) AddQoSRequirement(ctx context.Context, r catalog.QoSRequirement) (catalog.QoSRequirement, error) {
	fail := func(err error) (catalog.QoSRequirement, error) {
		return catalog.QoSRequirement{}, fmt.Errorf("add qos requirement on %s: %w", r.Path, err)
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	out := r
	err := c.write(ctx, func(t *tx) error {
		target, err := t.at(r.Path)
		if err != nil {
			return err
		}
		if target == nil {
			return catalog.ErrNotFound
		}
		key := target.UID + "\x00" + r.Expr
		var dup struct {
			N []uidOnly `json:"n"`
		}
		if err := t.query(`query q($k: string) { n(func: eq(P.qrkey, $k)) { uid } }`, map[string]string{"$k": key}, &dup); err != nil {
			return err
		}
		if len(dup.N) > 0 {
			return fmt.Errorf("requirement %q: %w", r.Expr, catalog.ErrExists)
		}
		if err := t.touch(target.UID); err != nil { // conflicts with its removal
			return err
		}
		n := nowNS()
		uid, err := t.create(map[string]any{
			c.p("kind"): kindQoS, c.p("qon"): map[string]string{"uid": target.UID}, c.p("qrkey"): key,
			c.p("qexpr"): r.Expr, c.p("qn"): r.Replicas, c.p("qby"): userKey(r.Creator), c.p("ctime"): n,
		})
		out.CreateTime, out.Collection = fromNanos(n), target.Kind == kindColl
		t.afterCommit(func(resolve func(string) string) { out.ID = idOf(resolve(uid)) })
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// QoSRequirement returns one requirement.
func (c *Catalog) QoSRequirement(ctx context.Context, id catalog.ID) (catalog.QoSRequirement, error) {
	var out catalog.QoSRequirement
	err := c.read(ctx, func(t *tx) (err error) {
		out, err = t.qosByID(id)
		return err
	})
	if err != nil {
		return catalog.QoSRequirement{}, fmt.Errorf("qos requirement %d: %w", id, err)
	}
	return out, nil
}

// RemoveQoSRequirement deletes one requirement; no replica goes with it.
func (c *Catalog) RemoveQoSRequirement(ctx context.Context, id catalog.ID) (catalog.QoSRequirement, error) {
	var out catalog.QoSRequirement
	err := c.write(ctx, func(t *tx) (err error) {
		if out, err = t.qosByID(id); err != nil {
			return err
		}
		return t.del(map[string]any{"uid": uidOf(id)})
	})
	if err != nil {
		return catalog.QoSRequirement{}, fmt.Errorf("remove qos requirement %d: %w", id, err)
	}
	return out, nil
}

// QoSRequirementsOn returns the requirements that apply to p.
func (c *Catalog) QoSRequirementsOn(ctx context.Context, p catalog.Path) ([]catalog.QoSRequirement, error) {
	if err := catalog.CheckPath(p); err != nil {
		return nil, fmt.Errorf("qos requirements on %s: %w", p, err)
	}
	var out []catalog.QoSRequirement
	err := c.read(ctx, func(t *tx) (err error) {
		out, err = t.qosAll(func(r catalog.QoSRequirement) bool {
			return r.Path == p || r.Collection && p.HasPrefix(r.Path)
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("qos requirements on %s: %w", p, err)
	}
	return out, nil
}

// QoSRequirementsBelow returns the requirements on p and below it.
func (c *Catalog) QoSRequirementsBelow(ctx context.Context, p catalog.Path) ([]catalog.QoSRequirement, error) {
	if err := catalog.CheckPath(p); err != nil {
		return nil, fmt.Errorf("qos requirements below %s: %w", p, err)
	}
	var out []catalog.QoSRequirement
	err := c.read(ctx, func(t *tx) (err error) {
		out, err = t.qosAll(func(r catalog.QoSRequirement) bool { return r.Path.HasPrefix(p) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("qos requirements below %s: %w", p, err)
	}
	return out, nil
}
