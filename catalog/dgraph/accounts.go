package dgraph

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
)

const userFields = `uid name: P.uname zone: P.uzone type: P.utype pw: P.pw auth: P.auth info: P.info ctime: P.ctime mtime: P.mtime`

type userNode struct {
	UID   string `json:"uid"`
	Name  string `json:"name"`
	Zone  string `json:"zone"`
	Type  string `json:"type"`
	PW    string `json:"pw"`
	Auth  string `json:"auth"`
	Info  string `json:"info"`
	CTime int64  `json:"ctime"`
	MTime int64  `json:"mtime"`
}

func (u userNode) user() catalog.User {
	return catalog.User{
		ID: idOf(u.UID), Name: u.Name, Zone: u.Zone, Type: catalog.UserType(u.Type), PasswordHash: u.PW, Auth: catalog.AuthSource(u.Auth),
		Info: u.Info, CreateTime: fromNanos(u.CTime), ModifyTime: fromNanos(u.MTime),
	}
}

func sortUsers(us []catalog.User) {
	slices.SortFunc(us, func(a, b catalog.User) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Zone, b.Zone))
	})
}

func sortUserIDs(us []catalog.UserID) {
	slices.SortFunc(us, func(a, b catalog.UserID) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Zone, b.Zone))
	})
}

// userByID reads the account id; nil when there is none.
func (t *tx) userByID(id catalog.UserID) (*userNode, error) {
	var out struct {
		N []userNode `json:"n"`
	}
	if err := t.query(`query q($k: string) { n(func: eq(P.ukey, $k)) @filter(eq(P.kind, "u")) { `+userFields+` } }`,
		map[string]string{"$k": userKey(id)}, &out); err != nil {
		return nil, err
	}
	if len(out.N) == 0 {
		return nil, nil
	}
	return &out.N[0], nil
}

