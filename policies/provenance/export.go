package provenance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// Export formats.
const (
	FormatText     = "text"
	FormatPROVJSON = "prov-json"
	FormatPROVN    = "prov-n"
	FormatDot      = "dot"
)

// Formats are the export formats, for usage texts.
var Formats = []string{FormatText, FormatPROVJSON, FormatPROVN, FormatDot}

// ErrFormat is an export format that is not one of Formats.
var ErrFormat = fmt.Errorf("%w: unknown provenance format (want %s)", catalog.ErrInvalidArgument, strings.Join(Formats, ", "))

// MaxDepth bounds how many derivation steps an export follows.
const MaxDepth = 100

// Export renders the provenance of req.Path: its records and, within
// req.Depth steps of derivation links (either way: what it came from and
// what came from it), those of the entries it is linked to. For a
// collection: the records of the collection and of everything below it
// that req.May lets through, and the derivations of those objects that
// were derived (a copy, iput --derived-from). What req.May does not let
// through is left out.
func (r *Recorder) Export(ctx context.Context, req zones.ProvExport) ([]byte, error) {
	if !slices.Contains(Formats, req.Format) {
		return nil, fmt.Errorf("format %q: %w", req.Format, ErrFormat)
	}
	if req.Depth < 0 || req.Depth > MaxDepth {
		return nil, fmt.Errorf("%w: depth %d (0 to %d)", catalog.ErrInvalidArgument, req.Depth, MaxDepth)
	}
	root, err := r.cat.Stat(ctx, req.Path)
	if err != nil {
		return nil, err
	}
	var (
		recs    []catalog.ProvRecord
		seen    = map[catalog.ProvSubject]bool{}
		derived []catalog.Path // objects whose derivations are followed
	)
	read := func(page []subject) error {
		var ss []catalog.ProvSubject
		for _, s := range page {
			if !seen[s.s] {
				seen[s.s] = true
				ss = append(ss, s.s)
			}
		}
		if len(ss) == 0 {
			return nil
		}
		got, err := r.cat.ProvenanceOfMany(ctx, ss)
		if err != nil {
			return err
		}
		for _, rec := range got {
			if len(rec.DerivedFrom) > 0 && rec.Subject.Kind == catalog.SubjectObject {
				if p, err := catalog.ParsePath(rec.Path); err == nil && !slices.Contains(derived, p) {
					derived = append(derived, p)
				}
			}
		}
		recs = append(recs, got...)
		return nil
	}
	if err := r.walk(ctx, req.Path, req.May, read); err != nil {
		return nil, err
	}
	if req.Depth > 0 {
		starts := derived
		if root.Object != nil {
			starts = []catalog.Path{req.Path}
		}
		for _, p := range starts {
			linked, err := r.cat.Linked(ctx, p, req.Depth)
			if errors.Is(err, catalog.ErrNotFound) {
				continue // renamed or removed since its record
			}
			if err != nil {
				return nil, err
			}
			var page []subject
			for _, lp := range linked {
				e, err := r.cat.Stat(ctx, lp)
				if err != nil {
					continue
				}
				if req.May != nil && !req.May(lp, aclOf(e)) {
					continue // what the caller may not read is left out
				}
				page = append(page, subject{subjectOf(e), lp})
			}
			if err := read(page); err != nil {
				return nil, err
			}
		}
	}
	if req.May != nil {
		r.redact(ctx, recs, req.May)
	}
	g := newGraph(r.zone)
	for _, rec := range recs {
		g.add(rec)
	}
	switch req.Format {
	case FormatPROVJSON:
		return g.provJSON()
	case FormatPROVN:
		return g.provN(), nil
	case FormatDot:
		return g.dot(), nil
	}
	return textOf(recs), nil
}

// Restricted is what an export shows of an entity the caller may not
// read: a derivation's source, named in the record of what was derived.
const Restricted = "(not readable)"

