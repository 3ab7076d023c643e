// Package dgraph is the cluster catalog backend: catalog.Catalog on a
// Dgraph v24 cluster through dgo, so that several Arca servers serve one
// zone from one catalog.
//
// Every catalog node (collection, data object, replica, user, resource,
// session, AVU) is a Dgraph node whose predicates carry a prefix (default
// "arca"), so that several catalogs can share one cluster: each test uses
// its own. Edges point from child to parent (object → collection, replica →
// object, AVU → target, user → group), with @reverse, so deleting a child
// node leaves no dangling edge.
//
// Every method is one Dgraph transaction, retried when Dgraph aborts it.
// Dgraph detects only write-write conflicts (snapshot isolation), so a
// transaction that decides on what it read "touches" the nodes its decision
// depends on: it writes their ver predicate. Two transactions that depend
// on the same node thus conflict and one is retried, which makes each
// decision serializable per node. Uniqueness of paths, user names,
// resource names, session tokens and physical paths rests on @upsert
// indexes, whose index keys conflict as well.
package dgraph

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/dgo/v240"
	"github.com/dgraph-io/dgo/v240/protos/api"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/catalog"
)

// DefaultPrefix names the predicates of a catalog opened without one.
const DefaultPrefix = "arca"

// Catalog is catalog.Catalog on a Dgraph cluster.
type Catalog struct {
	dg     *dgo.Dgraph
	prefix string
	rep    *strings.Replacer
	typ    string // the dgraph.type of every node
	// retryFor bounds how long an operation retries while the cluster is
	// unreachable or restarting.
	retryFor time.Duration
}

var _ catalog.Catalog = (*Catalog)(nil)

// Options tune Open.
type Options struct {
	// Prefix of every predicate; DefaultPrefix when empty. Letters and
	// digits only.
	Prefix string
	// RetryFor is how long an operation keeps retrying while Dgraph is
	// unavailable; 30 s when zero.
	RetryFor time.Duration
}

// ParseURL reads "dgraph://HOST:PORT[?prefix=NAME]" into an address and
// options.
func ParseURL(s string) (string, Options, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", Options{}, fmt.Errorf("%w: catalog URL %q: %v", catalog.ErrInvalidArgument, s, err)
	}
	if u.Scheme != "dgraph" || u.Host == "" {
		return "", Options{}, fmt.Errorf("%w: catalog URL %q: want dgraph://HOST:PORT", catalog.ErrInvalidArgument, s)
	}
	if u.Port() == "" {
		u.Host += ":9080"
	}
	return u.Host, Options{Prefix: u.Query().Get("prefix")}, nil
}

// Open connects to the Dgraph alpha at addr (host:port of its gRPC port),
// brings the schema of the catalog up to date and makes the root collection.
func Open(ctx context.Context, addr string, opts Options) (*Catalog, error) {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	for _, r := range prefix {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return nil, fmt.Errorf("%w: catalog prefix %q: letters and digits only", catalog.ErrInvalidArgument, prefix)
		}
	}
	dg, err := dgo.NewClient(addr,
		dgo.WithGrpcOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		dgo.WithGrpcOption(grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30))))
	if err != nil {
		return nil, fmt.Errorf("open dgraph catalog at %s: %w", addr, err)
	}
	c := &Catalog{
		dg:       dg,
		prefix:   prefix,
		rep:      strings.NewReplacer("P.", prefix+"."),
		typ:      prefix + ".Node",
		retryFor: opts.RetryFor,
	}
	if c.retryFor == 0 {
		c.retryFor = 30 * time.Second
	}
	var typ strings.Builder
	typ.WriteString("\ntype " + c.typ + " {\n")
	for _, p := range predicates {
		typ.WriteString("\t" + c.p(p) + "\n")
	}
	typ.WriteString("}\n")
	if err := c.retry(ctx, func() error {
		return dg.Alter(ctx, &api.Operation{Schema: c.dql(schema) + typ.String()})
	}); err != nil {
		dg.Close()
		return nil, fmt.Errorf("open dgraph catalog at %s: schema: %w", addr, err)
	}
	err = c.write(ctx, func(t *tx) error {
		n, err := t.at(catalog.MustPath("/"))
		if err != nil || n != nil {
			return err
		}
		now := nowNS()
		_, err = t.create(map[string]any{
			c.p("kind"): kindColl, c.p("path"): "/", c.p("name"): "", c.p("owner"): "",
			c.p("ctime"): now, c.p("mtime"): now, c.p("inherit"): false,
		})
		return err
	})
	if err != nil {
		dg.Close()
		return nil, fmt.Errorf("open dgraph catalog at %s: root collection: %w", addr, err)
	}
	if err := c.indexJobs(ctx); err != nil {
		dg.Close()
		return nil, fmt.Errorf("open dgraph catalog at %s: index jobs: %w", addr, err)
	}
	return c, nil
}

