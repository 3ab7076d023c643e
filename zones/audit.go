package zones

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
)

// AuditRecord is one line of the audit log (DIR/audit.log, JSON lines
// written through log/slog by the rule engine and the audit action).
type AuditRecord struct {
	Time         time.Time `json:"time"`
	Kind         string    `json:"msg"` // decision, action, job action, rule audit
	Rule         string    `json:"rule"`
	RulesVersion string    `json:"rules_version"`
	RulesDigest  string    `json:"rules_digest"`
	Op           string    `json:"op"`
	User         string    `json:"user"`
	Path         string    `json:"path"`
	Outcome      string    `json:"outcome"`
	Message      string    `json:"message"`
	Action       string    `json:"action"`
	Error        string    `json:"error"`
	Job          int64     `json:"job"`
}

// AuditFilter selects audit records; zero fields match everything.
type AuditFilter struct {
	Rule, User, Op, Outcome string
	Path                    catalog.Path // this path or below
	Since                   time.Time
	Limit                   int // the newest Limit records; default 100
}

func (f AuditFilter) match(r AuditRecord) bool {
	switch {
	case f.Rule != "" && r.Rule != f.Rule,
		f.User != "" && r.User != f.User,
		f.Op != "" && r.Op != f.Op,
		f.Outcome != "" && r.Outcome != f.Outcome,
		!f.Since.IsZero() && r.Time.Before(f.Since),
		!f.Path.IsZero() && !rules.Under(r.Path, f.Path.String()):
		return false
	}
	return true
}

// SetAuditLog tells the zone where its audit log is, for ListAudit.
func (z *Zone) SetAuditLog(path string) { z.auditPath = path }

// ListAudit returns the newest audit records that match f, oldest first.
// Administrators only.
func (z *Zone) ListAudit(ctx context.Context, caller Principal, f AuditFilter) ([]AuditRecord, error) {
	var out []AuditRecord
	err := z.do(ctx, &Op{Name: "audit.list", Caller: caller}, func(ctx context.Context) error {
		if z.auditPath == "" {
			return fmt.Errorf("%w: this zone keeps no audit log", resources.ErrUnavailable)
		}
		if f.Limit <= 0 {
			f.Limit = 100
		}
		file, err := os.Open(z.auditPath)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		defer file.Close()
		sc := bufio.NewScanner(file)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var r AuditRecord
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				continue // a torn last line after a crash
			}
			if r.Kind == "rule audit" && r.Outcome == "" {
				r.Outcome = "audit"
			}
			if !f.match(r) {
				continue
			}
			out = append(out, r)
			if len(out) > 2*f.Limit {
				out = append(out[:0], out[len(out)-f.Limit:]...)
			}
		}
		if len(out) > f.Limit {
			out = out[len(out)-f.Limit:]
		}
		return sc.Err()
	})
	return out, err
}
