package rules

import (
	"context"

	"github.com/arca-data/arca/catalog"
)

// Acting says which rule an action runs for: what the zone's operations
// that the action does record as their cause (provenance's prov:plan).
// The caller of those operations is still explicit (the rules' actor);
// this is only the reason.
type Acting struct {
	Rule string
	// RuleSetVersion is the version of the zone's rule set (in the
	// catalog) the rule came from: Set.Version.
	RuleSetVersion string
	// User is whose operation set the rule off (for a job: who scheduled it).
	User catalog.UserID
	// Job is the scheduled job running the action, if any.
	Job int64
}

type actingKey struct{}

// ActingRule returns the rule whose action runs in ctx, if any.
func ActingRule(ctx context.Context) (Acting, bool) {
	a, ok := ctx.Value(actingKey{}).(Acting)
	return a, ok
}

// WithActing is ctx running an action of the rule a names.
func WithActing(ctx context.Context, a Acting) context.Context {
	return context.WithValue(ctx, actingKey{}, a)
}