// Close closes the connection.
func (c *Catalog) Close() error {
	c.dg.Close()
	return nil
}

// Drop removes every predicate and the type of the catalog: all its data.
// Tests use it to clean up their catalogs.
func (c *Catalog) Drop(ctx context.Context) error {
	for _, p := range predicates {
		if err := c.dg.Alter(ctx, &api.Operation{DropOp: api.Operation_ATTR, DropValue: c.p(p)}); err != nil {
			return fmt.Errorf("drop %s: %w", c.p(p), err)
		}
	}
	if err := c.dg.Alter(ctx, &api.Operation{DropOp: api.Operation_TYPE, DropValue: c.typ}); err != nil {
		return fmt.Errorf("drop type: %w", err)
	}
	return nil
}

// Node kinds.
const (
	kindColl     = "c"
	kindObj      = "o"
	kindRepl     = "r"
	kindUser     = "u"
	kindResource = "res"
	kindSession  = "s"
	kindAVU      = "avu"
	kindLink     = "l"
	kindRuleSet  = "rs"
	kindDeletion = "del"
)

// predicates are the names of the schema, without prefix, for Drop.
var predicates = []string{
	"kind", "path", "name", "parent", "owner", "ctime", "mtime", "inherit", "acl", "who", "ver",
	"obj", "num", "resc", "ppath", "rkey", "size", "sum", "status", "holder", "lease",
	"ukey", "uname", "uzone", "utype", "pw", "info", "groups",
	"rname", "rtype", "loc", "ctx", "rstatus", "comment", "rparent", "rqos",
	"token", "suser", "sexp",
	"of", "attr", "val", "unit",
	"lfrom", "lto", "rel", "lkey", "lock", "auth", "doc", "jkey", "jdue", "thash", "towner", "qkey",
	"psub", "pseq", "pdig", "pvkey", "phkey", "reckey", "recref",
	"rskey", "rsver", "rsfiles",
	"dkey",
	"jrule", "jpath", "jpend",
	"rmode", "runtil", "rhold", "rby", "rset", "expire", "rdmode", "rdper",
	"qon", "qrkey", "qexpr", "qn", "qby",
}

// schema of a catalog; "P." is replaced by the prefix. Times are unix
// nanoseconds (0 for none); status is catalog.ReplicaStatus; a data
// object's lock (catalog.Lock) is rmode, runtil, rhold, rby and rset, and
// expire is kept for the expiry of issue 16; a collection's default
// retention is rdmode and rdper (an ISO 8601 period), present only while
// it has one; acl holds
// "name#zone#level" and who "name#zone" of each grant (names cannot hold
// '#'), so that the grants of a principal are found through who's index.
const schema = `
P.kind: string @index(exact) .
P.path: string @index(exact) @upsert .
P.name: string @index(exact) .
P.parent: uid @reverse .
P.owner: string @index(exact) .
P.ctime: int .
P.mtime: int .
P.inherit: bool .
P.acl: [string] .
P.who: [string] @index(exact) .
P.ver: int .
P.obj: uid @reverse @count .
P.num: int @index(int) .
P.resc: string @index(exact) .
P.ppath: string @index(exact) .
P.rkey: string @index(exact) @upsert .
P.size: int @index(int) .
P.sum: string @index(exact) .
P.status: int @index(int) .
P.holder: string .
P.lease: int @index(int) .
P.ukey: string @index(exact) @upsert .
P.uname: string .
P.uzone: string .
P.utype: string @index(exact) .
P.pw: string .
P.info: string .
P.groups: [uid] @reverse .
P.rname: string @index(exact) @upsert .
P.rtype: string .
P.loc: string .
P.ctx: string .
P.rstatus: string .
P.comment: string .
P.rparent: string @index(exact) .
P.rqos: string .
P.token: string @index(exact) @upsert .
P.suser: string @index(exact) .
P.sexp: int @index(int) .
P.of: uid @reverse .
P.attr: string @index(exact) .
P.val: string @index(exact) .
P.unit: string .
P.lfrom: uid @reverse .
P.lto: uid @reverse .
P.rel: string @index(exact) .
P.lkey: string @index(exact) @upsert .
P.lock: [int] .
P.auth: string .
P.doc: string .
P.jkey: string @index(exact) @upsert .
P.jdue: int @index(int) .
P.thash: string @index(exact) @upsert .
P.towner: string @index(exact) .
P.qkey: string @index(exact) @upsert .
P.psub: string @index(exact) .
P.pseq: int @index(int) .
P.pdig: string .
P.pvkey: string @index(exact) @upsert .
P.phkey: string @index(exact) @upsert .
P.reckey: string @index(exact) @upsert .
P.recref: string @index(exact) .
P.rskey: string @index(exact) @upsert .
P.rsver: int @index(int) .
P.rsfiles: string .
P.dkey: string @index(exact) @upsert .
P.jrule: string @index(exact) .
P.jpath: string @index(exact) .
P.jpend: string @index(exact) @upsert .
P.rmode: string .
P.runtil: int @index(int) .
P.rhold: bool @index(bool) .
P.rby: string .
P.rset: int .
P.expire: int @index(int) .
P.rdmode: string @index(exact) .
P.rdper: string .
P.qon: uid @reverse .
P.qrkey: string @index(exact) @upsert .
P.qexpr: string .
P.qn: int .
P.qby: string .

`

