package catalog

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// validateCase is one call of a check: nil want is valid; otherwise the
// error must wrap want and its text contain msg, the wording that users
// and the backends' tests see.
type validateCase struct {
	name string
	err  error
	want error
	msg  string
}

func runValidateCases(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil {
				if tc.err != nil {
					t.Fatalf("got %v, want no error", tc.err)
				}
				return
			}
			if !errors.Is(tc.err, tc.want) {
				t.Fatalf("got %v, want an error wrapping %v", tc.err, tc.want)
			}
			if !strings.Contains(tc.err.Error(), tc.msg) {
				t.Fatalf("got %q, want it to say %q", tc.err, tc.msg)
			}
		})
	}
}

var (
	alice    = UserID{Name: "alice", Zone: "tempZone"}
	badUser  = UserID{Name: "a b", Zone: "tempZone"}
	badZone  = UserID{Name: "alice", Zone: ""}
	objPath  = MustPath("/tempZone/home/alice/x.dat")
	collPath = MustPath("/tempZone/home/alice")
	rootPath = MustPath("/")
	soon     = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tooLate  = time.Unix(0, math.MaxInt64).Add(time.Second)
	tooEarly = time.Unix(0, math.MinInt64).Add(-time.Second)
	goodAVU  = AVU{Attribute: "a", Value: "v"}
	noValue  = AVU{Attribute: "a"}
)

func TestNewReplicaValidate(t *testing.T) {
	ok := NewReplica{Path: objPath, Owner: alice, Resource: "demoResc", PhysicalPath: "a/x.dat", Holder: "h1", LeaseExpiry: soon}
	with := func(f func(*NewReplica)) NewReplica { r := ok; f(&r); return r }
	runValidateCases(t, []validateCase{
		{"valid", ok.Validate(), nil, ""},
		{"overwrite", with(func(r *NewReplica) { r.Overwrite = true }).Validate(), nil, ""},
		{"no path", with(func(r *NewReplica) { r.Path = Path{} }).Validate(), ErrInvalidArgument, "empty path"},
		{"root", with(func(r *NewReplica) { r.Path = rootPath }).Validate(), ErrExists, "/ is a collection"},
		{"no resource", with(func(r *NewReplica) { r.Resource = "" }).Validate(), ErrInvalidArgument, "no resource"},
		{"no physical path", with(func(r *NewReplica) { r.PhysicalPath = "" }).Validate(), ErrInvalidArgument, "no physical path"},
		{"no holder", with(func(r *NewReplica) { r.Holder = "" }).Validate(), ErrInvalidArgument, "no lock holder"},
		{"no lease", with(func(r *NewReplica) { r.LeaseExpiry = time.Time{} }).Validate(), ErrInvalidArgument, "no lease expiry"},
		{"lease out of range", with(func(r *NewReplica) { r.LeaseExpiry = tooLate }).Validate(), ErrInvalidArgument, "lease expiry"},
		{"bad owner", with(func(r *NewReplica) { r.Owner = badUser }).Validate(), ErrInvalidArgument, `owner "a b#tempZone"`},
		{"owner without zone", with(func(r *NewReplica) { r.Owner = badZone }).Validate(), ErrInvalidArgument, "zone of owner"},
	})
	// The root is refused as what it is, before anything else is looked at.
	if err := (NewReplica{Path: rootPath}).Validate(); !errors.Is(err, ErrExists) {
		t.Errorf("NewReplica for / without anything else: %v, want ErrExists", err)
	}
}

