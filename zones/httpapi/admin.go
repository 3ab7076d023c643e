package httpapi

import (
	_ "embed"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI is the OpenAPI 3 document of the API.
func OpenAPI() []byte { return openAPIDoc }

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
}

// LoginRequest is the body of POST /api/v1/login.
type LoginRequest struct {
	User     string `json:"user"` // name or name#zone
	Password string `json:"password"`
}

// LoginResponse answers a login: the bearer token, for the header
// "Authorization: Bearer TOKEN".
type LoginResponse struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	User    User      `json:"user"`
}

// User is an account as the API shows it.
type User struct {
	Name string `json:"name"`
	Zone string `json:"zone"`
	Type string `json:"type"`
	Home string `json:"home,omitempty"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	err := decodeJSON(w, r, &req)
	if err == nil {
		var resp LoginResponse
		resp, err = a.Login(r, req.User, req.Password)
		if err == nil {
			writeJSON(w, http.StatusOK, resp)
			return
		}
	}
	a.fail(w, r, err)
}

// Login opens a session for user with password, as iinit does (zones/auth:
// native or LDAP, throttled).
func (a *API) Login(r *http.Request, user, password string) (LoginResponse, error) {
	id, err := catalog.ParseUserID(user, a.zone.Name())
	if err != nil {
		return LoginResponse{}, err
	}
	if id.Zone != a.zone.Name() {
		return LoginResponse{}, fmt.Errorf("%w: zone %q is not this zone (%q)", zones.ErrUnauthenticated, id.Zone, a.zone.Name())
	}
	token, sess, u, err := a.auth.Login(r.Context(), id, password, ClientHost(r))
	if err != nil {
		return LoginResponse{}, err
	}
	return LoginResponse{Token: token, Expires: sess.Expires, User: a.userOf(u)}, nil
}

func (a *API) userOf(u catalog.User) User {
	return User{Name: u.Name, Zone: u.Zone, Type: string(u.Type), Home: a.zone.Home(u.Name).String()}
}

// LogoutResponse answers POST /api/v1/logout.
type LogoutResponse struct {
	SessionsEnded int `json:"sessions_ended"`
}

func (a *API) logout(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	all, err := boolParam(r, "all")
	if err != nil {
		return err
	}
	token, err := a.token(r)
	if err != nil {
		return err
	}
	if token == "" {
		return fmt.Errorf("%w: logout needs the session's bearer token", zones.ErrUnauthenticated)
	}
	n, err := a.auth.Logout(r.Context(), who, token, all)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, LogoutResponse{SessionsEnded: n})
	return nil
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	u, err := a.zone.WhoAmI(r.Context(), who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.userOf(u))
	return nil
}

// QueryRequest is the body of POST /api/v1/query: iquest's text.
type QueryRequest struct {
	Query string `json:"query"`
}

// QueryResult answers a query.
type QueryResult struct {
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// maxQueryRows bounds what one query answers.
const maxQueryRows = 10_000

func (a *API) query(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	var req QueryRequest
	if r.Method == http.MethodPost {
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
	} else {
		req.Query = r.URL.Query().Get("q")
	}
	if req.Query == "" {
		return badRequest("invalid_argument", "the query is empty: give q=... (GET) or {\"query\": ...} (POST), in iquest's language")
	}
	res, err := RunQuery(r, a.zone, who, req.Query, maxQueryRows)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// errEnough stops a query that has answered enough rows.
var errEnough = fmt.Errorf("enough rows")

// RunQuery runs an iquest query for who and returns up to limit rows.
func RunQuery(r *http.Request, z *zones.Zone, who zones.Principal, text string, limit int) (QueryResult, error) {
	res := QueryResult{Rows: [][]string{}}
	err := z.Query(r.Context(), who, text, func(columns []string, rows [][]string) error {
		res.Columns = columns
		for _, row := range rows {
			if len(res.Rows) >= limit {
				return errEnough
			}
			res.Rows = append(res.Rows, row)
		}
		return nil
	})
	if err == errEnough {
		err = nil
	}
	if res.Columns == nil {
		res.Columns = []string{}
	}
	return res, err
}

// Job is a scheduled job as the API shows it.
type Job struct {
	ID        int64     `json:"id"`
	Rule      string    `json:"rule"`
	Owner     string    `json:"owner"`
	Every     string    `json:"every,omitempty"`
	Due       time.Time `json:"due"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	Failed    bool      `json:"failed"`
	Holder    string    `json:"holder,omitempty"`
}

// JobOf is j as the API shows it.
func JobOf(j catalog.Job) Job {
	return Job{ID: int64(j.ID), Rule: j.Rule, Owner: j.Owner.String(), Every: j.Every, Due: j.Due,
		Attempts: j.Attempts, LastError: j.LastError, Failed: j.Failed, Holder: j.Holder}
}

