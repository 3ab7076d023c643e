package httpapi

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

var pathEscape = url.PathEscape

// targetOf is the metadata target at p: a data object or a collection,
// which the zone tells (a stat, under the caller's permission).
func (a *API) targetOf(r *http.Request, who zones.Principal, p catalog.Path) (catalog.AVUTarget, error) {
	e, err := a.zone.Stat(r.Context(), who, p)
	if err != nil {
		return catalog.AVUTarget{}, err
	}
	if e.Collection != nil {
		return catalog.CollectionTarget(p), nil
	}
	return catalog.ObjectTarget(p), nil
}

// Metadata answers GET /api/v1/metadata/{path}.
type Metadata struct {
	Path string `json:"path"`
	AVUs []AVU  `json:"avus"`
}

func (a *API) listMetadata(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/metadata/")
	if err != nil {
		return err
	}
	t, err := a.targetOf(r, who, p)
	if err != nil {
		return err
	}
	avus, err := a.zone.ListMetadata(r.Context(), who, t, r.URL.Query().Get("attribute"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Metadata{Path: p.String(), AVUs: AVUsOf(avus)})
	return nil
}

// MetadataChange is the body of POST /api/v1/metadata/{path}: imeta add,
// set, rm (rmw with wildcard) or mod.
type MetadataChange struct {
	Action   string `json:"action"` // add | set | remove | modify
	AVUs     []AVU  `json:"avus,omitempty"`
	Wildcard bool   `json:"wildcard,omitempty"` // remove: attribute and value are LIKE patterns
	New      *AVU   `json:"new,omitempty"`      // modify: what avus[0] becomes
}

func (a *API) changeMetadata(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/metadata/")
	if err != nil {
		return err
	}
	var req MetadataChange
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := ChangeMetadata(r, a.zone, who, p, req); err != nil {
		return err
	}
	return a.listMetadata(w, r, who)
}

// ChangeMetadata makes the change req asks of p's metadata: one zone
// method (after a stat that tells a data object from a collection).
func ChangeMetadata(r *http.Request, z *zones.Zone, who zones.Principal, p catalog.Path, req MetadataChange) error {
	if len(req.AVUs) == 0 {
		return badRequest("invalid_argument", "avus: at least one AVU")
	}
	e, err := z.Stat(r.Context(), who, p)
	if err != nil {
		return err
	}
	t := catalog.ObjectTarget(p)
	if e.Collection != nil {
		t = catalog.CollectionTarget(p)
	}
	one := func() error {
		if len(req.AVUs) != 1 {
			return badRequest("invalid_argument", fmt.Sprintf("%s takes one AVU, not %d", req.Action, len(req.AVUs)))
		}
		return nil
	}
	ctx := r.Context()
	switch req.Action {
	case "add":
		avus := make([]catalog.AVU, len(req.AVUs))
		for i, v := range req.AVUs {
			avus[i] = v.catalog()
		}
		return z.AddMetadata(ctx, who, t, avus)
	case "set":
		if err := one(); err != nil {
			return err
		}
		return z.SetMetadata(ctx, who, t, req.AVUs[0].catalog())
	case "remove":
		if err := one(); err != nil {
			return err
		}
		_, err := z.RemoveMetadata(ctx, who, t, req.AVUs[0].catalog(), req.Wildcard)
		return err
	case "modify":
		if err := one(); err != nil {
			return err
		}
		if req.New == nil {
			return badRequest("invalid_argument", "modify needs new: the AVU that avus[0] becomes")
		}
		return z.ModifyMetadata(ctx, who, t, req.AVUs[0].catalog(), req.New.catalog())
	}
	return badRequest("invalid_argument", fmt.Sprintf("action %q: want add, set, remove or modify", cut(req.Action, 40)))
}

// ACL answers GET /api/v1/acl/{path}.
type ACL struct {
	Path    string `json:"path"`
	Owner   string `json:"owner"`
	ACL     []ACE  `json:"acl"`
	Inherit *bool  `json:"inherit,omitempty"`
}

func (a *API) listACL(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/acl/")
	if err != nil {
		return err
	}
	e, err := a.zone.Stat(r.Context(), who, p)
	if err != nil {
		return err
	}
	full := EntryOf(e, true)
	writeJSON(w, http.StatusOK, ACL{Path: full.Path, Owner: full.Owner, ACL: full.ACL, Inherit: full.Inherit})
	return nil
}

// ACLChange is the body of POST /api/v1/acl/{path}: ichmod.
type ACLChange struct {
	User      string `json:"user,omitempty"`  // a user or group, name or name#zone
	Level     string `json:"level,omitempty"` // null (removes the grant) | read | write | own
	Inherit   *bool  `json:"inherit,omitempty"`
	Recursive bool   `json:"recursive,omitempty"`
	AdminMode bool   `json:"admin_mode,omitempty"`
}

func (a *API) setACL(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/acl/")
	if err != nil {
		return err
	}
	var req ACLChange
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.Inherit != nil && req.User == "":
		err = a.zone.SetInheritance(r.Context(), who, p, *req.Inherit, req.Recursive, req.AdminMode)
	case req.Inherit == nil && req.User != "":
		level, lerr := catalog.ParseAccessLevel(req.Level)
		if lerr != nil {
			return lerr
		}
		err = a.zone.SetAccess(r.Context(), who, p, req.User, level, req.Recursive, req.AdminMode)
	default:
		return badRequest("invalid_argument", "give user and level, or inherit")
	}
	if err != nil {
		return err
	}
	return a.listACL(w, r, who)
}