func TestReplicaCommitValidate(t *testing.T) {
	ok := ReplicaCommit{Object: 7, Number: 1, Holder: "h1", Size: 0, Checksum: "sha2:x"}
	runValidateCases(t, []validateCase{
		{"valid", ok.Validate(), nil, ""},
		{"with metadata", ReplicaCommit{Size: 10, Metadata: []AVU{goodAVU}}.Validate(), nil, ""},
		// The same AVU twice is kept once by the commit, not refused.
		{"metadata twice", ReplicaCommit{Metadata: []AVU{goodAVU, goodAVU}}.Validate(), nil, ""},
		{"negative size", ReplicaCommit{Size: -1}.Validate(), ErrInvalidArgument, "size -1"},
		{"bad metadata", ReplicaCommit{Metadata: []AVU{goodAVU, noValue}}.Validate(), ErrInvalidArgument, "empty value"},

		{"copy valid", ok.ValidateCopy(0), nil, ""},
		{"copy negative size", ReplicaCommit{Number: 1, Size: -5}.ValidateCopy(0), ErrInvalidArgument, "size -5"},
		{"copy with metadata", ReplicaCommit{Number: 1, Metadata: []AVU{goodAVU}}.ValidateCopy(0), ErrInvalidArgument, "a copy carries no metadata"},
		{"copy of itself", ReplicaCommit{Number: 1}.ValidateCopy(1), ErrInvalidArgument, "a replica cannot be a copy of itself"},
	})
}

func TestGeneralChecks(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"limit 1", CheckLimit(1), nil, ""},
		{"limit 0", CheckLimit(0), ErrInvalidArgument, "limit 0"},
		{"limit -3", CheckLimit(-3), ErrInvalidArgument, "limit -3"},

		{"depth 1", CheckDepth(1), nil, ""},
		{"depth 0", CheckDepth(0), ErrInvalidArgument, "depth 0"},
		{"chain", CheckChain("prov:wasDerivedFrom", 3), nil, ""},
		{"chain depth 0", CheckChain("prov:wasDerivedFrom", 0), ErrInvalidArgument, "depth 0"},
		{"chain no relation", CheckChain("", 1), ErrInvalidArgument, "no relation"},

		{"zero time", CheckTime("time", time.Time{}), nil, ""},
		{"time", CheckTime("time", soon), nil, ""},
		{"time too late", CheckTime("retry time", tooLate), ErrInvalidArgument, "retry time"},
		{"time too early", CheckTime("due time", tooEarly), ErrInvalidArgument, "is out of range"},

		{"lease", CheckLeaseExpiry(soon), nil, ""},
		{"no lease", CheckLeaseExpiry(time.Time{}), ErrInvalidArgument, "no lease expiry"},
		{"lease too late", CheckLeaseExpiry(tooLate), ErrInvalidArgument, "lease expiry"},

		{"path", CheckPath(objPath), nil, ""},
		{"root path", CheckPath(rootPath), nil, ""},
		{"zero path", CheckPath(Path{}), ErrInvalidArgument, "empty path"},

		{"user", CheckUserID("owner", alice), nil, ""},
		{"bad user", CheckUserID("principal", badUser), ErrInvalidArgument, "principal"},
		{"bad zone", CheckUserID("owner", badZone), ErrInvalidArgument, "zone of owner"},

		{"rename", CheckRename(objPath, MustPath("/tempZone/home/alice/y.dat")), nil, ""},
		{"rename from nothing", CheckRename(Path{}, objPath), ErrInvalidArgument, "empty path"},
		{"rename to nothing", CheckRename(objPath, Path{}), ErrInvalidArgument, "empty path"},
		{"rename root", CheckRename(rootPath, objPath), ErrInvalidArgument, "cannot rename /"},

		{"remove collection", CheckRemoveCollection(collPath), nil, ""},
		{"remove nothing", CheckRemoveCollection(Path{}), ErrInvalidArgument, "empty path"},
		{"remove root", CheckRemoveCollection(rootPath), ErrInvalidArgument, "cannot remove /"},
	})
	// A bad user name is also an invalid name, for callers that tell them apart.
	if err := CheckUserID("owner", badUser); !errors.Is(err, ErrInvalidName) {
		t.Errorf("CheckUserID of a bad name: %v, want it to wrap ErrInvalidName too", err)
	}
}

func TestCollectionValidate(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"valid", Collection{Path: collPath, Owner: alice}.Validate(), nil, ""},
		{"no path", Collection{Owner: alice}.Validate(), ErrInvalidArgument, "empty path"},
		{"root", Collection{Path: rootPath, Owner: alice}.Validate(), ErrExists, "already exists"},
		{"bad owner", Collection{Path: collPath, Owner: badUser}.Validate(), ErrInvalidArgument, "owner"},
	})
}