// redact hides, in records of what the caller may read, the other entries
// they name (the sources of copies and derivations) that it may not read:
// their paths and checksums are theirs.
func (r *Recorder) redact(ctx context.Context, recs []catalog.ProvRecord, may zones.AccessFilter) {
	readable := map[string]bool{}
	for _, rec := range recs {
		readable[rec.Path] = true
	}
	allowed := func(path string) bool {
		ok, seen := readable[path]
		if seen {
			return ok
		}
		ok = false
		if p, err := catalog.ParsePath(path); err == nil {
			if e, err := r.cat.Stat(ctx, p); err == nil {
				ok = may(p, aclOf(e))
			}
		}
		readable[path] = ok
		return ok
	}
	hide := func(es []catalog.ProvEntity) {
		for i, e := range es {
			if !allowed(e.Path) {
				es[i] = catalog.ProvEntity{Kind: e.Kind, Path: Restricted, Replica: -1}
			}
		}
	}
	for i := range recs {
		hide(recs[i].DerivedFrom)
		if recs[i].Op == string(zones.OpCopy) {
			hide(recs[i].Used)
		}
	}
}

func aclOf(e catalog.Entry) []catalog.ACE {
	if e.Collection != nil {
		return e.Collection.ACL
	}
	return e.Object.ACL
}

// textOf lists the records, oldest first.
func textOf(recs []catalog.ProvRecord) []byte {
	sorted := slices.Clone(recs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].End.Before(sorted[j].End) })
	var b bytes.Buffer
	for _, rec := range sorted {
		who := rec.Agent
		if rec.Rule != "" {
			who += " (rule " + rec.Rule
			if rec.OnBehalfOf != "" {
				who += " for " + rec.OnBehalfOf
			}
			who += ")"
		}
		fmt.Fprintf(&b, "%s  %-16s %-28s %s\n", rec.End.Local().Format("2006-01-02 15:04:05"), rec.Op, who, rec.Path)
		for _, part := range []struct {
			what string
			es   []catalog.ProvEntity
		}{{"used", rec.Used}, {"generated", rec.Generated}, {"invalidated", rec.Invalidated}, {"derived from", rec.DerivedFrom}} {
			for _, e := range part.es {
				fmt.Fprintf(&b, "    %-12s %s\n", part.what, entityText(e))
			}
		}
		keys := make([]string, 0, len(rec.Attributes))
		for k := range rec.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "    %-12s %s\n", k, rec.Attributes[k])
		}
	}
	return b.Bytes()
}

func entityText(e catalog.ProvEntity) string {
	if e.Kind == catalog.SubjectCollection || e.Replica < 0 {
		return e.Path
	}
	s := fmt.Sprintf("%s replica %d", e.Path, e.Replica)
	if e.Resource != "" {
		s += " on " + e.Resource
	}
	if e.Checksum != "" {
		s += " " + e.Checksum
	}
	return s
}

// The PROV graph of some records.

type attr struct {
	key string
	val any // string, int64, or qname (a QName value)
}

// qname is a value that is a qualified name (prov:QUALIFIED_NAME).
type qname string

type node struct {
	id    string
	attrs []attr
	// activities only
	start, end time.Time
}

type relation struct {
	kind  string // wasGeneratedBy, used, ...
	attrs []attr // in the order PROV-N gives them positionally
}

type graph struct {
	zone                       string
	entities, activities, agts []*node
	byID                       map[string]*node
	rels                       []relation
	relSeen                    map[string]bool
}

func newGraph(zone string) *graph {
	return &graph{zone: zone, byID: map[string]*node{}, relSeen: map[string]bool{}}
}

// namespaces of the identifiers, by prefix.
func (g *graph) namespaces() [][2]string {
	base := "https://arca-data.org/zone/" + g.zone + "/"
	return [][2]string{
		{"arca", "https://arca-data.org/ns/prov#"},
		{"obj", base + "object/"},
		{"coll", base + "collection/"},
		{"act", base + "activity/"},
		{"user", base + "user/"},
		{"rule", base + "rule/"},
		{"plan", base + "plan/"},
	}
}