// p is the full name of predicate name.
func (c *Catalog) p(name string) string { return c.prefix + "." + name }

// dql replaces "P." in a query or schema text by the prefix.
func (c *Catalog) dql(s string) string { return c.rep.Replace(s) }

// tx is one Dgraph transaction of an operation. Its queries run at once;
// its mutations are collected and sent with the commit in one request, so
// that a transaction costs one Raft proposal however many nodes it writes.
// Queries therefore do not see the transaction's own mutations.
type tx struct {
	ctx    context.Context
	c      *Catalog
	t      *dgo.Txn
	muts   []*api.Mutation
	seq    int
	afters []func(uid func(string) string)
}

// query runs q (with "P." for the prefix) and decodes its JSON into out.
func (t *tx) query(q string, vars map[string]string, out any) error {
	resp, err := t.t.QueryWithVars(t.ctx, t.c.dql(q), vars)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp.Json, out); err != nil {
		return fmt.Errorf("decode dgraph answer: %w", err)
	}
	return nil
}

// blank returns a new blank node reference ("_:bN") of this transaction.
func (t *tx) blank() string {
	t.seq++
	return fmt.Sprintf("_:b%d", t.seq)
}

// create adds a node with the predicates of m (full names) and returns a
// blank node reference to it, which later mutations of the transaction
// may use as a uid; afterCommit learns its uid.
func (t *tx) create(m map[string]any) (string, error) {
	ref := t.blank()
	m["uid"] = ref
	m["dgraph.type"] = t.c.typ
	return ref, t.set(m)
}

// afterCommit registers fn to run after the commit, with a function that
// turns a blank node reference (or a uid) into the uid.
func (t *tx) afterCommit(fn func(uid func(string) string)) { t.afters = append(t.afters, fn) }

// set writes predicates of nodes: each map holds "uid".
func (t *tx) set(ms ...map[string]any) error {
	if len(ms) == 0 {
		return nil
	}
	js, err := json.Marshal(ms)
	if err != nil {
		return err
	}
	t.muts = append(t.muts, &api.Mutation{SetJson: js})
	return nil
}

// del deletes predicates or values: each map holds "uid"; a map with only
// "uid" deletes the whole node (all predicates of its type).
func (t *tx) del(ms ...map[string]any) error {
	if len(ms) == 0 {
		return nil
	}
	js, err := json.Marshal(ms)
	if err != nil {
		return err
	}
	t.muts = append(t.muts, &api.Mutation{DeleteJson: js})
	return nil
}

// touch writes the ver predicate of nodes, so that this transaction
// conflicts with every other that touches, changes or deletes them.
func (t *tx) touch(uids ...string) error {
	ms := make([]map[string]any, 0, len(uids))
	for _, u := range uids {
		ms = append(ms, map[string]any{"uid": u, t.c.p("ver"): randVer()})
	}
	return t.set(ms...)
}