func TestACEValidate(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"own", ACE{Principal: alice, Level: AccessOwn}.Validate(), nil, ""},
		{"null removes", ACE{Principal: alice, Level: AccessNull}.Validate(), nil, ""},
		{"bad principal", ACE{Principal: badUser, Level: AccessRead}.Validate(), ErrInvalidArgument, "principal"},
		{"level too high", ACE{Principal: alice, Level: AccessOwn + 1}.Validate(), ErrInvalidArgument, "access level 4"},
		{"negative level", ACE{Principal: alice, Level: -1}.Validate(), ErrInvalidArgument, "access level -1"},
	})
}

func TestUserValidate(t *testing.T) {
	ok := User{Name: "alice", Zone: "tempZone", Type: UserTypeUser}
	with := func(f func(*User)) User { u := ok; f(&u); return u }
	runValidateCases(t, []validateCase{
		{"valid", ok.Validate(), nil, ""},
		{"group", with(func(u *User) { u.Type = UserTypeGroup }).Validate(), nil, ""},
		{"ldap", with(func(u *User) { u.Auth = AuthLDAP }).Validate(), nil, ""},
		{"bad name", with(func(u *User) { u.Name = "-x" }).Validate(), ErrInvalidArgument, `user "-x#tempZone"`},
		{"no zone", with(func(u *User) { u.Zone = "" }).Validate(), ErrInvalidArgument, "zone of user"},
		{"no type", with(func(u *User) { u.Type = "" }).Validate(), ErrInvalidArgument, `unknown user type ""`},
		{"bad type", with(func(u *User) { u.Type = "root" }).Validate(), ErrInvalidArgument, `unknown user type "root"`},
		{"bad auth", with(func(u *User) { u.Auth = "kerberos" }).Validate(), ErrInvalidArgument, `unknown authentication "kerberos"`},

		{"type admin", UserTypeAdmin.Validate(), nil, ""},
		{"type groupadmin", UserTypeGroupAdmin.Validate(), nil, ""},
		{"auth native", AuthNative.Validate(), nil, ""},
		// "native" is what a user types; the catalog stores "".
		{"auth native spelled out", AuthSource("native").Validate(), ErrInvalidArgument, "unknown authentication"},
	})
}

func TestSessionValidate(t *testing.T) {
	ok := Session{TokenHash: "abc", User: alice, Expires: soon}
	with := func(f func(*Session)) Session { s := ok; f(&s); return s }
	runValidateCases(t, []validateCase{
		{"valid", ok.Validate(), nil, ""},
		{"with create time", with(func(s *Session) { s.CreateTime = soon.Add(-time.Hour) }).Validate(), nil, ""},
		{"no token", with(func(s *Session) { s.TokenHash = "" }).Validate(), ErrInvalidArgument, "empty token hash"},
		{"no expiry", with(func(s *Session) { s.Expires = time.Time{} }).Validate(), ErrInvalidArgument, "no expiry"},
		{"bad user", with(func(s *Session) { s.User = badUser }).Validate(), ErrInvalidArgument, "user"},
		{"expiry out of range", with(func(s *Session) { s.Expires = tooLate }).Validate(), ErrInvalidArgument, "expiry"},
		{"create time out of range", with(func(s *Session) { s.CreateTime = tooEarly }).Validate(), ErrInvalidArgument, "create time"},
	})
}

func TestResourceValidate(t *testing.T) {
	ok := Resource{Name: "demoResc", Type: "posix"}
	runValidateCases(t, []validateCase{
		{"valid", ok.Validate(), nil, ""},
		{"with parent", Resource{Name: "leaf", Type: "posix", Parent: "repl"}.Validate(), nil, ""},
		{"no name", Resource{Type: "posix"}.Validate(), ErrInvalidArgument, "resource name"},
		{"colon in name", Resource{Name: "a:b", Type: "posix"}.Validate(), ErrInvalidArgument, "resource name"},
		{"no type", Resource{Name: "demoResc"}.Validate(), ErrInvalidArgument, "resource demoResc has no type"},
		{"own parent", Resource{Name: "r", Type: "posix", Parent: "r"}.Validate(), ErrInvalidArgument, "resource r cannot be its own parent"},
	})
	// Validate leaves defaults to the catalog and changes nothing.
	r := Resource{Name: "demoResc", Type: "posix"}
	_ = r.Validate()
	if r.Status != "" {
		t.Errorf("Validate set Status to %q", r.Status)
	}
}

