package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// RetentionChange is the body of POST /api/v1/retention/{path}: what
// iretention set, rm, hold and expire do.
type RetentionChange struct {
	// Action is set (mode "" removes), hold, release or expire.
	Action string `json:"action"`
	Mode   string `json:"mode,omitempty"`   // set: governance | compliance
	Until  string `json:"until,omitempty"`  // set: a date or RFC 3339 time
	Period string `json:"period,omitempty"` // set: 10y, P10Y, ...; expire: from now
	At     string `json:"at,omitempty"`     // expire: a date or RFC 3339 time
	Clear  bool   `json:"clear,omitempty"`  // expire: remove the expiry
	// Recursive takes every data object below a collection (set, hold,
	// release); an expiry of a collection always reaches all it holds.
	Recursive        bool `json:"recursive,omitempty"`
	BypassGovernance bool `json:"bypass_governance,omitempty"`
}

// RetentionReport answers it: each entry changed.
type RetentionReport struct {
	Changed []RetentionResult `json:"changed"`
}

// RetentionResult is one entry a change reached: its lock, or its expiry.
type RetentionResult struct {
	Path      string     `json:"path"`
	Retention *Retention `json:"retention,omitempty"`
	Expires   *time.Time `json:"expires,omitempty"`
}

func (a *API) changeRetention(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/retention/")
	if err != nil {
		return err
	}
	var req RetentionChange
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	out := RetentionReport{Changed: []RetentionResult{}}
	now := time.Now()
	lock := func(ol catalog.ObjectLock) error {
		ret := RetentionOf(ol.Lock, now)
		if ret == nil {
			ret = &Retention{}
		}
		out.Changed = append(out.Changed, RetentionResult{Path: ol.Path.String(), Retention: ret})
		return nil
	}
	bad := func(field, v string, err error) error {
		return badRequest("invalid_argument", fmt.Sprintf("%s %q: %v", field, cut(v, 40), err))
	}
	ctx := r.Context()
	switch req.Action {
	case "set":
		rr := zones.RetentionRequest{Path: p, Recursive: req.Recursive, BypassGovernance: req.BypassGovernance}
		if req.Mode != "" {
			if rr.Mode, err = catalog.ParseLockMode(req.Mode); err != nil {
				return bad("mode", req.Mode, err)
			}
		}
		if req.Until != "" {
			if rr.Until, err = catalog.ParseUntil(req.Until); err != nil {
				return bad("until", req.Until, err)
			}
		}
		if req.Period != "" {
			if rr.For, err = catalog.ParsePeriod(req.Period); err != nil {
				return bad("period", req.Period, err)
			}
		}
		err = a.zone.SetRetention(ctx, who, rr, lock)
	case "hold", "release":
		err = a.zone.SetHold(ctx, who, p, req.Action == "hold", req.Recursive, lock)
	case "expire":
		er := zones.ExpiryRequest{Path: p, Clear: req.Clear}
		if req.At != "" {
			if er.At, err = catalog.ParseUntil(req.At); err != nil {
				return bad("at", req.At, err)
			}
		}
		if req.Period != "" {
			if er.After, err = catalog.ParsePeriod(req.Period); err != nil {
				return bad("period", req.Period, err)
			}
		}
		err = a.zone.SetExpiry(ctx, who, er, func(e zones.Expiry) error {
			res := RetentionResult{Path: e.Path.String()}
			if !e.At.IsZero() {
				at := e.At
				res.Expires = &at
			}
			out.Changed = append(out.Changed, res)
			return nil
		})
	default:
		return badRequest("invalid_argument", fmt.Sprintf("action %q: want set, hold, release or expire", cut(req.Action, 40)))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
