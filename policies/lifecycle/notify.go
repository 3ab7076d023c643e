package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
)

// Event is what a notice POSTs to the webhook, as JSON.
type Event struct {
	Event   string    `json:"event"` // what it is about: "expiry notice", "disposed", ...
	Zone    string    `json:"zone"`
	Rule    string    `json:"rule"`
	Path    string    `json:"path"`
	Owner   string    `json:"owner"`   // name#zone
	To      []string  `json:"to"`      // who is to be told: the owner, and the users and groups the rule names
	Message string    `json:"message"` // the rule's words
	Time    time.Time `json:"time"`
}

func notifyAction(z Zone, o Options) rules.Action {
	return rules.Action{
		Name: "notify",
		Doc: "tell the object's owner and the users or groups in to (name or name#zone) something: " +
			"an audit record, and a JSON event POSTed to the zone's webhook (notify_url in arca.yaml)",
		Args: []rules.Arg{
			{Name: "message", Type: cel.StringType, Required: true},
			{Name: "event", Type: cel.StringType, Doc: `what it is about, for the receiver to sort by; default "notice"`},
			{Name: "to", Type: cel.ListType(cel.StringType), Doc: "users or groups told beside the owner, e.g. ['stewards']"},
			{Name: "path", Type: cel.StringType, Doc: "what it is about; default: the operation's object"},
		},
		Run: func(ctx context.Context, c *rules.Call) error {
			_, p, e, err := target(ctx, z, c)
			if err != nil {
				return err
			}
			ev := Event{Event: c.String("event"), Zone: o.Zone, Rule: c.Rule, Path: p.String(), Message: c.String("message"), Time: time.Now().UTC()}
			if ev.Event == "" {
				ev.Event = "notice"
			}
			ev.Owner = ownerOf(e).String()
			ev.To = append(ev.To, ev.Owner)
			if to, ok := c.Args["to"].([]any); ok {
				for _, t := range to {
					s, _ := t.(string)
					id, err := catalog.ParseUserID(s, o.Zone)
					if err != nil {
						return fmt.Errorf("notify to %q: %w", s, err)
					}
					ev.To = append(ev.To, id.String())
				}
			}
			o.Audit.LogAttrs(ctx, slog.LevelInfo, "notify", slog.String("rule", c.Rule), slog.String("event", ev.Event),
				slog.String("path", ev.Path), slog.String("user", ev.Owner), slog.Any("to", ev.To),
				slog.String("outcome", "notified"), slog.String("message", ev.Message))
			if o.Webhook == "" {
				return nil
			}
			return post(ctx, o, ev)
		},
	}
}

// post sends ev to the webhook; a refusal or no answer is the action's
// error, so that the rule's run counts it failed and audits why, and a
// rule that records a notice after notify does not record one not sent.
func post(ctx context.Context, o Options, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.Webhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify: webhook %s: %w", o.Webhook, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "arca-lifecycle")
	resp, err := o.Client.Do(req)
	if err != nil {
		return fmt.Errorf("notify: webhook: %w: %w", resources.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify: webhook %s answered %s", o.Webhook, resp.Status)
	}
	return nil
}

// ownerOf is the owner of the data object or collection e.
func ownerOf(e catalog.Entry) catalog.UserID {
	if e.Object != nil {
		return e.Object.Owner
	}
	return e.Collection.Owner
}