// Jobs answers GET /api/v1/jobs.
type Jobs struct {
	Jobs []Job `json:"jobs"`
}

func (a *API) listJobs(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	jobs, err := a.zone.ListJobs(r.Context(), who)
	if err != nil {
		return err
	}
	out := Jobs{Jobs: make([]Job, 0, len(jobs))}
	for _, j := range jobs {
		out.Jobs = append(out.Jobs, JobOf(j))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) removeJob(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return badRequest("invalid_argument", fmt.Sprintf("job id %q: want a positive number", cut(r.PathValue("id"), 40)))
	}
	if err := a.zone.RemoveJob(r.Context(), who, catalog.ID(id)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Resource is a resource as the API shows it.
type Resource struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Location  string   `json:"location,omitempty"`
	Status    string   `json:"status"`
	Parent    string   `json:"parent,omitempty"`
	Role      string   `json:"role,omitempty"`
	Children  []string `json:"children,omitempty"`
	Hierarchy string   `json:"hierarchy,omitempty"`
	Comment   string   `json:"comment,omitempty"`
}

// Resources answers GET /api/v1/resources.
type Resources struct {
	Resources []Resource `json:"resources"`
}

func (a *API) listResources(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	rs, err := a.zone.ListResources(r.Context(), who)
	if err != nil {
		return err
	}
	out := Resources{Resources: make([]Resource, 0, len(rs))}
	for _, x := range rs {
		out.Resources = append(out.Resources, Resource{Name: x.Name, Type: x.Type, Location: x.Location, Status: x.Status,
			Parent: x.Parent, Role: x.Role, Children: x.Children, Hierarchy: x.Hierarchy, Comment: x.Comment})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// Rule is a loaded rule as the API shows it.
type Rule struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	File        string   `json:"file"`
	Line        int      `json:"line"`
	On          []string `json:"on"`
	When        string   `json:"when"`
	Priority    int      `json:"priority"`
	Mode        string   `json:"mode,omitempty"`
	Denies      bool     `json:"denies"`
	Actions     []string `json:"actions,omitempty"`
	Schedule    string   `json:"schedule,omitempty"`
}

// RuleSet answers GET /api/v1/rules.
type RuleSet struct {
	Version  string    `json:"version"`
	LoadedAt time.Time `json:"loaded_at"`
	Files    []string  `json:"files"`
	Rules    []Rule    `json:"rules"`
}

func (a *API) listRules(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	set, err := a.zone.ListRules(r.Context(), who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RuleSetOf(set))
	return nil
}

// AuditRecords answers GET /api/v1/audit.
type AuditRecords struct {
	Records []zones.AuditRecord `json:"records"`
}

// AuditFilterOf reads the audit filter of r's query: rule, user, op,
// outcome, path, since (RFC 3339), limit.
func AuditFilterOf(r *http.Request) (zones.AuditFilter, error) {
	q := r.URL.Query()
	f := zones.AuditFilter{Rule: q.Get("rule"), User: q.Get("user"), Op: q.Get("op"), Outcome: q.Get("outcome")}
	if s := q.Get("path"); s != "" {
		p, err := catalog.ParsePath(s)
		if err != nil {
			return f, err
		}
		f.Path = p
	}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return f, badRequest("invalid_argument", fmt.Sprintf("since=%q: want an RFC 3339 time", cut(s, 40)))
		}
		f.Since = t
	}
	limit, err := intParam(r, "limit", 100, 1, 10_000)
	f.Limit = limit
	return f, err
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, who zones.Principal) error {
	f, err := AuditFilterOf(r)
	if err != nil {
		return err
	}
	recs, err := a.zone.ListAudit(r.Context(), who, f)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []zones.AuditRecord{}
	}
	writeJSON(w, http.StatusOK, AuditRecords{Records: recs})
	return nil
}

// RuleSetOf is set as the API shows it.
func RuleSetOf(set *rules.Set) RuleSet {
	out := RuleSet{Rules: []Rule{}, Files: []string{}}
	if set == nil {
		return out
	}
	out.Version, out.LoadedAt = set.Version, set.LoadedAt
	out.Files = append(out.Files, set.Files...)
	for _, r := range set.Rules {
		out.Rules = append(out.Rules, Rule{Name: r.Name, Description: r.Description, File: r.File, Line: r.Line, On: append([]string{}, r.On...),
			When: string(r.When), Priority: r.Priority, Mode: r.Mode, Denies: r.Denies(), Actions: r.Actions(), Schedule: r.Schedule})
	}
	return out
}