// Replicas answers GET /api/v1/replicas/{path}.
type Replicas struct {
	Path     string    `json:"path"`
	Replicas []Replica `json:"replicas"`
}

func (a *API) listReplicas(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/replicas/")
	if err != nil {
		return err
	}
	e, err := a.zone.Stat(r.Context(), who, p)
	if err != nil {
		return err
	}
	if e.Object == nil {
		return fmt.Errorf("%w: %s is a collection, which has no replicas", catalog.ErrNotDataObject, p)
	}
	writeJSON(w, http.StatusOK, Replicas{Path: p.String(), Replicas: replicasOf(*e.Object)})
	return nil
}

// ReplicaChange is the body of POST /api/v1/replicas/{path}: irepl or itrim.
type ReplicaChange struct {
	Action      string `json:"action"`             // replicate | trim
	Resource    string `json:"resource,omitempty"` // replicate: the destination; trim: only below it
	UpdateStale bool   `json:"update_stale,omitempty"`
	Keep        int    `json:"keep,omitempty"` // trim: keep at least this many (default 2)
	Recursive   bool   `json:"recursive,omitempty"`
}

// ReplicaReport answers POST /api/v1/replicas/{path}: what happened to
// each object.
type ReplicaReport struct {
	Changes []ReplicaChangeResult `json:"changes"`
}

// ReplicaChangeResult is what happened to one object.
type ReplicaChangeResult struct {
	Path     string `json:"path"`
	Action   string `json:"action"`
	Resource string `json:"resource,omitempty"`
	Replica  int    `json:"replica,omitempty"`
	Error    string `json:"error,omitempty"`
}

func (a *API) changeReplicas(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	p, err := pathOf(r, "/api/v1/replicas/")
	if err != nil {
		return err
	}
	var req ReplicaChange
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	out := ReplicaReport{Changes: []ReplicaChangeResult{}}
	report := func(c zones.ReplicaChange) error {
		res := ReplicaChangeResult{Path: c.Path.String(), Action: c.Action, Resource: c.Resource, Replica: c.Replica}
		if c.Err != nil {
			res.Error = c.Err.Error()
		}
		out.Changes = append(out.Changes, res)
		return nil
	}
	switch req.Action {
	case "replicate":
		err = a.zone.Replicate(r.Context(), who, zones.ReplicateRequest{Path: p, Dest: req.Resource, UpdateStale: req.UpdateStale, Recursive: req.Recursive}, report)
	case "trim":
		err = a.zone.Trim(r.Context(), who, zones.TrimRequest{Path: p, Keep: req.Keep, Resource: req.Resource, Recursive: req.Recursive}, report)
	default:
		return badRequest("invalid_argument", fmt.Sprintf("action %q: want replicate or trim", cut(req.Action, 40)))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
