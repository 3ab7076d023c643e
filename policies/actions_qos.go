package policies

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// QoSZone is what the qos.require action asks of the zone beyond Zone: its
// operation, run as the rules' actor through the dispatcher.
type QoSZone interface {
	AddQoS(ctx context.Context, caller zones.Principal, p catalog.Path, expr string, replicas int) (zones.QoSStatus, error)
}

// qosActions is qos.require (the expression language is policies/qos's,
// which the zone is given).
func qosActions(z Zone) []rules.Action {
	return []rules.Action{{
		Name: "qos.require",
		Doc: "put a QoS requirement on the collection or data object, as iqos add does: replicas (default 1) good replicas " +
			"on resources whose attributes the expression matches (geo=DE & type=disk); the zone converges it. " +
			"A requirement of the same expression already there is kept",
		Args: []rules.Arg{
			{Name: "expression", Type: cel.StringType, Required: true, Doc: "a QoS expression: key=value, key<N, &, |, \\, anyStorage"},
			{Name: "replicas", Type: cel.IntType, Doc: "how many good replicas; default 1"},
			{Name: "path", Type: cel.StringType, Doc: "what to put it on; default: the operation's object (for rename and copy: the destination)"},
		},
		Run: func(ctx context.Context, c *rules.Call) error {
			qz, ok := z.(QoSZone)
			if !ok || z == nil {
				return fmt.Errorf("%w: qos.require: this zone keeps no qos requirements", resources.ErrUnavailable)
			}
			p, err := actionPath(c)
			if err != nil {
				return err
			}
			replicas := int64(1)
			switch n := c.Args["replicas"].(type) {
			case int64:
				replicas = n
			case float64: // from a job's JSON
				replicas = int64(n)
			}
			actor, err := z.RuleActor(ctx)
			if err != nil {
				return err
			}
			_, err = qz.AddQoS(ctx, actor, p, c.String("expression"), int(replicas))
			if errors.Is(err, catalog.ErrExists) {
				return nil // a rule that fires again finds its requirement
			}
			return err
		},
	}}
}