func TestJobValidate(t *testing.T) {
	ok := Job{Rule: "nightly", Owner: alice, Due: soon}
	with := func(f func(*Job)) Job { j := ok; f(&j); return j }
	runValidateCases(t, []validateCase{
		{"valid", ok.Validate(), nil, ""},
		{"periodic with key", with(func(j *Job) { j.Key, j.Every = "k", "@daily" }).Validate(), nil, ""},
		{"no rule", with(func(j *Job) { j.Rule = "" }).Validate(), ErrInvalidArgument, "no rule"},
		{"no due time", with(func(j *Job) { j.Due = time.Time{} }).Validate(), ErrInvalidArgument, "no due time"},
		{"bad owner", with(func(j *Job) { j.Owner = badZone }).Validate(), ErrInvalidArgument, "zone of owner"},
		{"due out of range", with(func(j *Job) { j.Due = tooLate }).Validate(), ErrInvalidArgument, "due time"},

		{"claim", CheckJobClaim("server-1", time.Minute), nil, ""},
		{"claim without holder", CheckJobClaim("", time.Minute), ErrInvalidArgument, "a claim needs a holder and a lease"},
		{"claim without lease", CheckJobClaim("server-1", 0), ErrInvalidArgument, "a claim needs a holder and a lease"},

		{"lease", CheckJobLease(soon), nil, ""},
		{"no lease end", CheckJobLease(time.Time{}), ErrInvalidArgument, "no lease end"},
		{"lease end out of range", CheckJobLease(tooLate), ErrInvalidArgument, "lease end"},
	})
}

func TestAVUBatchValidate(t *testing.T) {
	target := ObjectTarget(objPath)
	good := AVUBatch{Target: target, AVUs: []AVU{goodAVU}}
	runValidateCases(t, []validateCase{
		{"valid", ValidateBatch([]AVUBatch{good}), nil, ""},
		{"two items", ValidateBatch([]AVUBatch{good, {Target: CollectionTarget(collPath), AVUs: []AVU{goodAVU}}}), nil, ""},
		{"no item", ValidateBatch(nil), ErrInvalidArgument, "no target given"},
		{"no AVU", ValidateBatch([]AVUBatch{{Target: target}}), ErrInvalidArgument, "no AVU given"},
		{"bad target", ValidateBatch([]AVUBatch{{Target: ObjectTarget(Path{}), AVUs: []AVU{goodAVU}}}), ErrInvalidArgument, "target without a path"},
		{"one bad AVU", ValidateBatch([]AVUBatch{{Target: target, AVUs: []AVU{noValue}}}), ErrInvalidArgument, "empty value"},
		{"second item bad", ValidateBatch([]AVUBatch{good, {Target: target, AVUs: []AVU{noValue}}}), ErrInvalidArgument, "item 2 (data object /tempZone/home/alice/x.dat)"},

		{"batch item", good.Validate(), nil, ""},
		{"batch item bad target", AVUBatch{Target: AVUTarget{}, AVUs: []AVU{goodAVU}}.Validate(), ErrInvalidArgument, "unknown AVU target kind"},

		{"change", ValidateAVUChange(goodAVU, AVU{Attribute: "a", Value: "w"}), nil, ""},
		{"change bad old", ValidateAVUChange(noValue, goodAVU), ErrInvalidArgument, "old: "},
		{"change bad new", ValidateAVUChange(goodAVU, noValue), ErrInvalidArgument, "new: "},
	})
	// An AVU given twice in one item is ErrExists, as adding it would be.
	if err := ValidateBatch([]AVUBatch{{Target: target, AVUs: []AVU{goodAVU, goodAVU}}}); !errors.Is(err, ErrExists) {
		t.Errorf("AVU given twice: %v, want ErrExists", err)
	}
}

