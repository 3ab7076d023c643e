package lifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/rules"
)

func disposeAction(z Zone, o Options) rules.Action {
	return rules.Action{
		Name: "dispose",
		Doc: "remove the data object (or collection, with all in it) whose time is up: to the trash, or with purge: true for good; " +
			"a lock or legal hold refuses it (the run audits the refusal), and every disposal is audited",
		Args: []rules.Arg{
			{Name: "purge", Type: cel.BoolType, Doc: "remove for good instead of to the trash"},
			{Name: "path", Type: cel.StringType, Doc: "what to dispose of; default: the operation's object"},
		},
		Run: func(ctx context.Context, c *rules.Call) error {
			actor, p, e, err := target(ctx, z, c)
			if err != nil {
				return err
			}
			purge, _ := c.Args["purge"].(bool)
			if e.Object != nil && e.Object.Lock.Locked(time.Now()) {
				return e.Object.Lock.Refuse(p, time.Now(), "disposed of")
			}
			res, err := z.Remove(ctx, actor, p, e.Collection != nil, purge)
			if err != nil {
				return fmt.Errorf("dispose of %s: %w", p, err)
			}
			how := "to the trash, at " + res.TrashPath.String()
			if purge {
				how = "for good"
			}
			o.Audit.LogAttrs(ctx, slog.LevelInfo, "dispose", slog.String("rule", c.Rule), slog.String("path", p.String()),
				slog.String("user", ownerOf(e).String()), slog.String("outcome", "disposed"),
				slog.String("message", fmt.Sprintf("removed %s (%d data objects)", how, res.DataObjects)))
			return nil
		},
	}
}
