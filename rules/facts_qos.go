package rules

import (
	"context"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/arca-data/arca/catalog"
)

// Facts of quality of service (policies/qos): object.qos, the QoS
// requirements that apply to an object or collection (on it and on the
// collections above it), each with its status as the zone judges it.

const qosTypeName = "arca.QoS"

var qosType = cel.ObjectType(qosTypeName)

// QoSFact is one requirement as rules see it.
type QoSFact struct {
	ID         int64
	Path       string // the collection or data object it is on
	Expression string
	Replicas   int
	// Status is fulfilled, pending or impossible ("" when the catalog the
	// engine reads knows no status); Reason says why not fulfilled.
	Status, Reason string
}

// QoSReporter is what object.qos reads: the zone answers it (the server
// gives the engine a catalog that has it). A catalog without it but with
// the requirements (catalog.QoS) gives them without status.
type QoSReporter interface {
	QoSFacts(ctx context.Context, p catalog.Path) ([]QoSFact, error)
}

type qosRequirementsCatalog interface {
	QoSRequirementsOn(ctx context.Context, p catalog.Path) ([]catalog.QoSRequirement, error)
}

var qosObjectFields = []field{
	{"qos", cel.ListType(qosType), "the QoS requirements that apply to it (on it and on the collections above it): id, path, expression, replicas, status (fulfilled, pending, impossible), reason", func(t any) ref.Val {
		e := entryOf(t)
		var facts []QoSFact
		if !e.path.IsZero() {
			switch c := e.f.cat.(type) {
			case QoSReporter:
				fs, err := c.QoSFacts(e.f.ctx, e.path)
				if err != nil {
					return types.NewErr("object.qos: %v", err)
				}
				facts = fs
			case qosRequirementsCatalog:
				rs, err := c.QoSRequirementsOn(e.f.ctx, e.path)
				if err != nil {
					return types.NewErr("object.qos: %v", err)
				}
				for _, r := range rs {
					facts = append(facts, QoSFact{ID: int64(r.ID), Path: r.Path.String(), Expression: r.Expr, Replicas: r.Replicas})
				}
			}
		}
		vals := make([]ref.Val, 0, len(facts))
		for i := range facts {
			vals = append(vals, structVal{typ: qosType, v: &facts[i]})
		}
		return types.NewRefValList(types.DefaultTypeAdapter, vals)
	}},
}

func qosOf(t any) *QoSFact { return t.(*QoSFact) }

var qosFields = []field{
	{"id", types.IntType, "the requirement's id", func(t any) ref.Val { return types.Int(qosOf(t).ID) }},
	{"path", types.StringType, "the collection or data object it is on", func(t any) ref.Val { return str(qosOf(t).Path) }},
	{"expression", types.StringType, "its expression, canonical (geo=DE & type=disk)", func(t any) ref.Val { return str(qosOf(t).Expression) }},
	{"replicas", types.IntType, "how many good replicas it asks for", func(t any) ref.Val { return types.Int(qosOf(t).Replicas) }},
	{"status", types.StringType, `"fulfilled", "pending" or "impossible"`, func(t any) ref.Val { return str(qosOf(t).Status) }},
	{"reason", types.StringType, `why it is not fulfilled, "" when it is`, func(t any) ref.Val { return str(qosOf(t).Reason) }},
}
