package dgraph

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/arca-data/arca/catalog"
)

const resFields = `uid name: P.rname type: P.rtype loc: P.loc ctx: P.ctx status: P.rstatus comment: P.comment
	parent: P.rparent qos: P.rqos ctime: P.ctime mtime: P.mtime`

type resNode struct {
	UID     string `json:"uid"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Loc     string `json:"loc"`
	Ctx     string `json:"ctx"`
	Status  string `json:"status"`
	Comment string `json:"comment"`
	Parent  string `json:"parent"`
	QoS     string `json:"qos"`
	CTime   int64  `json:"ctime"`
	MTime   int64  `json:"mtime"`
}

func (r resNode) resource() catalog.Resource {
	return catalog.Resource{
		ID: idOf(r.UID), Name: r.Name, Type: r.Type, Location: r.Loc, Context: r.Ctx, Status: r.Status,
		Comment: r.Comment, Parent: r.Parent, QoS: r.QoS, CreateTime: fromNanos(r.CTime), ModifyTime: fromNanos(r.MTime),
	}
}

// checkResource validates r and gives it the default status.
func checkResource(r *catalog.Resource) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Status == "" {
		r.Status = "up"
	}
	return nil
}

func (t *tx) resource(name string) (*resNode, error) {
	var out struct {
		N []resNode `json:"n"`
	}
	if err := t.query(`query q($n: string) { n(func: eq(P.rname, $n)) @filter(eq(P.kind, "res")) { `+resFields+` } }`,
		map[string]string{"$n": name}, &out); err != nil {
		return nil, err
	}
	if len(out.N) == 0 {
		return nil, nil
	}
	return &out.N[0], nil
}

// checkParent checks that the parent of r exists and that r is not among
// its ancestors; it touches the ancestors, so that no concurrent change
// makes a cycle.
func (t *tx) checkParent(r catalog.Resource) error {
	seen := map[string]bool{r.Name: true}
	for p := r.Parent; p != ""; {
		if seen[p] {
			return invalid("resource %s cannot be below %s: that makes a cycle", r.Name, r.Parent)
		}
		seen[p] = true
		n, err := t.resource(p)
		if err != nil {
			return err
		}
		if n == nil {
			return fmt.Errorf("parent resource %s: %w", p, catalog.ErrNotFound)
		}
		if err := t.touch(n.UID); err != nil {
			return err
		}
		p = n.Parent
	}
	return nil
}

// CreateResource registers a storage resource.
func (c *Catalog) CreateResource(ctx context.Context, r catalog.Resource) (catalog.Resource, error) {
	fail := func(err error) (catalog.Resource, error) {
		return catalog.Resource{}, fmt.Errorf("create resource %s: %w", r.Name, err)
	}
	if err := checkResource(&r); err != nil {
		return fail(err)
	}
	out := r
	err := c.write(ctx, func(t *tx) error {
		if old, err := t.resource(r.Name); err != nil {
			return err
		} else if old != nil {
			return catalog.ErrExists
		}
		if err := t.checkParent(r); err != nil {
			return err
		}
		n := nowNS()
		uid, err := t.create(map[string]any{
			c.p("kind"): kindResource, c.p("rname"): r.Name, c.p("rtype"): r.Type, c.p("loc"): r.Location,
			c.p("ctx"): r.Context, c.p("rstatus"): r.Status, c.p("comment"): r.Comment, c.p("rparent"): r.Parent,
			c.p("rqos"): r.QoS, c.p("ctime"): n, c.p("mtime"): n,
		})
		out.CreateTime, out.ModifyTime = fromNanos(n), fromNanos(n)
		t.afterCommit(func(resolve func(string) string) { out.ID = idOf(resolve(uid)) })
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// Resource returns the resource called name.
func (c *Catalog) Resource(ctx context.Context, name string) (catalog.Resource, error) {
	var r catalog.Resource
	err := c.read(ctx, func(t *tx) error {
		n, err := t.resource(name)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		r = n.resource()
		return nil
	})
	if err != nil {
		return catalog.Resource{}, fmt.Errorf("resource %s: %w", name, err)
	}
	return r, nil
}

// ListResources returns every resource, ordered by name.
func (c *Catalog) ListResources(ctx context.Context) ([]catalog.Resource, error) {
	var out []catalog.Resource
	err := c.read(ctx, func(t *tx) error {
		var res struct {
			N []resNode `json:"n"`
		}
		if err := t.query(`{ n(func: eq(P.kind, "res")) { `+resFields+` } }`, nil, &res); err != nil {
			return err
		}
		out = nil
		for _, r := range res.N {
			out = append(out, r.resource())
		}
		slices.SortFunc(out, func(a, b catalog.Resource) int { return strings.Compare(a.Name, b.Name) })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list resources: %w", err)
	}
	return out, nil
}

// UpdateResource stores every field of r but its name, id and create time.
func (c *Catalog) UpdateResource(ctx context.Context, r catalog.Resource) error {
	fail := func(err error) error { return fmt.Errorf("update resource %s: %w", r.Name, err) }
	if err := checkResource(&r); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(t *tx) error {
		if err := t.checkParent(r); err != nil {
			return err
		}
		old, err := t.resource(r.Name)
		if err != nil {
			return err
		}
		if old == nil {
			return catalog.ErrNotFound
		}
		return t.set(map[string]any{"uid": old.UID, c.p("rtype"): r.Type, c.p("loc"): r.Location,
			c.p("ctx"): r.Context, c.p("rstatus"): r.Status, c.p("comment"): r.Comment, c.p("rparent"): r.Parent,
			c.p("rqos"): r.QoS, c.p("mtime"): nowNS(), c.p("ver"): randVer()})
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// RemoveResource unregisters a resource that holds no replica and has no
// child resource.
func (c *Catalog) RemoveResource(ctx context.Context, name string) error {
	err := c.write(ctx, func(t *tx) error {
		old, err := t.resource(name)
		if err != nil {
			return err
		}
		if old == nil {
			return catalog.ErrNotFound
		}
		var res struct {
			R []struct {
				N int `json:"n"`
			} `json:"r"`
			C []struct {
				N int `json:"n"`
			} `json:"c"`
		}
		if err := t.query(`query q($n: string) {
			r(func: eq(P.resc, $n)) @filter(eq(P.kind, "r")) { n: count(uid) }
			c(func: eq(P.rparent, $n)) @filter(eq(P.kind, "res")) { n: count(uid) }
		}`, map[string]string{"$n": name}, &res); err != nil {
			return err
		}
		if len(res.R) > 0 && res.R[0].N > 0 {
			return fmt.Errorf("%d replicas remain on it: %w", res.R[0].N, catalog.ErrNotEmpty)
		}
		if len(res.C) > 0 && res.C[0].N > 0 {
			return fmt.Errorf("%d child resources remain below it: %w", res.C[0].N, catalog.ErrNotEmpty)
		}
		avus, err := t.avusOf(old.UID)
		if err != nil {
			return err
		}
		dels := []map[string]any{{"uid": old.UID}}
		for _, a := range avus {
			dels = append(dels, map[string]any{"uid": a.UID})
		}
		return t.del(dels...)
	})
	if err != nil {
		return fmt.Errorf("remove resource %s: %w", name, err)
	}
	return nil
}
