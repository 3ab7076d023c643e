package dgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// Quotas are nodes of kind "quota": a JSON document with the limits, the
// principal's key in towner (user and group quotas) or an edge of to the
// collection (collection quotas, which so go with it), and a unique qkey.
// Usage is counted when asked, from the objects and replicas the quota
// covers: the replicas that are not intermediate, and the objects that have
// one (puts in progress count nothing, so that they do not count against
// each other; issue 23). A commit checked against a quota touches its
// node, so that two commits that count against one quota are serialized
// and never together pass it.

type quotaNode struct {
	UID string `json:"uid"`
	Doc string `json:"doc"`
	Of  struct {
		Kind string `json:"kind"`
		Path string `json:"path"`
	} `json:"of"`
}

type quotaDoc struct {
	Kind       catalog.QuotaKind
	Principal  catalog.UserID
	Resource   string
	MaxBytes   int64
	MaxObjects int64
}

const quotaFields = `uid doc: P.doc of: P.of { kind: P.kind path: P.path }`

func (n quotaNode) quota() (catalog.Quota, bool, error) {
	var d quotaDoc
	if err := json.Unmarshal([]byte(n.Doc), &d); err != nil {
		return catalog.Quota{}, false, fmt.Errorf("stored quota: %w", err)
	}
	q := catalog.Quota{Kind: d.Kind, Principal: d.Principal, Resource: d.Resource, MaxBytes: d.MaxBytes, MaxObjects: d.MaxObjects}
	if q.Kind == catalog.QuotaCollection {
		if n.Of.Kind != kindColl {
			return q, false, nil // its collection is gone
		}
		p, err := catalog.ParsePath(n.Of.Path)
		if err != nil {
			return q, false, err
		}
		q.Path = p
	}
	return q, true, nil
}

func quotaKey(q catalog.Quota, collUID string) string {
	if q.Kind == catalog.QuotaCollection {
		return "collection|" + collUID
	}
	return string(q.Kind) + "|" + userKey(q.Principal) + "|" + q.Resource
}

func sortQuotas(qs []catalog.Quota) {
	key := func(q catalog.Quota) string {
		return string(q.Kind) + "\x00" + q.Principal.Name + "\x00" + q.Principal.Zone + "\x00" + q.Path.String() + "\x00" + q.Resource
	}
	slices.SortStableFunc(qs, func(a, b catalog.Quota) int { return strings.Compare(key(a), key(b)) })
}

// allQuotas reads every quota with its node uid, without usage.
func (t *tx) allQuotas() ([]catalog.Quota, []string, error) {
	var out struct {
		N []quotaNode `json:"n"`
	}
	if err := t.query(`{ n(func: eq(P.kind, "quota")) { `+quotaFields+` } }`, nil, &out); err != nil {
		return nil, nil, err
	}
	var qs []catalog.Quota
	var uids []string
	for _, n := range out.N {
		q, live, err := n.quota()
		if err != nil {
			return nil, nil, err
		}
		if live {
			qs = append(qs, q)
			uids = append(uids, n.UID)
		}
	}
	return qs, uids, nil
}

type usageObj struct {
	UID   string `json:"uid"`
	Repls []struct {
		Size   int64  `json:"size"`
		Resc   string `json:"resc"`
		Status int    `json:"status"`
	} `json:"repls"`
}