// CreateUser adds an account.
func (c *Catalog) CreateUser(ctx context.Context, u catalog.User) (catalog.User, error) {
	fail := func(err error) (catalog.User, error) {
		return catalog.User{}, fmt.Errorf("create user %s: %w", u.UserID(), err)
	}
	if err := u.Validate(); err != nil {
		return fail(err)
	}
	out := u
	err := c.write(ctx, func(t *tx) error {
		if old, err := t.userByID(u.UserID()); err != nil {
			return err
		} else if old != nil {
			return fmt.Errorf("insert: %w", catalog.ErrExists)
		}
		n := nowNS()
		uid, err := t.create(map[string]any{
			c.p("kind"): kindUser, c.p("ukey"): userKey(u.UserID()), c.p("uname"): u.Name, c.p("uzone"): u.Zone,
			c.p("utype"): string(u.Type), c.p("pw"): u.PasswordHash, c.p("auth"): string(u.Auth), c.p("info"): u.Info,
			c.p("ctime"): n, c.p("mtime"): n,
		})
		out.CreateTime, out.ModifyTime = fromNanos(n), fromNanos(n)
		t.afterCommit(func(resolve func(string) string) { out.ID = idOf(resolve(uid)) })
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// User returns the account id.
func (c *Catalog) User(ctx context.Context, id catalog.UserID) (catalog.User, error) {
	var u catalog.User
	err := c.read(ctx, func(t *tx) error {
		n, err := t.userByID(id)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		u = n.user()
		return nil
	})
	if err != nil {
		return catalog.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// listUsers returns the accounts, only groups if groups, by name and zone.
func (c *Catalog) listUsers(ctx context.Context, groups bool) ([]catalog.User, error) {
	q := `{ n(func: eq(P.kind, "u")) { ` + userFields + ` } }`
	if groups {
		q = `{ n(func: eq(P.utype, "rodsgroup")) @filter(eq(P.kind, "u")) { ` + userFields + ` } }`
	}
	var out []catalog.User
	err := c.read(ctx, func(t *tx) error {
		var res struct {
			N []userNode `json:"n"`
		}
		if err := t.query(q, nil, &res); err != nil {
			return err
		}
		out = nil
		for _, u := range res.N {
			out = append(out, u.user())
		}
		sortUsers(out)
		return nil
	})
	return out, err
}

// Users returns every account, ordered by name and zone.
func (c *Catalog) Users(ctx context.Context) ([]catalog.User, error) {
	out, err := c.listUsers(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// UpdateUser stores the type, password hash and info of u.
func (c *Catalog) UpdateUser(ctx context.Context, u catalog.User) error {
	fail := func(err error) error { return fmt.Errorf("update user %s: %w", u.UserID(), err) }
	if err := u.Type.Validate(); err != nil {
		return fail(err)
	}
	if err := u.Auth.Validate(); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(t *tx) error {
		old, err := t.userByID(u.UserID())
		if err != nil {
			return err
		}
		if old == nil {
			return fmt.Errorf("%s: %w", u.UserID(), catalog.ErrNotFound)
		}
		if (catalog.UserType(old.Type) == catalog.UserTypeGroup) != (u.Type == catalog.UserTypeGroup) {
			return invalid("a group cannot become a user, nor a user a group")
		}
		return t.set(map[string]any{"uid": old.UID, c.p("utype"): string(u.Type), c.p("pw"): u.PasswordHash,
			c.p("auth"): string(u.Auth), c.p("info"): u.Info, c.p("mtime"): nowNS(), c.p("ver"): randVer()})
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// RemoveUser deletes an account with its grants, sessions, memberships and
// AVUs. What it owns keeps naming it as owner.
func (c *Catalog) RemoveUser(ctx context.Context, id catalog.UserID) error {
	err := c.write(ctx, func(t *tx) error {
		var res struct {
			U []struct {
				UID     string    `json:"uid"`
				AVUs    []uidOnly `json:"avus"`
				Members []uidOnly `json:"members"`
			} `json:"u"`
			G []struct {
				UID string   `json:"uid"`
				ACL []string `json:"acl"`
			} `json:"g"`
			S []uidOnly `json:"s"`
			T []uidOnly `json:"t"`
			Q []uidOnly `json:"q"`
		}
		if err := t.query(`query q($k: string) {
			u(func: eq(P.ukey, $k)) @filter(eq(P.kind, "u")) { uid avus: ~P.of { uid } members: ~P.groups { uid } }
			g(func: eq(P.who, $k)) { uid acl: P.acl }
			s(func: eq(P.suser, $k)) @filter(eq(P.kind, "s")) { uid }
			t(func: eq(P.towner, $k)) @filter(eq(P.kind, "tkt")) { uid }
			q(func: eq(P.towner, $k)) @filter(eq(P.kind, "quota")) { uid }
		}`, map[string]string{"$k": userKey(id)}, &res); err != nil {
			return err
		}
		if len(res.U) == 0 {
			return catalog.ErrNotFound
		}
		u := res.U[0]
		dels := []map[string]any{{"uid": u.UID}}
		for _, a := range u.AVUs {
			dels = append(dels, map[string]any{"uid": a.UID})
		}
		for _, m := range u.Members {
			dels = append(dels, map[string]any{"uid": m.UID, c.p("groups"): map[string]string{"uid": u.UID}})
		}
		for _, s := range slices.Concat(res.S, res.T, res.Q) {
			dels = append(dels, map[string]any{"uid": s.UID})
		}
		for _, g := range res.G {
			var old []string
			for _, v := range g.ACL {
				if parseACE(v).Principal == id {
					old = append(old, v)
				}
			}
			dels = append(dels, map[string]any{"uid": g.UID, c.p("acl"): old, c.p("who"): []string{userKey(id)}})
		}
		return t.del(dels...)
	})
	if err != nil {
		return fmt.Errorf("remove user %s: %w", id, err)
	}
	return nil
}

// CreateSession stores a login session.
func (c *Catalog) CreateSession(ctx context.Context, s catalog.Session) error {
	fail := func(err error) error { return fmt.Errorf("create session of %s: %w", s.User, err) }
	if err := s.Validate(); err != nil {
		return fail(err)
	}
	err := c.write(ctx, func(t *tx) error {
		if old, err := t.session(s.TokenHash); err != nil {
			return err
		} else if old != nil {
			return fmt.Errorf("insert: %w", catalog.ErrExists)
		}
		created := nanos(s.CreateTime)
		if created == 0 {
			created = nowNS()
		}
		_, err := t.create(map[string]any{
			c.p("kind"): kindSession, c.p("token"): s.TokenHash, c.p("suser"): userKey(s.User),
			c.p("ctime"): created, c.p("sexp"): nanos(s.Expires),
		})
		return err
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

type sessionNode struct {
	UID   string `json:"uid"`
	Token string `json:"token"`
	User  string `json:"user"`
	CTime int64  `json:"ctime"`
	Exp   int64  `json:"exp"`
}

func (t *tx) session(tokenHash string) (*sessionNode, error) {
	var out struct {
		N []sessionNode `json:"n"`
	}
	if err := t.query(`query q($t: string) {
		n(func: eq(P.token, $t)) @filter(eq(P.kind, "s")) { uid token: P.token user: P.suser ctime: P.ctime exp: P.sexp }
	}`, map[string]string{"$t": tokenHash}, &out); err != nil {
		return nil, err
	}
	if len(out.N) == 0 {
		return nil, nil
	}
	return &out.N[0], nil
}

// Session returns the session whose token hashes to tokenHash, expired or not.
func (c *Catalog) Session(ctx context.Context, tokenHash string) (catalog.Session, error) {
	var s catalog.Session
	err := c.read(ctx, func(t *tx) error {
		n, err := t.session(tokenHash)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		s = catalog.Session{TokenHash: n.Token, User: parseUserKey(n.User), CreateTime: fromNanos(n.CTime), Expires: fromNanos(n.Exp)}
		return nil
	})
	if err != nil {
		return catalog.Session{}, fmt.Errorf("session: %w", err)
	}
	return s, nil
}

// RemoveSession ends one session.
func (c *Catalog) RemoveSession(ctx context.Context, tokenHash string) error {
	err := c.write(ctx, func(t *tx) error {
		n, err := t.session(tokenHash)
		if err != nil {
			return err
		}
		if n == nil {
			return catalog.ErrNotFound
		}
		return t.del(map[string]any{"uid": n.UID})
	})
	if err != nil {
		return fmt.Errorf("remove session: %w", err)
	}
	return nil
}

// removeSessions deletes the sessions that the query q (with $v) selects
// under the name n, and returns how many.
func (c *Catalog) removeSessions(ctx context.Context, q, v string) (int, error) {
	var count int
	err := c.write(ctx, func(t *tx) error {
		var res struct {
			N []uidOnly `json:"n"`
		}
		if err := t.query(q, map[string]string{"$v": v}, &res); err != nil {
			return err
		}
		count = len(res.N)
		dels := make([]map[string]any, 0, len(res.N))
		for _, s := range res.N {
			dels = append(dels, map[string]any{"uid": s.UID})
		}
		return t.del(dels...)
	})
	return count, err
}

// RemoveSessions ends every session of user.
func (c *Catalog) RemoveSessions(ctx context.Context, user catalog.UserID) (int, error) {
	n, err := c.removeSessions(ctx, `query q($v: string) { n(func: eq(P.suser, $v)) @filter(eq(P.kind, "s")) { uid } }`, userKey(user))
	if err != nil {
		return 0, fmt.Errorf("remove sessions of %s: %w", user, err)
	}
	return n, nil
}

// SessionUsers returns the users with a session that has not expired at now.
func (c *Catalog) SessionUsers(ctx context.Context, now time.Time) ([]catalog.UserID, error) {
	if err := catalog.CheckTime("time", now); err != nil {
		return nil, fmt.Errorf("session users: %w", err)
	}
	var out []catalog.UserID
	err := c.read(ctx, func(t *tx) error {
		var res struct {
			N []struct {
				User string `json:"user"`
			} `json:"n"`
		}
		if err := t.query(`query q($v: int) { n(func: ge(P.sexp, $v)) @filter(eq(P.kind, "s")) { user: P.suser } }`,
			map[string]string{"$v": fmt.Sprint(nanos(now))}, &res); err != nil {
			return err
		}
		seen := map[catalog.UserID]bool{}
		for _, n := range res.N {
			if u := parseUserKey(n.User); !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
		slices.SortFunc(out, func(a, b catalog.UserID) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Zone, b.Zone))
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("session users: %w", err)
	}
	return out, nil
}

// RemoveExpiredSessions deletes sessions that expired before at.
func (c *Catalog) RemoveExpiredSessions(ctx context.Context, at time.Time) (int, error) {
	if err := catalog.CheckTime("time", at); err != nil {
		return 0, fmt.Errorf("remove expired sessions: %w", err)
	}
	n, err := c.removeSessions(ctx, `query q($v: int) { n(func: lt(P.sexp, $v)) @filter(eq(P.kind, "s")) { uid } }`, fmt.Sprint(nanos(at)))
	if err != nil {
		return 0, fmt.Errorf("remove expired sessions: %w", err)
	}
	return n, nil
}

// Groups.

func (t *tx) groupByID(g catalog.UserID) (*userNode, error) {
	n, err := t.userByID(g)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, fmt.Errorf("%s: %w", g, catalog.ErrNotFound)
	}
	if catalog.UserType(n.Type) != catalog.UserTypeGroup {
		return nil, fmt.Errorf("%s is a %s, not a group: %w", g, n.Type, catalog.ErrNotFound)
	}
	return n, nil
}

// CreateGroup adds an account of type rodsgroup.
func (c *Catalog) CreateGroup(ctx context.Context, g catalog.UserID) (catalog.User, error) {
	return c.CreateUser(ctx, catalog.User{Name: g.Name, Zone: g.Zone, Type: catalog.UserTypeGroup})
}

// RemoveGroup deletes a group with its memberships, grants and AVUs.
func (c *Catalog) RemoveGroup(ctx context.Context, g catalog.UserID) error {
	err := c.read(ctx, func(t *tx) error {
		_, err := t.groupByID(g)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove group %s: %w", g, err)
	}
	if err := c.RemoveUser(ctx, g); err != nil {
		return fmt.Errorf("remove group: %w", err)
	}
	return nil
}

// ListGroups returns every group, ordered by name and zone.
func (c *Catalog) ListGroups(ctx context.Context) ([]catalog.User, error) {
	out, err := c.listUsers(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return out, nil
}

// memberState reads group g and user u and whether u is in g.
func (t *tx) memberState(group, user catalog.UserID) (g, u *userNode, in bool, err error) {
	if g, err = t.groupByID(group); err != nil {
		return
	}
	if u, err = t.userByID(user); err != nil {
		return
	}
	if u == nil {
		err = fmt.Errorf("%s: %w", user, catalog.ErrNotFound)
		return
	}
	var res struct {
		N []struct {
			G []uidOnly `json:"g"`
		} `json:"n"`
	}
	if err = t.query(`query q($u: string, $g: string) { n(func: uid($u)) { g: P.groups @filter(uid($g)) { uid } } }`,
		map[string]string{"$u": u.UID, "$g": g.UID}, &res); err != nil {
		return
	}
	in = len(res.N) > 0 && len(res.N[0].G) > 0
	return
}

// AddMember puts user in group.
func (c *Catalog) AddMember(ctx context.Context, group, user catalog.UserID) error {
	err := c.write(ctx, func(t *tx) error {
		g, u, in, err := t.memberState(group, user)
		if err != nil {
			return err
		}
		if catalog.UserType(u.Type) == catalog.UserTypeGroup {
			return invalid("%s is a group; groups do not nest", user)
		}
		if in {
			return fmt.Errorf("insert member: %w", catalog.ErrExists)
		}
		if err := t.touch(g.UID); err != nil {
			return err
		}
		return t.set(map[string]any{"uid": u.UID, c.p("groups"): map[string]string{"uid": g.UID}, c.p("ver"): randVer()})
	})
	if err != nil {
		return fmt.Errorf("add %s to group %s: %w", user, group, err)
	}
	return nil
}

// RemoveMember takes user out of group.
func (c *Catalog) RemoveMember(ctx context.Context, group, user catalog.UserID) error {
	err := c.write(ctx, func(t *tx) error {
		g, u, in, err := t.memberState(group, user)
		if err != nil {
			return err
		}
		if !in {
			return catalog.ErrNotFound
		}
		if err := t.touch(g.UID, u.UID); err != nil {
			return err
		}
		return t.del(map[string]any{"uid": u.UID, c.p("groups"): map[string]string{"uid": g.UID}})
	})
	if err != nil {
		return fmt.Errorf("remove %s from group %s: %w", user, group, err)
	}
	return nil
}

// Members returns the members of group.
func (c *Catalog) Members(ctx context.Context, group catalog.UserID) ([]catalog.UserID, error) {
	var out []catalog.UserID
	err := c.read(ctx, func(t *tx) error {
		if _, err := t.groupByID(group); err != nil {
			return err
		}
		var res struct {
			N []struct {
				M []userNode `json:"m"`
			} `json:"n"`
		}
		if err := t.query(`query q($k: string) {
			n(func: eq(P.ukey, $k)) @filter(eq(P.kind, "u")) { m: ~P.groups { name: P.uname zone: P.uzone } }
		}`, map[string]string{"$k": userKey(group)}, &res); err != nil {
			return err
		}
		out = nil
		if len(res.N) > 0 {
			for _, m := range res.N[0].M {
				out = append(out, catalog.UserID{Name: m.Name, Zone: m.Zone})
			}
		}
		sortUserIDs(out)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", group, err)
	}
	return out, nil
}

// GroupsOf returns the groups user belongs to.
func (c *Catalog) GroupsOf(ctx context.Context, user catalog.UserID) ([]catalog.UserID, error) {
	var out []catalog.UserID
	err := c.read(ctx, func(t *tx) error {
		var res struct {
			N []struct {
				G []userNode `json:"g"`
			} `json:"n"`
		}
		if err := t.query(`query q($k: string) {
			n(func: eq(P.ukey, $k)) @filter(eq(P.kind, "u")) { g: P.groups { name: P.uname zone: P.uzone } }
		}`, map[string]string{"$k": userKey(user)}, &res); err != nil {
			return err
		}
		out = nil
		if len(res.N) > 0 {
			for _, g := range res.N[0].G {
				out = append(out, catalog.UserID{Name: g.Name, Zone: g.Zone})
			}
		}
		sortUserIDs(out)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", user, err)
	}
	return out, nil
}
