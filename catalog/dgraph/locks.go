package dgraph

import (
	"hash/fnv"

	"github.com/arca-data/arca/catalog"
)

// Locks on collections.
//
// Whatever is created in a collection depends on the collection and its
// ancestors: that they exist, their paths, the inheritance flag and ACL of
// the parent. Touching the parent would make every two creations in one
// collection conflict, and Dgraph would retry all but one of them. So a
// creation writes one of `stripes` values of the list predicate lock of the
// parent and of each ancestor (a list value is its own conflict key), and
// whatever changes or removes a collection writes all of them: it conflicts
// with every creation below it, while two creations conflict only when they
// pick the same stripe.
//
// The stripe is the hash of the full path of what is created, not of its
// name: trees ingested side by side hold the same names at the same time
// (a/f001 and b/f001), and their creations would otherwise meet on every
// common ancestor. Two creations of one path conflict on its unique index
// anyway. With 1024 stripes, the few dozen creations that commit while
// one is in flight rarely meet it: of the puts of two parallel ingests
// (BenchmarkIputTwoServers) on a loaded machine, 3 to 4 % were aborted
// and retried with 256 stripes, 0.3 % with 1024. What changes a
// collection writes 1024 list values in one mutation, which is cheap.
const stripes = 1024

func stripe(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % stripes)
}

// lockChild takes the stripe of key, the path of a new child, in the
// collection uid and its ancestors.
func (t *tx) lockChild(uid, key string) error {
	var out struct {
		N []map[string]any `json:"n"`
	}
	if err := t.query(`query q($u: string) { n(func: uid($u)) @recurse(depth: 10000, loop: false) { uid P.parent } }`,
		map[string]string{"$u": uid}, &out); err != nil {
		return err
	}
	s := stripe(key)
	var ms []map[string]any
	if len(out.N) == 0 {
		ms = append(ms, map[string]any{"uid": uid, t.c.p("lock"): []int{s}})
	} else {
		for n := out.N[0]; n != nil; {
			u, _ := n["uid"].(string)
			ms = append(ms, map[string]any{"uid": u, t.c.p("lock"): []int{s}})
			next, _ := n[t.c.p("parent")].(map[string]any)
			if next == nil {
				// A uid predicate may come back as a list of one.
				if l, ok := n[t.c.p("parent")].([]any); ok && len(l) > 0 {
					next, _ = l[0].(map[string]any)
				}
			}
			n = next
		}
	}
	return t.set(ms...)
}

// lineage is p and each of its ancestors up to /, p first: the collections
// whose stripes a creation in p takes.
func lineage(p catalog.Path) []catalog.Path {
	out := []catalog.Path{p}
	for !p.IsRoot() {
		p = p.Parent()
		out = append(out, p)
	}
	return out
}

// stripeSets are the mutations that take the stripe of key, the path of a
// new child, on each of the nodes refs (uids or "uid(var)" of an upsert).
func (c *Catalog) stripeSets(refs []string, key string) []map[string]any {
	s := stripe(key)
	ms := make([]map[string]any, 0, len(refs))
	for _, r := range refs {
		ms = append(ms, map[string]any{"uid": r, c.p("lock"): []int{s}})
	}
	return ms
}

// lockAll takes every stripe of the collection uid and writes its ver.
func (t *tx) lockAll(uid string) error {
	all := make([]int, stripes)
	for i := range all {
		all[i] = i
	}
	return t.set(map[string]any{"uid": uid, t.c.p("lock"): all, t.c.p("ver"): randVer()})
}