func randVer() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// write runs fn in a read-write transaction and commits it, retrying the
// whole of it when Dgraph aborts it for a conflict or is unavailable
// before the commit. fn may run several times and must not keep state
// between runs but what it assigns afresh.
func (c *Catalog) write(ctx context.Context, fn func(*tx) error) error {
	attempt := 0
	start := time.Now()
	for {
		err := c.writeOnce(ctx, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		if !retryable(err) || ctx.Err() != nil {
			return err
		}
		if !errors.Is(err, dgo.ErrAborted) && time.Since(start) > c.retryFor {
			return fmt.Errorf("dgraph unavailable for %s: %w", c.retryFor.Round(time.Second), err)
		}
		attempt++
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// errCommitUnknown marks a commit whose outcome is not known: the cluster
// was lost while committing. It is not retried, as the first attempt may
// have committed.
var errCommitUnknown = errors.New("dgraph commit outcome unknown")

func (c *Catalog) writeOnce(ctx context.Context, fn func(*tx) error) error {
	txn := c.dg.NewTxn()
	t := &tx{ctx: ctx, c: c, t: txn}
	if err := fn(t); err != nil {
		_ = txn.Discard(context.WithoutCancel(ctx))
		return err
	}
	if len(t.muts) == 0 {
		return txn.Discard(ctx)
	}
	resp, err := txn.Do(ctx, &api.Request{Mutations: t.muts, CommitNow: true})
	if err == nil {
		uid := func(ref string) string {
			if label, ok := strings.CutPrefix(ref, "_:"); ok {
				return resp.Uids[label]
			}
			return ref
		}
		for _, fn := range t.afters {
			fn(uid)
		}
		return nil
	}
	return commitError(err)
}

// commitError classifies the error of a CommitNow request: an abort, a
// refusal or a connection never made committed nothing and is returned as
// is; anything else (a timeout, a connection lost mid-request) may have
// committed, and is wrapped in errCommitUnknown.
func commitError(err error) error {
	if errors.Is(err, dgo.ErrAborted) {
		return err
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable:
			if connRefused(err) {
				return err // never reached the server: safe to retry
			}
		case codes.DeadlineExceeded, codes.Canceled:
		default:
			return err // the server refused it: nothing was committed
		}
	}
	return fmt.Errorf("%w: %w", errCommitUnknown, err)
}

// connRefused tells an error from a connection that was never made.
func connRefused(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "no such host")
}

// read runs fn in a read-only transaction: one snapshot.
func (c *Catalog) read(ctx context.Context, fn func(*tx) error) error {
	start := time.Now()
	attempt := 0
	for {
		err := fn(&tx{ctx: ctx, c: c, t: c.dg.NewReadOnlyTxn()})
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		if err == nil || !retryable(err) {
			return err
		}
		if time.Since(start) > c.retryFor {
			return fmt.Errorf("dgraph unavailable for %s: %w", c.retryFor.Round(time.Second), err)
		}
		attempt++
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// retry runs fn until it succeeds, fails for good, or retryFor passes.
func (c *Catalog) retry(ctx context.Context, fn func() error) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) || ctx.Err() != nil || time.Since(start) > c.retryFor {
			return err
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// retryable reports errors after which running the transaction again is
// safe and may succeed: an abort for a conflict, or a cluster that is
// unavailable or not ready.
func retryable(err error) bool {
	if errors.Is(err, dgo.ErrAborted) {
		return true
	}
	if errors.Is(err, errCommitUnknown) {
		return false
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable, codes.Aborted:
			return true
		}
		msg := s.Message()
		// Zero refuses to decide while its leadership changes (seen on a
		// loaded machine); nothing was committed, so a retry is safe.
		for _, m := range []string{"Please retry", "is not ready", "No connection exists", "Transaction has been aborted",
			"Only leader can decide to commit or abort", "only allowed on leader", "Server overloaded"} {
			if strings.Contains(msg, m) {
				return true
			}
		}
		return false
	}
	return false
}

func backoff(attempt int) time.Duration {
	d := time.Millisecond << min(attempt, 8)
	return d/2 + time.Duration(mrand.Int64N(int64(d)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Helpers shared by the files of the package.

func nowNS() int64 { return time.Now().UnixNano() }

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// invalid wraps ErrInvalidArgument, for the checks that need the stored
// state; what a request alone shows is checked in package catalog.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", catalog.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// idOf turns a Dgraph uid ("0x1f") into a catalog ID.
func idOf(uid string) catalog.ID {
	n, err := strconv.ParseUint(strings.TrimPrefix(uid, "0x"), 16, 64)
	if err != nil || n > math.MaxInt64 {
		return 0
	}
	return catalog.ID(n)
}

// uidOf is the uid of a catalog ID, "" for one that cannot be a uid.
func uidOf(id catalog.ID) string {
	if id <= 0 {
		return ""
	}
	return "0x" + strconv.FormatUint(uint64(id), 16)
}

// userKey is the stored form of a principal: "name#zone".
func userKey(u catalog.UserID) string { return u.Name + "#" + u.Zone }

func parseUserKey(s string) catalog.UserID {
	name, zone, _ := strings.Cut(s, "#")
	return catalog.UserID{Name: name, Zone: zone}
}