// usage fills in the usage of q.
func (t *tx) usage(q *catalog.Quota) error {
	var objs []usageObj
	const fields = `uid repls: ~P.obj { size: P.size resc: P.resc status: P.status }`
	read := func(query string, vars map[string]string) error {
		var out struct {
			N []usageObj `json:"n"`
		}
		if err := t.query(query, vars, &out); err != nil {
			return err
		}
		objs = append(objs, out.N...)
		return nil
	}
	owners := []catalog.UserID{}
	switch q.Kind {
	case catalog.QuotaUser:
		owners = append(owners, q.Principal)
	case catalog.QuotaGroup:
		var out struct {
			N []struct {
				M []userNode `json:"m"`
			} `json:"n"`
		}
		if err := t.query(`query q($k: string) { n(func: eq(P.ukey, $k)) @filter(eq(P.kind, "u")) { m: ~P.groups { name: P.uname zone: P.uzone } } }`,
			map[string]string{"$k": userKey(q.Principal)}, &out); err != nil {
			return err
		}
		if len(out.N) > 0 {
			for _, m := range out.N[0].M {
				owners = append(owners, catalog.UserID{Name: m.Name, Zone: m.Zone})
			}
		}
	case catalog.QuotaCollection:
		lo, hi := q.Path.String()+"/", q.Path.String()+"0"
		if q.Path.IsRoot() {
			lo, hi = "/", "0"
		}
		if err := read(`query q($lo: string, $hi: string) { n(func: gt(P.path, $lo)) @filter(lt(P.path, $hi) AND eq(P.kind, "o")) { `+fields+` } }`,
			map[string]string{"$lo": lo, "$hi": hi}); err != nil {
			return err
		}
	}
	for _, o := range owners {
		if err := read(`query q($o: string) { n(func: eq(P.owner, $o)) @filter(eq(P.kind, "o")) { `+fields+` } }`,
			map[string]string{"$o": userKey(o)}); err != nil {
			return err
		}
	}
	q.UsedBytes, q.UsedObjects = 0, 0
	for _, o := range objs {
		stored := false
		for _, r := range o.Repls {
			if catalog.ReplicaStatus(r.Status) == catalog.ReplicaIntermediate {
				continue
			}
			stored = true
			if q.Resource == "" || r.Resc == q.Resource {
				q.UsedBytes += r.Size
				if q.Resource != "" {
					q.UsedObjects++
				}
			}
		}
		if q.Resource == "" && stored {
			q.UsedObjects++
		}
	}
	return nil
}

// quotasFor returns the quotas that a replica on resource of an object
// owned by owner in the collection coll counts against, with usage, and
// their node uids.
func (t *tx) quotasFor(owner catalog.UserID, coll catalog.Path, resource string) ([]catalog.Quota, []string, error) {
	all, uids, err := t.allQuotas()
	if err != nil || len(all) == 0 {
		return nil, nil, err
	}
	var groups []catalog.UserID
	if slices.ContainsFunc(all, func(q catalog.Quota) bool { return q.Kind == catalog.QuotaGroup }) {
		var out struct {
			N []struct {
				G []userNode `json:"g"`
			} `json:"n"`
		}
		if err := t.query(`query q($k: string) { n(func: eq(P.ukey, $k)) @filter(eq(P.kind, "u")) { g: P.groups { name: P.uname zone: P.uzone } } }`,
			map[string]string{"$k": userKey(owner)}, &out); err != nil {
			return nil, nil, err
		}
		if len(out.N) > 0 {
			for _, g := range out.N[0].G {
				groups = append(groups, catalog.UserID{Name: g.Name, Zone: g.Zone})
			}
		}
	}
	var qs []catalog.Quota
	var qu []string
	for i, q := range all {
		if q.Resource != "" && q.Resource != resource {
			continue
		}
		ok := false
		switch q.Kind {
		case catalog.QuotaUser:
			ok = q.Principal == owner
		case catalog.QuotaGroup:
			ok = slices.Contains(groups, q.Principal)
		case catalog.QuotaCollection:
			ok = coll.HasPrefix(q.Path)
		}
		if !ok {
			continue
		}
		if err := t.usage(&q); err != nil {
			return nil, nil, err
		}
		qs = append(qs, q)
		qu = append(qu, uids[i])
	}
	return qs, qu, nil
}

// checkQuotas refuses a commit of a replica on resource of the object o
// that changes its bytes by grew, makes the object count if newObject (its
// first replica that is not intermediate), and adds a replica on resource
// if newReplica (none superseded there), touching the quotas it counts
// against. It runs before the commit's changes: the usage does not count
// them yet.
func (t *tx) checkQuotas(o *node, resource string, grew int64, newObject, newReplica bool) error {
	if grew <= 0 && !newObject && !newReplica {
		return nil
	}
	p, err := o.path()
	if err != nil {
		return err
	}
	qs, uids, err := t.quotasFor(parseUserKey(o.Owner), p.Parent(), resource)
	if err != nil {
		return err
	}
	for _, q := range qs {
		// A quota on one resource counts replicas on it as its objects.
		moreObjects := newObject
		if q.Resource != "" {
			moreObjects = newReplica
		}
		switch {
		case grew > 0 && q.MaxBytes > 0 && q.UsedBytes+grew > q.MaxBytes:
			return fmt.Errorf("%w: %s: %d bytes would be used, limit %d", catalog.ErrQuotaExceeded, q.Name(), q.UsedBytes+grew, q.MaxBytes)
		case moreObjects && q.MaxObjects > 0 && q.UsedObjects+1 > q.MaxObjects:
			return fmt.Errorf("%w: %s: %d data objects would be used, limit %d", catalog.ErrQuotaExceeded, q.Name(), q.UsedObjects+1, q.MaxObjects)
		}
	}
	return t.touch(uids...)
}

