package rules

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/arca-data/arca/catalog"
)

// Facts of preservation certificates (policies/certificates):
// object.certificates, the ids of the certificates of a data object or
// collection, read from the catalog records the keeper stores.

// certificateKind is the kind of the keeper's records of certificates (ref
// "object:ID" or "collection:ID"), as policies/certificates writes them.
const certificateKind = "certificate"

// recordsCatalog is what object.certificates reads; the catalog the zone
// gives the engine has it.
type recordsCatalog interface {
	RecordsByRef(ctx context.Context, kind string, refs []string) ([]catalog.Record, error)
}

var certificateObjectFields = []field{
	{"certificates", stringList, "ids of its preservation certificates (icert), newest first; superseded ones too", func(t any) ref.Val {
		e := entryOf(t)
		e.lookup()
		var out []string
		rc, ok := e.f.cat.(recordsCatalog)
		if !e.exists || !ok {
			return types.NewStringList(types.DefaultTypeAdapter, out)
		}
		var subject string
		switch {
		case e.entry.Object != nil:
			subject = catalog.SubjectObject + ":" + strconv.FormatInt(int64(e.entry.Object.ID), 10)
		case e.entry.Collection != nil:
			subject = catalog.SubjectCollection + ":" + strconv.FormatInt(int64(e.entry.Collection.ID), 10)
		}
		recs, err := rc.RecordsByRef(e.f.ctx, certificateKind, []string{subject})
		if err != nil {
			return types.NewErr("object.certificates: %v", err)
		}
		type issued struct{ id, at string }
		var found []issued
		for _, r := range recs {
			var d struct {
				IssuedAt string `json:"issued_at"`
			}
			_ = json.Unmarshal(r.Doc, &d)
			found = append(found, issued{r.Key, d.IssuedAt})
		}
		slices.SortFunc(found, func(a, b issued) int {
			if c := strings.Compare(b.at, a.at); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		for _, f := range found {
			out = append(out, f.id)
		}
		return types.NewStringList(types.DefaultTypeAdapter, out)
	}},
}
