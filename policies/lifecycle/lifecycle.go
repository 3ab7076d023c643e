// Package lifecycle is the lifecycle policy: retention locks set by rules
// (retention.set), notice before data expires (notify: an audit record and
// a JSON event POSTed to a webhook), and disposal when it has expired
// (dispose: to the trash or for good, never past a lock or legal hold),
// and storage tiering by access time (tier.pass).
// Its rule set, rules/ beside this file, runs expiry through the
// query-driven periodic rules: irule load policies/lifecycle/rules.
package lifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// Zone is what the lifecycle actions ask of the zone. They act as the
// rules' actor: a rule is the administrators' policy.
type Zone interface {
	RuleActor(ctx context.Context) (zones.Principal, error)
	Stat(ctx context.Context, caller zones.Principal, p catalog.Path) (catalog.Entry, error)
	SetRetention(ctx context.Context, caller zones.Principal, req zones.RetentionRequest, report func(catalog.ObjectLock) error) error
	Remove(ctx context.Context, caller zones.Principal, p catalog.Path, recursive, force bool) (zones.RemoveResult, error)
}

// Options configure the lifecycle actions.
type Options struct {
	// Audit is the zone's audit log, which notices and disposals go to.
	Audit *slog.Logger
	// Webhook is the URL notices are POSTed to as JSON; "" sends none
	// (the audit record is the notice).
	Webhook string
	// Client sends them; nil: a client with a 10 s timeout.
	Client *http.Client
	// Zone is the zone's name, put in every event.
	Zone string
}

// Actions are the lifecycle policy's actions, run against z (nil where
// they are only compiled and checked: arca rules test).
func Actions(z Zone, o Options) []rules.Action {
	if o.Audit == nil {
		o.Audit = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return []rules.Action{retentionSetAction(z), notifyAction(z, o), disposeAction(z, o), tierPassAction(z, o)}
}

// target is what a lifecycle action acts on, as the rules' actor sees it:
// the call's path and the entry there.
func target(ctx context.Context, z Zone, c *rules.Call) (zones.Principal, catalog.Path, catalog.Entry, error) {
	if z == nil {
		return zones.Principal{}, catalog.Path{}, catalog.Entry{}, fmt.Errorf("%w: %s: no zone", resources.ErrUnavailable, c.Rule)
	}
	p, err := c.TargetPath()
	if err != nil {
		return zones.Principal{}, catalog.Path{}, catalog.Entry{}, err
	}
	actor, err := z.RuleActor(ctx)
	if err != nil {
		return zones.Principal{}, catalog.Path{}, catalog.Entry{}, err
	}
	e, err := z.Stat(ctx, actor, p)
	return actor, p, e, err
}
