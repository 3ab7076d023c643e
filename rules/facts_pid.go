package rules

import (
	"context"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/arca-data/arca/catalog"
)

// Facts of provenance, PIDs and RAiDs (policies/provenance, pid, raid):
// object.pid, object.raid and object.derivedFrom, fields of the object
// beside objectFields (newEnv joins them).

// The AVUs and link relation these facts read, as the policies write them.
const (
	pidAttribute  = "PID"
	raidAttribute = "RAiD"
	derivedFrom   = "prov:wasDerivedFrom"
)

// linksCatalog is what object.derivedFrom reads; the catalog the zone
// gives the engine has it.
type linksCatalog interface {
	LinksOf(ctx context.Context, p catalog.Path) ([]catalog.Link, error)
}

var provenanceObjectFields = []field{
	{"pid", types.StringType, `its persistent identifier (the AVU PID), "" when it has none`, func(t any) ref.Val {
		e := entryOf(t)
		avus, errVal := e.entryAVUs()
		if errVal != nil {
			return errVal
		}
		return str(firstValue(avus, pidAttribute))
	}},
	{"raid", types.StringType, `the RAiD it belongs to: its AVU RAiD, or that of the nearest collection above it; ""`, func(t any) ref.Val {
		e := entryOf(t)
		avus, errVal := e.entryAVUs()
		if errVal != nil {
			return errVal
		}
		if v := firstValue(avus, raidAttribute); v != "" {
			return str(v)
		}
		for p := e.path; !p.IsZero() && !p.IsRoot(); {
			p = p.Parent()
			up, errVal := e.f.avusOf(catalog.CollectionTarget(p))
			if errVal != nil {
				return errVal
			}
			if v := firstValue(up, raidAttribute); v != "" {
				return str(v)
			}
		}
		return str("")
	}},
	{"derivedFrom", stringList, "paths of what it was derived from (prov:wasDerivedFrom: a copy's source, iput --derived-from)", func(t any) ref.Val {
		e := entryOf(t)
		var out []string
		lc, ok := e.f.cat.(linksCatalog)
		if e.path.IsZero() || !ok {
			return types.NewStringList(types.DefaultTypeAdapter, out)
		}
		links, err := lc.LinksOf(e.f.ctx, e.path)
		if err != nil {
			return types.NewStringList(types.DefaultTypeAdapter, out) // nothing there yet
		}
		for _, l := range links {
			if l.From == e.path && l.Relation == derivedFrom {
				out = append(out, l.To.String())
			}
		}
		return types.NewStringList(types.DefaultTypeAdapter, out)
	}},
}

func firstValue(avus []catalog.AVU, attr string) string {
	for _, a := range avus {
		if a.Attribute == attr {
			return a.Value
		}
	}
	return ""
}