func TestQuotaValidate(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"user", Quota{Kind: QuotaUser, Principal: alice, MaxBytes: 1}.Validate(), nil, ""},
		{"group on resource", Quota{Kind: QuotaGroup, Principal: alice, Resource: "demoResc", MaxObjects: 1}.Validate(), nil, ""},
		{"collection", Quota{Kind: QuotaCollection, Path: collPath, MaxBytes: 1}.Validate(), nil, ""},
		{"removal", Quota{Kind: QuotaUser, Principal: alice}.Validate(), nil, ""},
		{"negative bytes", Quota{Kind: QuotaUser, Principal: alice, MaxBytes: -1}.Validate(), ErrInvalidArgument, "quota limits are 0 or more"},
		{"negative objects", Quota{Kind: QuotaUser, Principal: alice, MaxObjects: -1}.Validate(), ErrInvalidArgument, "quota limits are 0 or more"},
		{"collection on resource", Quota{Kind: QuotaCollection, Path: collPath, Resource: "demoResc"}.Validate(), ErrInvalidArgument, "a collection quota counts every resource"},
		{"unknown kind", Quota{Kind: "zone"}.Validate(), ErrInvalidArgument, `unknown quota kind "zone"`},
	})
}

func TestRegisteredObjectValidate(t *testing.T) {
	ok := RegisteredObject{Path: objPath, Owner: alice, Replicas: []RegisteredReplica{{Resource: "demoResc", PhysicalPath: "x.dat", Size: 3}}}
	with := func(f func(*RegisteredObject)) RegisteredObject { o := ok; f(&o); return o }
	runValidateCases(t, []validateCase{
		{"valid", ok.Validate(), nil, ""},
		{"no path", with(func(o *RegisteredObject) { o.Path = Path{} }).Validate(), ErrInvalidArgument, "register: no data object path"},
		{"root", with(func(o *RegisteredObject) { o.Path = rootPath }).Validate(), ErrInvalidArgument, "register: no data object path"},
		{"no replica", with(func(o *RegisteredObject) { o.Replicas = nil }).Validate(), ErrInvalidArgument, "no replica"},
		{"bad replica", with(func(o *RegisteredObject) { o.Replicas = []RegisteredReplica{{Resource: "demoResc", Size: 1}} }).Validate(), ErrInvalidArgument, "a replica needs a resource"},
		{"bad AVU", with(func(o *RegisteredObject) { o.Metadata = []AVU{noValue} }).Validate(), ErrInvalidArgument, "empty value"},
		{"bad owner", with(func(o *RegisteredObject) { o.Owner = badUser }).Validate(), ErrInvalidArgument, `register /tempZone/home/alice/x.dat: invalid argument: owner "a b#tempZone"`},
	})
}

