package policies

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// CertificateZone is what the certificate.issue action asks of the zone
// beyond Zone: issuing through the dispatcher, as the rules' actor.
type CertificateZone interface {
	IssueCertificate(ctx context.Context, caller zones.Principal, p catalog.Path) (zones.Certificate, error)
	CheckFixity(ctx context.Context, caller zones.Principal, req zones.FixityRequest, report func(zones.FixityCheck) error) error
	KeepDigestsByRule(ctx context.Context, p catalog.Path) error
}

// certificateActions are certificate.issue, certificate.digest and
// fixity.check
// (policies/certificates, zones/fixity.go).
func certificateActions(z Zone) []rules.Action {
	pathArg := rules.Arg{Name: "path", Type: cel.StringType, Doc: "what to certify; default: the operation's object or collection"}
	return []rules.Action{{
		Name:  "certificate.issue",
		Async: true,
		Doc:   "issue a preservation certificate for the object or collection (icert issue); a newer one supersedes the subject's previous certificate. In a post rule it runs as a job unless the rule says async: false",
		Args:  []rules.Arg{pathArg},
		Run: func(ctx context.Context, c *rules.Call) error {
			p, err := actionPath(c)
			if err != nil {
				return err
			}
			cz, ok := z.(CertificateZone)
			if !ok || z == nil {
				return fmt.Errorf("%w: this zone issues no certificates", resources.ErrUnavailable)
			}
			actor, err := z.RuleActor(ctx)
			if err != nil {
				return err
			}
			_, err = cz.IssueCertificate(ctx, actor, p)
			return err
		},
	}, {
		Name:  "certificate.digest",
		Async: true,
		Doc:   "compute and keep the SHA-512 of the data object (or of every one below a collection) beside its SHA-256, so that certifying it later reads no data: SHA-512 at ingest, for the collections whose policy asks for it. In a post rule it runs as a job unless the rule says async: false",
		Args:  []rules.Arg{pathArg},
		Run: func(ctx context.Context, c *rules.Call) error {
			p, err := actionPath(c)
			if err != nil {
				return err
			}
			cz, ok := z.(CertificateZone)
			if !ok || z == nil {
				return fmt.Errorf("%w: this zone keeps no second digests", resources.ErrUnavailable)
			}
			return cz.KeepDigestsByRule(ctx, p)
		},
	}, {
		Name:  "fixity.check",
		Async: true,
		Doc:   "read the good replicas of the object (or of every object below a collection) from storage, tape included, and compare them with the catalog's SHA-256; each check is a PREMIS fixity check event (iprov), a replica that fails is marked stale and, with repair, refreshed from a good one",
		Args: []rules.Arg{
			{Name: "max_age", Type: cel.StringType, Doc: "leave replicas that passed a check this recently: a period, e.g. 1y, 6m, 30d (default: check all)"},
			{Name: "repair", Type: cel.BoolType, Doc: "refresh a failed replica from a good one"},
			pathArg,
		},
		Run: func(ctx context.Context, c *rules.Call) error {
			p, err := actionPath(c)
			if err != nil {
				return err
			}
			cz, ok := z.(CertificateZone)
			if !ok || z == nil {
				return fmt.Errorf("%w: this zone checks no fixity", resources.ErrUnavailable)
			}
			req := zones.FixityRequest{Path: p}
			if s := c.String("max_age"); s != "" {
				period, err := catalog.ParsePeriod(s)
				if err != nil {
					return err
				}
				now := time.Now()
				req.MaxAge = period.From(now).Sub(now)
			}
			req.Repair, _ = c.Args["repair"].(bool)
			actor, err := z.RuleActor(ctx)
			if err != nil {
				return err
			}
			var failed []string
			err = cz.CheckFixity(ctx, actor, req, func(fc zones.FixityCheck) error {
				if fc.Outcome == zones.FixityFail {
					failed = append(failed, fmt.Sprintf("%s replica %d on %s: %s (%s)", fc.Path, fc.Replica, fc.Resource, fc.Detail, fc.Repair))
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(failed) > 0 {
				return fmt.Errorf("%w: %d replica(s) failed their fixity check: %s", zones.ErrChecksumMismatch, len(failed), strings.Join(failed, "; "))
			}
			return nil
		},
	}}
}
