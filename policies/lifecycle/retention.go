package lifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// retentionSetAction locks data as iretention set does.
func retentionSetAction(z Zone) rules.Action {
	return rules.Action{
		Name: "retention.set",
		Doc: "lock the data object (or every data object below a collection) as iretention set does: mode compliance or governance, " +
			"until a date (2035-12-31) or for a period (10y, P10Y); a lock is only ever extended this way, never shortened",
		Args: []rules.Arg{
			{Name: "mode", Type: cel.StringType, Required: true, Doc: "compliance or governance"},
			{Name: "until", Type: cel.StringType, Doc: "the end of retention: a date or an RFC 3339 time"},
			{Name: "for", Type: cel.StringType, Doc: "the period of retention from now: 10y, 6m, 30d, P10Y"},
			{Name: "path", Type: cel.StringType, Doc: "what to lock; default: the operation's object (for rename and copy: the destination)"},
		},
		Run: func(ctx context.Context, c *rules.Call) error { return retentionSet(ctx, z, c) },
	}
}

func retentionSet(ctx context.Context, z Zone, c *rules.Call) error {
	var req zones.RetentionRequest
	var err error
	if req.Mode, err = catalog.ParseLockMode(c.String("mode")); err != nil {
		return err
	}
	if req.Mode == catalog.LockNone {
		return fmt.Errorf("%w: retention.set: a rule sets a lock, it does not remove one (mode compliance or governance)", catalog.ErrInvalidArgument)
	}
	if s := c.String("until"); s != "" {
		if req.Until, err = catalog.ParseUntil(s); err != nil {
			return fmt.Errorf("retention.set until: %w", err)
		}
	}
	if s := c.String("for"); s != "" {
		if req.For, err = catalog.ParsePeriod(s); err != nil {
			return fmt.Errorf("retention.set for: %w", err)
		}
	}
	actor, p, e, err := target(ctx, z, c)
	if err != nil {
		return err
	}
	req.Path = p
	if e.Collection != nil {
		req.Recursive = true
	} else if l := e.Object.Lock; l.Mode == req.Mode {
		// A rule that fires again (on every metadata change, say) finds
		// the lock it set: one that reaches as far already is kept.
		until := req.Until
		if !req.For.IsZero() {
			until = req.For.From(time.Now())
		}
		if !l.Until.Before(until.Add(-time.Minute)) {
			return nil
		}
	}
	return z.SetRetention(ctx, actor, req, func(catalog.ObjectLock) error { return nil })
}