func TestTicketValidate(t *testing.T) {
	ok := Ticket{Hash: TicketHash("abcdefghijkl"), Type: TicketRead, Path: objPath, Owner: alice}
	with := func(f func(*Ticket)) Ticket { tk := ok; f(&tk); return tk }
	runValidateCases(t, []validateCase{
		{"valid", ok.Validate(), nil, ""},
		{"write with limits", with(func(tk *Ticket) {
			tk.Type, tk.UsesLimit, tk.WriteFileLimit, tk.WriteByteLimit, tk.Expires = TicketWrite, 3, 2, 1024, soon
			tk.Users, tk.Groups, tk.Hosts = []UserID{alice}, []UserID{{Name: "lab", Zone: "tempZone"}}, []string{"10.0.0.0/8"}
		}).Validate(), nil, ""},
		{"no hash", with(func(tk *Ticket) { tk.Hash = "" }).Validate(), ErrInvalidArgument, "empty ticket hash"},
		{"no type", with(func(tk *Ticket) { tk.Type = "" }).Validate(), ErrInvalidArgument, "want read or write"},
		{"no path", with(func(tk *Ticket) { tk.Path = Path{} }).Validate(), ErrInvalidArgument, "empty path"},
		{"bad owner", with(func(tk *Ticket) { tk.Owner = badUser }).Validate(), ErrInvalidArgument, "owner"},
		{"negative uses", with(func(tk *Ticket) { tk.UsesLimit = -1 }).Validate(), ErrInvalidArgument, "ticket limits are 0 or more"},
		{"bad allowed group", with(func(tk *Ticket) { tk.Groups = []UserID{badZone} }).Validate(), ErrInvalidArgument, "allowed user or group"},
		{"empty host", with(func(tk *Ticket) { tk.Hosts = []string{""} }).Validate(), ErrInvalidArgument, "empty allowed host"},
		{"expiry out of range", with(func(tk *Ticket) { tk.Expires = tooLate }).Validate(), ErrInvalidArgument, "expiry"},

		// UpdateTicket changes neither hash, type, path nor owner.
		{"update without the rest", Ticket{ID: 3, UsesLimit: 1}.ValidateUpdate(), nil, ""},
		{"update negative bytes", Ticket{WriteByteLimit: -1}.ValidateUpdate(), ErrInvalidArgument, "ticket limits are 0 or more"},
		{"update bad user", Ticket{Users: []UserID{badUser}}.ValidateUpdate(), ErrInvalidArgument, "allowed user or group"},

		{"use", TicketUse{Uses: 1, Files: 1, Bytes: 10}.Validate(), nil, ""},
		{"no use", TicketUse{}.Validate(), nil, ""},
		{"negative use", TicketUse{Uses: -1}.Validate(), ErrInvalidArgument, "negative use"},
		{"negative bytes", TicketUse{Bytes: -1}.Validate(), ErrInvalidArgument, "negative use"},
	})
}

func TestRuleSetValidate(t *testing.T) {
	files := map[string][]byte{"a.yaml": []byte("rules: []\n"), "a.test.yaml": nil}
	many := map[string][]byte{}
	for i := range MaxRuleSetFiles + 1 {
		many[fmt.Sprintf("f%d.yaml", i)] = nil
	}
	runValidateCases(t, []validateCase{
		{"valid", RuleSet{Files: files, Author: alice}.Validate(), nil, ""},
		{"no files", RuleSet{Author: alice}.Validate(), nil, ""},
		{"matching digest", RuleSet{Files: files, Author: alice, Digest: RuleSetDigest(files)}.Validate(), nil, ""},
		{"wrong digest", RuleSet{Files: files, Author: alice, Digest: RuleSetDigest(nil)}.Validate(), ErrInvalidArgument, "does not match"},
		{"no author", RuleSet{Files: files}.Validate(), ErrInvalidArgument, "author"},
		{"path", RuleSet{Files: map[string][]byte{"d/a.yaml": nil}, Author: alice}.Validate(), ErrInvalidArgument, "plain file name"},
		{"hidden", RuleSet{Files: map[string][]byte{".a.yaml": nil}, Author: alice}.Validate(), ErrInvalidArgument, "plain file name"},
		{"empty name", RuleSet{Files: map[string][]byte{"": nil}, Author: alice}.Validate(), ErrInvalidArgument, "file name of 1 to"},
		{"too many", RuleSet{Files: many, Author: alice}.Validate(), ErrInvalidArgument, "at most 1000"},
		{"too large", RuleSet{Files: map[string][]byte{"a.yaml": make([]byte, MaxRuleSetBytes+1)}, Author: alice}.Validate(), ErrInvalidArgument, "bytes; at most"},
		{"long comment", RuleSet{Author: alice, Comment: strings.Repeat("x", MaxRuleSetCommentLen+1)}.Validate(), ErrInvalidArgument, "comment"},
		{"version 0 expected", CheckRuleSetVersion(0, 0), nil, ""},
		{"version -1 expected", CheckRuleSetVersion(-1, 0), ErrInvalidArgument, "version -1"},
		{"version 0 asked", CheckRuleSetVersion(0, 1), ErrInvalidArgument, "version 0"},
	})
	// The digest is over names and contents: moving bytes from one file's
	// end to the next one's name changes it.
	a := RuleSetDigest(map[string][]byte{"a": []byte("bc"), "d": nil})
	b := RuleSetDigest(map[string][]byte{"a": []byte("b"), "cd": nil})
	if a == b || len(a) != 64 {
		t.Errorf("digests %s and %s", a, b)
	}
}