// SetQuota sets or removes the quota q names.
func (c *Catalog) SetQuota(ctx context.Context, q catalog.Quota) error {
	fail := func(err error) error { return fmt.Errorf("set quota of %s: %w", q.Name(), err) }
	if err := q.Validate(); err != nil {
		return fail(err)
	}
	remove := q.MaxBytes == 0 && q.MaxObjects == 0
	err := c.write(ctx, func(t *tx) error {
		var collUID string
		// q.Validate let no other kind through.
		switch q.Kind {
		case catalog.QuotaUser, catalog.QuotaGroup:
			u, err := t.userByID(q.Principal)
			if err != nil {
				return err
			}
			if u == nil {
				return fmt.Errorf("%s: %w", q.Principal, catalog.ErrNotFound)
			}
			typ := catalog.UserType(u.Type)
			if (typ == catalog.UserTypeGroup) != (q.Kind == catalog.QuotaGroup) {
				return invalid("%s is a %s, not a %s", q.Principal, typ, q.Kind)
			}
			if q.Resource != "" {
				if ru, err := t.resourceUID(q.Resource); err != nil {
					return err
				} else if ru == "" {
					return fmt.Errorf("resource %s: %w", q.Resource, catalog.ErrNotFound)
				}
			}
		case catalog.QuotaCollection:
			n, err := t.collAt(q.Path)
			if err != nil {
				return err
			}
			collUID = n.UID
		}
		key := quotaKey(q, collUID)
		var old struct {
			N []uidOnly `json:"n"`
		}
		if err := t.query(`query q($k: string) { n(func: eq(P.qkey, $k)) @filter(eq(P.kind, "quota")) { uid } }`,
			map[string]string{"$k": key}, &old); err != nil {
			return err
		}
		if remove {
			for _, n := range old.N {
				if err := t.del(map[string]any{"uid": n.UID}); err != nil {
					return err
				}
			}
			return nil
		}
		doc, err := json.Marshal(quotaDoc{Kind: q.Kind, Principal: q.Principal, Resource: q.Resource, MaxBytes: q.MaxBytes, MaxObjects: q.MaxObjects})
		if err != nil {
			return err
		}
		if len(old.N) > 0 {
			return t.set(map[string]any{"uid": old.N[0].UID, c.p("doc"): string(doc), c.p("ver"): randVer()})
		}
		m := map[string]any{c.p("kind"): "quota", c.p("qkey"): key, c.p("doc"): string(doc)}
		if collUID != "" {
			m[c.p("of")] = map[string]string{"uid": collUID}
		} else {
			m[c.p("towner")] = userKey(q.Principal)
		}
		_, err = t.create(m)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// ListQuotas returns every quota with its usage.
func (c *Catalog) ListQuotas(ctx context.Context) ([]catalog.Quota, error) {
	var out []catalog.Quota
	err := c.read(ctx, func(t *tx) error {
		qs, _, err := t.allQuotas()
		if err != nil {
			return err
		}
		for i := range qs {
			if err := t.usage(&qs[i]); err != nil {
				return err
			}
		}
		out = qs
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list quotas: %w", err)
	}
	sortQuotas(out)
	return out, nil
}

// QuotasFor returns the quotas a replica of an object owned by owner at p
// on resource counts against, with their usage.
func (c *Catalog) QuotasFor(ctx context.Context, owner catalog.UserID, p catalog.Path, resource string) ([]catalog.Quota, error) {
	var out []catalog.Quota
	err := c.read(ctx, func(t *tx) (err error) {
		out, _, err = t.quotasFor(owner, p.Parent(), resource)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("quotas for %s: %w", p, err)
	}
	sortQuotas(out)
	return out, nil
}
