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

// CertificateZone is what the certificate.issue action asks of the zone
// beyond Zone: issuing through the dispatcher, as the rules' actor.
type CertificateZone interface {
	IssueCertificate(ctx context.Context, caller zones.Principal, p catalog.Path) (zones.Certificate, error)
}

// certificateActions is certificate.issue (policies/certificates).
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
	}}
}
