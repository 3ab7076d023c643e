package dgraph

import (
	"strings"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
)

// Counting data objects by the value of an AVU ("select
// META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME =
// 'project'") over a large part of the zone reads every object and AVU
// when evaluated in Go. Dgraph counts them itself with @groupby, to the
// same result: a row per replica of each object with a matching AVU, so
// each AVU counts once per replica of its object. The AVUs that count are
// those of data objects the caller may read; objects with other than one
// replica, found through the count index of replicas, are few and read to
// correct the counts.

// avuCount is a query that countByAVU answers.
type avuCount struct {
	q         *query.Query
	attr, val *restriction
	attrName  string // the one attribute of the condition, if it names one
}

// countByAVU returns the avuCount of q, or nil when q is not of its shape:
// grouped by the AVU value (and the attribute, when the condition fixes
// it), counting rows, conditions only on the AVU's attribute and value
// that the restrictions capture exactly, and only tables of data objects.
func countByAVU(q *query.Query, pl *plan) *avuCount {
	for t := range nTables {
		if pl.use[t] && t != tObj && t != tRepl && t != tObjMeta {
			return nil
		}
	}
	if !pl.use[tObjMeta] || len(q.GroupBy) == 0 {
		return nil
	}
	var terms []query.Expr
	switch w := q.Where.(type) {
	case nil:
		return nil
	case *query.And:
		terms = w.Terms
	default:
		terms = []query.Expr{w}
	}
	for _, t := range terms {
		if !exactRestriction(t) {
			return nil
		}
	}
	rs := restrictions(q.Where)
	ac := &avuCount{q: q, attr: rs["META_DATA_ATTR_NAME"], val: rs["META_DATA_ATTR_VALUE"]}
	if ac.attr == nil && ac.val == nil {
		return nil
	}
	fixedAttr := ac.attr != nil && len(ac.attr.vals) == 1
	if fixedAttr {
		ac.attrName = ac.attr.vals[0]
	}
	keyOK := func(c *query.Column) bool {
		return c.Name == "META_DATA_ATTR_VALUE" || c.Name == "META_DATA_ATTR_NAME" && fixedAttr
	}
	for _, c := range q.GroupBy {
		if !keyOK(c) {
			return nil
		}
	}
	for _, s := range q.Select {
		switch s.Agg {
		case query.AggNone:
			if !keyOK(s.Column) {
				return nil
			}
		case query.AggCount:
			switch s.Column.Name {
			case "DATA_ID", "DATA_NAME", "META_DATA_ATTR_NAME", "META_DATA_ATTR_VALUE":
			default:
				return nil
			}
		default:
			return nil
		}
	}
	return ac
}

// exactRestriction reports whether a conjunct is on the AVU's attribute
// or value and its restriction (see restrictions) allows exactly the
// values it does.
func exactRestriction(e query.Expr) bool {
	if query.Upper(e) {
		return false
	}
	var col *query.Column
	switch e := e.(type) {
	case *query.Compare:
		if e.Op != query.OpEq || e.Value.Kind != query.KindString {
			return false
		}
		col = e.Column
	case *query.In:
		for _, v := range e.Values {
			if v.Kind != query.KindString {
				return false
			}
		}
		col = e.Column
	case *query.Like:
		col = e.Column
		prefix, exact := query.LikePrefix(e.Pattern)
		if !exact {
			// 'prefix%' exactly: the pattern without its last % has
			// no wildcard and the same text.
			rest, ok := strings.CutSuffix(e.Pattern, "%")
			p2, exact2 := query.LikePrefix(rest)
			if !ok || !exact2 || p2 != prefix || prefix == "" {
				return false
			}
		}
	default:
		return false
	}
	return col.Name == "META_DATA_ATTR_NAME" || col.Name == "META_DATA_ATTR_VALUE"
}

