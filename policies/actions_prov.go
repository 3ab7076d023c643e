package policies

import (
	"context"
	"fmt"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// ProvenanceZone is what the provenance, PID and RAiD actions ask of the
// zone beyond Zone: its operations, run as the rules' actor through the
// dispatcher, so that they are authorized, fire their own rules and are
// recorded with the rule that acted.
type ProvenanceZone interface {
	Derive(ctx context.Context, caller zones.Principal, derived catalog.Path, sources []catalog.Path) error
	MintPIDs(ctx context.Context, caller zones.Principal, p catalog.Path, recursive bool, report func(zones.PID) error) error
	LinkRAiD(ctx context.Context, caller zones.Principal, id string, p catalog.Path, unlink bool) (zones.RAiD, error)
}

// provenanceActions are prov.derive, pid.mint and raid.link.
func provenanceActions(z Zone) []rules.Action {
	pathArg := rules.Arg{Name: "path", Type: cel.StringType, Doc: "what to act on; default: the operation's object (for rename and copy: the destination)"}
	pz := func(ctx context.Context) (ProvenanceZone, zones.Principal, error) {
		p, ok := z.(ProvenanceZone)
		if !ok || z == nil {
			return nil, zones.Principal{}, fmt.Errorf("%w: this zone keeps no provenance", resources.ErrUnavailable)
		}
		actor, err := z.RuleActor(ctx)
		return p, actor, err
	}
	return []rules.Action{
		{
			Name: "prov.derive",
			Doc:  "record that the object was derived from another (prov:wasDerivedFrom); a derivation cycle is refused",
			Args: []rules.Arg{{Name: "from", Type: cel.StringType, Required: true, Doc: "the path it was derived from"}, pathArg},
			Run: func(ctx context.Context, c *rules.Call) error {
				p, err := actionPath(c)
				if err != nil {
					return err
				}
				from, err := catalog.ParsePath(c.String("from"))
				if err != nil {
					return err
				}
				z, actor, err := pz(ctx)
				if err != nil {
					return err
				}
				return z.Derive(ctx, actor, p, []catalog.Path{from})
			},
		},
		{
			Name: "pid.mint",
			Doc:  "give the object (or collection) a persistent identifier (Handle, EUDAT PID profile), unless it has one",
			Args: []rules.Arg{pathArg},
			Run: func(ctx context.Context, c *rules.Call) error {
				p, err := actionPath(c)
				if err != nil {
					return err
				}
				z, actor, err := pz(ctx)
				if err != nil {
					return err
				}
				return z.MintPIDs(ctx, actor, p, false, func(zones.PID) error { return nil })
			},
		},
		{
			Name: "raid.link",
			Doc:  "link the collection or object to a RAiD (its related objects; the RAiD in its metadata)",
			Args: []rules.Arg{{Name: "raid", Type: cel.StringType, Required: true, Doc: "the RAiD, https://raid.org/PREFIX/SUFFIX"}, pathArg},
			Run: func(ctx context.Context, c *rules.Call) error {
				p, err := actionPath(c)
				if err != nil {
					return err
				}
				z, actor, err := pz(ctx)
				if err != nil {
					return err
				}
				_, err = z.LinkRAiD(ctx, actor, c.String("raid"), p, false)
				return err
			},
		},
	}
}
