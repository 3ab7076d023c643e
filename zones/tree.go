package zones

import (
	"context"
	"fmt"
	"slices"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/compose"
)

// readableReplicas returns the good replicas of obj that can be read now, best
// first: on a resource that is up, on the fastest medium, a compound's cache
// before its archive, tape files online before those to recall. why lists
// the replicas left out and their state, for the error when none is left.
func (z *Zone) readableReplicas(ctx context.Context, t *compose.Tree, obj catalog.DataObject) (good []catalog.Replica, why []string) {
	type ranked struct {
		rep  catalog.Replica
		rank int
	}
	var rs []ranked
	for _, rep := range obj.Replicas {
		n, ok := t.Lookup(rep.Resource)
		switch {
		case rep.Status != catalog.ReplicaGood:
			why = append(why, fmt.Sprintf("replica %d on %s is %s", rep.Number, rep.Resource, rep.Status))
			continue
		case !ok:
			why = append(why, fmt.Sprintf("replica %d on %s: no such resource", rep.Number, rep.Resource))
			continue
		case !n.Up():
			why = append(why, fmt.Sprintf("replica %d on %s is on a resource that is down", rep.Number, n.Hierarchy()))
			continue
		}
		rank := compose.MediumRank(n.Rec.Type) * 10
		if n.Role() == "archive" {
			rank += 5
		}
		if n.Rec.Type == "tape" {
			if d, _, err := z.resource(ctx, rep.Resource); err == nil {
				if st, ok := d.(resources.Stager); ok {
					if online, _ := st.Staged(ctx, rep.PhysicalPath); online {
						rank -= 15
					}
				}
			}
		}
		rs = append(rs, ranked{rep, rank})
	}
	slices.SortStableFunc(rs, func(a, b ranked) int { return a.rank - b.rank })
	for _, r := range rs {
		good = append(good, r.rep)
	}
	return good, why
}

// loadTree reads every resource. Trees are small; reading them per
// operation keeps every server of a zone current.
func (z *Zone) loadTree(ctx context.Context) (*compose.Tree, error) {
	recs, err := z.cat.ListResources(ctx)
	if err != nil {
		return nil, err
	}
	return compose.Build(recs), nil
}
