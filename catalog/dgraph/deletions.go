package dgraph

import (
	"context"
	"fmt"
	"strings"

	"github.com/arca-data/arca/catalog"
)

// A pending deletion is a node of kind "del" whose dkey is the rkey of the
// file: resource ":" physical path. Every transaction that deletes a
// replica node makes one (recordDeletions); a new replica at the file
// deletes it (the taken checks of BeginReplica and Register).

// recordDeletions records the files of the replicas rs, which the
// transaction deletes.
func (t *tx) recordDeletions(rs ...repl) error {
	for _, r := range rs {
		if _, err := t.create(map[string]any{t.c.p("kind"): kindDeletion, t.c.p("dkey"): rkey(r.Resc, r.PPath)}); err != nil {
			return err
		}
	}
	return nil
}

// deletionOf parses a dkey.
func deletionOf(dkey string) catalog.Deletion {
	resc, path, _ := strings.Cut(dkey, ":")
	return catalog.Deletion{Resource: resc, PhysicalPath: path}
}

// PendingDeletions returns recorded files in the order of their keys.
func (c *Catalog) PendingDeletions(ctx context.Context, after catalog.Deletion, limit int) ([]catalog.Deletion, error) {
	if err := catalog.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("pending deletions: %w", err)
	}
	from := ""
	if after != (catalog.Deletion{}) {
		from = rkey(after.Resource, after.PhysicalPath)
	}
	var out []catalog.Deletion
	err := c.read(ctx, func(t *tx) error {
		var res struct {
			N []struct {
				Key string `json:"dkey"`
			} `json:"n"`
		}
		// Only deletions have a dkey. A key recorded twice is one file.
		if err := t.query(fmt.Sprintf(`query q($from: string) {
			n(func: gt(P.dkey, $from), orderasc: P.dkey, first: %d) { dkey: P.dkey }
		}`, 2*limit), map[string]string{"$from": from}, &res); err != nil {
			return err
		}
		out = nil
		for _, n := range res.N {
			if d := deletionOf(n.Key); len(out) == 0 || out[len(out)-1] != d {
				out = append(out, d)
			}
		}
		if len(out) > limit {
			out = out[:limit]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pending deletions: %w", err)
	}
	return out, nil
}

// forgetBatch is how many deletions ForgetDeletions looks up per query.
const forgetBatch = 100

// ForgetDeletions removes the records of ds.
func (c *Catalog) ForgetDeletions(ctx context.Context, ds []catalog.Deletion) error {
	for len(ds) > 0 {
		batch := ds[:min(len(ds), forgetBatch)]
		ds = ds[len(batch):]
		err := c.write(ctx, func(t *tx) error {
			var q strings.Builder
			vars := map[string]string{}
			decl := make([]string, len(batch))
			for i, d := range batch {
				decl[i] = fmt.Sprintf("$k%d: string", i)
				vars[fmt.Sprintf("$k%d", i)] = rkey(d.Resource, d.PhysicalPath)
				fmt.Fprintf(&q, "d%d(func: eq(P.dkey, $k%d)) { uid }\n", i, i)
			}
			var res map[string][]uidOnly
			if err := t.query("query q("+strings.Join(decl, ", ")+") {\n"+q.String()+"}", vars, &res); err != nil {
				return err
			}
			var dels []map[string]any
			for _, ns := range res {
				for _, n := range ns {
					dels = append(dels, map[string]any{"uid": n.UID})
				}
			}
			return t.del(dels...)
		})
		if err != nil {
			return fmt.Errorf("forget deletions: %w", err)
		}
	}
	return nil
}

// takeFile checks that no replica has the file physical on resource
// (ErrExists), and takes it over from a pending deletion, whose record
// goes: the file is not deleted under the new replica.
func (t *tx) takeFile(resource, physical string) error {
	var out struct {
		Taken   []uidOnly `json:"taken"`
		Pending []uidOnly `json:"pending"`
	}
	if err := t.query(`query q($k: string) {
		taken(func: eq(P.rkey, $k)) { uid }
		pending(func: eq(P.dkey, $k)) { uid }
	}`, map[string]string{"$k": rkey(resource, physical)}, &out); err != nil {
		return err
	}
	if len(out.Taken) > 0 {
		return catalog.ErrExists
	}
	dels := make([]map[string]any, len(out.Pending))
	for i, n := range out.Pending {
		dels[i] = map[string]any{"uid": n.UID}
	}
	return t.del(dels...)
}