// local makes s the local part of a qualified name, valid in PROV-N:
// letters, digits and -_.~/@+ stay, everything else is percent-encoded,
// and so is a '.' or '-' at either end.
func local(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		keep := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~/@+", c) >= 0
		if (c == '.' || c == '-') && (i == 0 || i == len(s)-1) {
			keep = false
		}
		if keep {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func entityID(e catalog.ProvEntity) string {
	if e.Kind == catalog.SubjectCollection || e.Replica < 0 {
		if e.Kind == catalog.SubjectCollection {
			return "coll:" + local(strings.TrimPrefix(e.Path, "/"))
		}
		return "obj:" + local(strings.TrimPrefix(e.Path, "/"))
	}
	id := strings.TrimPrefix(e.Path, "/") + "@" + strconv.Itoa(e.Replica)
	if e.Checksum != "" {
		id += "@" + e.Checksum
	}
	return "obj:" + local(id)
}

func (g *graph) node(list *[]*node, id string, attrs func() []attr) *node {
	if n, ok := g.byID[id]; ok {
		return n
	}
	n := &node{id: id, attrs: attrs()}
	g.byID[id] = n
	*list = append(*list, n)
	return n
}

func (g *graph) entity(e catalog.ProvEntity) string {
	id := entityID(e)
	g.node(&g.entities, id, func() []attr {
		if e.Kind == catalog.SubjectCollection {
			return []attr{{"prov:type", qname("arca:Collection")}, {"prov:label", e.Path}, {"arca:path", e.Path}}
		}
		if e.Replica < 0 {
			return []attr{{"prov:type", qname("arca:DataObject")}, {"prov:label", e.Path}, {"arca:path", e.Path}}
		}
		as := []attr{{"prov:type", qname("arca:DataObjectVersion")}, {"prov:label", fmt.Sprintf("%s (replica %d)", e.Path, e.Replica)},
			{"arca:path", e.Path}, {"arca:replica", int64(e.Replica)}}
		if e.Resource != "" {
			as = append(as, attr{"arca:resource", e.Resource})
		}
		if e.Checksum != "" {
			as = append(as, attr{"arca:checksum", e.Checksum})
		}
		return append(as, attr{"arca:size", e.Size})
	})
	return id
}

func (g *graph) relate(kind string, attrs ...attr) {
	var b strings.Builder
	b.WriteString(kind)
	for _, a := range attrs {
		b.WriteByte(0)
		switch v := a.val.(type) {
		case string:
			b.WriteString(v)
		case time.Time:
			b.WriteString(strconv.FormatInt(v.UnixNano(), 10))
		case nil:
		default:
			fmt.Fprint(&b, v)
		}
	}
	key := b.String()
	if g.relSeen[key] {
		return
	}
	g.relSeen[key] = true
	g.rels = append(g.rels, relation{kind: kind, attrs: attrs})
}

func (g *graph) add(rec catalog.ProvRecord) {
	act := "act:" + local(rec.Activity)
	a := g.node(&g.activities, act, func() []attr {
		as := []attr{{"prov:type", qname("arca:" + local(rec.Op))}, {"prov:label", rec.Op + " " + rec.Path}, {"arca:op", rec.Op}}
		keys := make([]string, 0, len(rec.Attributes))
		for k := range rec.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			as = append(as, attr{"arca:" + local(k), rec.Attributes[k]})
		}
		return as
	})
	a.start, a.end = rec.Start, rec.End
	a.attrs = append(a.attrs, attr{"arca:record", rec.Digest})

	agent := "user:" + local(rec.Agent)
	g.node(&g.agts, agent, func() []attr {
		return []attr{{"prov:type", qname("prov:Person")}, {"prov:label", rec.Agent}}
	})
	if rec.Rule != "" {
		ruleAgent := "rule:" + local(rec.Rule)
		g.node(&g.agts, ruleAgent, func() []attr {
			return []attr{{"prov:type", qname("prov:SoftwareAgent")}, {"prov:label", "rule " + rec.Rule}}
		})
		planID := rec.Rule
		if rec.RuleSetVersion != "" {
			planID += "@" + rec.RuleSetVersion
		}
		plan := "plan:" + local(planID)
		g.node(&g.entities, plan, func() []attr {
			as := []attr{{"prov:type", qname("prov:Plan")}, {"prov:label", "rule " + rec.Rule}, {"arca:rule", rec.Rule}}
			if rec.RuleSetVersion != "" {
				as = append(as, attr{"arca:ruleSetVersion", rec.RuleSetVersion})
			}
			return as
		})
		// The rule acted, as the rules' actor, for the user whose
		// operation set it off.
		g.relate("wasAssociatedWith", attr{"prov:activity", act}, attr{"prov:agent", ruleAgent}, attr{"prov:plan", plan})
		g.relate("wasAssociatedWith", attr{"prov:activity", act}, attr{"prov:agent", agent}, attr{"prov:plan", plan})
		if rec.OnBehalfOf != "" {
			user := "user:" + local(rec.OnBehalfOf)
			g.node(&g.agts, user, func() []attr {
				return []attr{{"prov:type", qname("prov:Person")}, {"prov:label", rec.OnBehalfOf}}
			})
			g.relate("actedOnBehalfOf", attr{"prov:delegate", ruleAgent}, attr{"prov:responsible", user}, attr{"prov:activity", act})
		}
	} else {
		g.relate("wasAssociatedWith", attr{"prov:activity", act}, attr{"prov:agent", agent}, attr{"prov:plan", nil})
	}
	for _, e := range rec.Used {
		g.relate("used", attr{"prov:activity", act}, attr{"prov:entity", g.entity(e)}, attr{"prov:time", rec.Start})
	}
	var generated []string
	for _, e := range rec.Generated {
		id := g.entity(e)
		generated = append(generated, id)
		g.relate("wasGeneratedBy", attr{"prov:entity", id}, attr{"prov:activity", act}, attr{"prov:time", rec.End})
		g.relate("wasAttributedTo", attr{"prov:entity", id}, attr{"prov:agent", agent})
	}
	for _, e := range rec.Invalidated {
		g.relate("wasInvalidatedBy", attr{"prov:entity", g.entity(e)}, attr{"prov:activity", act}, attr{"prov:time", rec.End})
	}
	for _, e := range rec.DerivedFrom {
		src := g.entity(e)
		for _, gen := range generated {
			if gen != src {
				g.relate("wasDerivedFrom", attr{"prov:generatedEntity", gen}, attr{"prov:usedEntity", src}, attr{"prov:activity", act})
			}
		}
	}
}

// PROV-JSON (W3C Member Submission, https://www.w3.org/submissions/prov-json/).

func jsonValue(v any) any {
	switch v := v.(type) {
	case qname:
		return map[string]string{"$": string(v), "type": "prov:QUALIFIED_NAME"}
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return v
}

func jsonAttrs(as []attr) map[string]any {
	m := make(map[string]any, len(as))
	for _, a := range as {
		if a.val == nil {
			continue
		}
		if old, ok := m[a.key]; ok { // a repeated attribute: a list of values
			list, isList := old.([]any)
			if !isList {
				list = []any{old}
			}
			m[a.key] = append(list, jsonValue(a.val))
			continue
		}
		m[a.key] = jsonValue(a.val)
	}
	return m
}

func (g *graph) provJSON() ([]byte, error) {
	doc := map[string]any{}
	prefix := map[string]string{}
	for _, ns := range g.namespaces() {
		prefix[ns[0]] = ns[1]
	}
	doc["prefix"] = prefix
	section := func(nodes []*node, activity bool) map[string]any {
		m := make(map[string]any, len(nodes))
		for _, n := range nodes {
			as := jsonAttrs(n.attrs)
			if activity {
				as["prov:startTime"] = jsonValue(n.start)
				as["prov:endTime"] = jsonValue(n.end)
			}
			m[n.id] = as
		}
		return m
	}
	if len(g.entities) > 0 {
		doc["entity"] = section(g.entities, false)
	}
	if len(g.activities) > 0 {
		doc["activity"] = section(g.activities, true)
	}
	if len(g.agts) > 0 {
		doc["agent"] = section(g.agts, false)
	}
	counts := map[string]int{}
	for _, rel := range g.rels {
		m, ok := doc[rel.kind].(map[string]any)
		if !ok {
			m = map[string]any{}
			doc[rel.kind] = m
		}
		counts[rel.kind]++
		m[fmt.Sprintf("_:%s%d", rel.kind, counts[rel.kind])] = jsonAttrs(rel.attrs)
	}
	return json.Marshal(doc)
}

// PROV-N (https://www.w3.org/TR/prov-n/).

func provNLiteral(v any) string {
	switch v := v.(type) {
	case qname:
		return "'" + string(v) + "'"
	case int64:
		return fmt.Sprintf("%q %%%% xsd:long", strconv.FormatInt(v, 10))
	case time.Time:
		return fmt.Sprintf("%q %%%% xsd:dateTime", v.UTC().Format(time.RFC3339Nano))
	case string:
		return strconv.Quote(v)
	}
	return strconv.Quote(fmt.Sprint(v))
}

func provNAttrs(as []attr) string {
	var parts []string
	for _, a := range as {
		if a.val != nil {
			parts = append(parts, a.key+"="+provNLiteral(a.val))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ", [" + strings.Join(parts, ", ") + "]"
}

func (g *graph) provN() []byte {
	var b bytes.Buffer
	b.WriteString("document\n")
	for _, ns := range g.namespaces() {
		fmt.Fprintf(&b, "  prefix %s <%s>\n", ns[0], ns[1])
	}
	b.WriteString("\n")
	for _, n := range g.entities {
		fmt.Fprintf(&b, "  entity(%s%s)\n", n.id, provNAttrs(n.attrs))
	}
	for _, n := range g.activities {
		fmt.Fprintf(&b, "  activity(%s, %s, %s%s)\n", n.id, n.start.UTC().Format(time.RFC3339Nano), n.end.UTC().Format(time.RFC3339Nano), provNAttrs(n.attrs))
	}
	for _, n := range g.agts {
		fmt.Fprintf(&b, "  agent(%s%s)\n", n.id, provNAttrs(n.attrs))
	}
	for _, rel := range g.rels {
		args := make([]string, len(rel.attrs))
		for i, a := range rel.attrs {
			switch v := a.val.(type) {
			case nil:
				args[i] = "-"
			case time.Time:
				args[i] = v.UTC().Format(time.RFC3339Nano)
			default:
				args[i] = fmt.Sprint(v)
			}
		}
		if rel.kind == "wasDerivedFrom" {
			args = append(args, "-", "-") // generation, usage
		}
		fmt.Fprintf(&b, "  %s(%s)\n", rel.kind, strings.Join(args, ", "))
	}
	b.WriteString("endDocument\n")
	return b.Bytes()
}

// Graphviz dot, in the colours of the PROV primer's figures.

var dotEscape = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func dotQuote(s string) string { return `"` + dotEscape.Replace(s) + `"` }

func label(n *node) string {
	for _, a := range n.attrs {
		if a.key == "prov:label" {
			if s, ok := a.val.(string); ok {
				return s
			}
		}
	}
	return n.id
}

func (g *graph) dot() []byte {
	var b bytes.Buffer
	b.WriteString("digraph provenance {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n")
	for _, n := range g.entities {
		fmt.Fprintf(&b, "  %s [shape=ellipse, style=filled, fillcolor=\"#FFFC87\", label=%s];\n", dotQuote(n.id), dotQuote(label(n)))
	}
	for _, n := range g.activities {
		fmt.Fprintf(&b, "  %s [shape=box, style=filled, fillcolor=\"#9FB1FC\", label=%s];\n", dotQuote(n.id),
			dotQuote(label(n)+"\n"+n.end.UTC().Format(time.RFC3339)))
	}
	for _, n := range g.agts {
		fmt.Fprintf(&b, "  %s [shape=house, style=filled, fillcolor=\"#FED37F\", label=%s];\n", dotQuote(n.id), dotQuote(label(n)))
	}
	for _, rel := range g.rels {
		from, to := fmt.Sprint(rel.attrs[0].val), fmt.Sprint(rel.attrs[1].val)
		fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", dotQuote(from), dotQuote(to), dotQuote(rel.kind))
	}
	b.WriteString("}\n")
	return b.Bytes()
}