// filters writes the functions of ac's condition on an AVU with d: the
// first is a root function.
func (ac *avuCount) filters(d *dqlBuilder) []string {
	var fs []string
	if ac.attr != nil {
		root, f := d.funcs("P.attr", ac.attr)
		fs = append(append(fs, root), f...)
	}
	if ac.val != nil {
		// The value is the more selective index, when it is given.
		root, f := d.funcs("P.val", ac.val)
		fs = append(append([]string{root}, f...), fs...)
	}
	return fs
}

// objFilter is the filter of the objects whose AVUs count.
func objFilter(d *dqlBuilder, caller catalog.Caller) string {
	if caller.Admin {
		return `eq(P.kind, "o")`
	}
	return `eq(P.kind, "o") AND ` + d.eqAny("P.who", readers(caller))
}

// countByAVU runs ac for caller and returns its rows, before DISTINCT,
// ordering and limits, as evalQuery would.
func (t *tx) countByAVU(ac *avuCount, caller catalog.Caller) ([][]any, error) {
	// First, whether every AVU of the condition is of an object that
	// counts, and the objects with other than one replica.
	d := &dqlBuilder{vars: map[string]string{}}
	fs := ac.filters(d)
	d.line("var(func: ", fs[0], ")", filterOf(fs[1:]), " { t as P.of }")
	d.line("oo as var(func: uid(t)) @filter(", objFilter(d, caller), ")")
	d.line("one as var(func: eq(count(~P.obj), 1))")
	d.line("x(func: uid(t)) @filter(NOT uid(oo)) { count(uid) }")
	d.line("m(func: uid(oo)) @filter(NOT uid(one)) { n: count(~P.obj) avus: ~P.of @filter(",
		strings.Join(fs, " AND "), ") { val: P.val } }")
	var first struct {
		X []struct {
			Count int64 `json:"count"`
		} `json:"x"`
		M []struct {
			N    int64 `json:"n"`
			AVUs []struct {
				Val string `json:"val"`
			} `json:"avus"`
		} `json:"m"`
	}
	if err := t.query(d.text(), d.vars, &first); err != nil {
		return nil, err
	}
	// Then count the AVUs by value: all those of the condition when all
	// their targets count, else those of the objects that do.
	d = &dqlBuilder{vars: map[string]string{}}
	fs = ac.filters(d)
	if len(first.X) > 0 && first.X[0].Count == 0 {
		d.line("sa as var(func: ", fs[0], ")", filterOf(fs[1:]))
		d.line("g(func: uid(sa)) @groupby(P.val) { count(uid) }")
	} else {
		d.line("var(func: ", fs[0], ")", filterOf(fs[1:]), " { t as P.of }")
		d.line("oo as var(func: uid(t)) @filter(", objFilter(d, caller), ")")
		d.line("var(func: uid(oo)) { ga as ~P.of @filter(", strings.Join(fs, " AND "), ") }")
		d.line("g(func: uid(ga)) @groupby(P.val) { count(uid) }")
	}
	var second struct {
		G []struct {
			Groups []map[string]any `json:"@groupby"`
		} `json:"g"`
	}
	if err := t.query(d.text(), d.vars, &second); err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	var order []string
	valKey := t.c.p("val")
	for _, g := range second.G {
		for _, grp := range g.Groups {
			v, _ := grp[valKey].(string)
			n, _ := grp["count"].(float64)
			if _, ok := counts[v]; !ok {
				order = append(order, v)
			}
			counts[v] += int64(n)
		}
	}
	for _, o := range first.M {
		for _, a := range o.AVUs {
			if _, ok := counts[a.Val]; !ok {
				order = append(order, a.Val)
			}
			counts[a.Val] += o.N - 1
		}
	}
	var out [][]any
	for _, v := range order {
		n := counts[v]
		if n <= 0 {
			continue
		}
		row := make([]any, 0, 2)
		for _, s := range ac.q.Select {
			switch {
			case s.Agg == query.AggCount:
				row = append(row, n)
			case s.Column.Name == "META_DATA_ATTR_VALUE":
				row = append(row, v)
			default:
				row = append(row, ac.attrName)
			}
		}
		out = append(out, row)
	}
	return out, nil
}
