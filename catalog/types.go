package catalog

import (
	"fmt"
	"time"
)

// ID identifies a row of a catalog backend. Backends choose how to make one
// (an SQLite rowid, a Dgraph uid); callers only compare and pass them back.
type ID int64

// Collection is a node of the logical namespace that holds data objects and
// other collections.
type Collection struct {
	ID         ID
	Path       Path
	Owner      UserID
	CreateTime time.Time
	ModifyTime time.Time
	ACL        []ACE
	// Inherit is iRODS's inheritance flag: data objects and collections
	// created in the collection copy its ACL, and new collections the flag.
	Inherit bool
	// Retention is the default retention of data objects created in the
	// collection; collections created in it copy it (see Retention).
	Retention DefaultRetention
}

// Validate checks c for CreateCollection without a catalog: its Path and
// Owner. "/" is ErrExists rather than ErrInvalidArgument: it is always there.
func (c Collection) Validate() error {
	if err := CheckPath(c.Path); err != nil {
		return err
	}
	if c.Path.IsRoot() {
		return ErrExists
	}
	return CheckUserID("owner", c.Owner)
}

// DataObject is a logical file. Its bytes live in one or more replicas.
type DataObject struct {
	ID         ID
	Path       Path
	Owner      UserID
	CreateTime time.Time
	ModifyTime time.Time
	ACL        []ACE
	Replicas   []Replica // ordered by Number
	// Lock is the object's retention and legal hold (see Retention).
	Lock Lock
}

// Good returns the good replicas of o.
func (o DataObject) Good() []Replica {
	var good []Replica
	for _, r := range o.Replicas {
		if r.Status == ReplicaGood {
			good = append(good, r)
		}
	}
	return good
}

// Newest returns the replica that describes the object: the most recently
// modified good replica, else the most recently modified replica of any status.
func (o DataObject) Newest() (Replica, bool) {
	var best Replica
	found := false
	for _, r := range o.Replicas {
		better := !found ||
			(r.Status == ReplicaGood && best.Status != ReplicaGood) ||
			(r.Status == best.Status && r.ModifyTime.After(best.ModifyTime))
		if better {
			best, found = r, true
		}
	}
	return best, found
}

// ReplicaStatus says whether the bytes of a replica can be trusted.
type ReplicaStatus int

const (
	// ReplicaIntermediate is being written; it holds a lock with a lease.
	ReplicaIntermediate ReplicaStatus = iota
	// ReplicaGood holds the current bytes of the object, verified by checksum.
	ReplicaGood
	// ReplicaStale holds older bytes; another replica was overwritten since.
	ReplicaStale
)

func (s ReplicaStatus) String() string {
	switch s {
	case ReplicaIntermediate:
		return "intermediate"
	case ReplicaGood:
		return "good"
	case ReplicaStale:
		return "stale"
	}
	return fmt.Sprintf("ReplicaStatus(%d)", int(s))
}

// Replica is one physical copy of a data object on one resource.
type Replica struct {
	ObjectID     ID
	Number       int
	Resource     string
	PhysicalPath string // relative to the resource's vault
	Size         int64
	Checksum     string // "sha2:" + base64 of the SHA-256, as iRODS writes it
	Status       ReplicaStatus
	LockHolder   string    // who is writing an intermediate replica
	LeaseExpiry  time.Time // after this an intermediate replica may be resolved
	CreateTime   time.Time
	ModifyTime   time.Time
}

// Entry is one row of a collection listing: a collection or a data object.
type Entry struct {
	Collection *Collection
	Object     *DataObject
}

// Path returns the path of whichever the entry holds.
func (e Entry) Path() Path {
	if e.Collection != nil {
		return e.Collection.Path
	}
	return e.Object.Path
}

// UserType is the role of an account, with iRODS's names.
type UserType string

const (
	UserTypeAdmin      UserType = "rodsadmin"
	UserTypeUser       UserType = "rodsuser"
	UserTypeGroupAdmin UserType = "groupadmin"
	UserTypeGroup      UserType = "rodsgroup"
)

// ParseUserType accepts the iRODS type names.
func ParseUserType(s string) (UserType, error) {
	switch t := UserType(s); t {
	case UserTypeAdmin, UserTypeUser, UserTypeGroupAdmin:
		return t, nil
	}
	return "", fmt.Errorf("%w: unknown user type %q (want rodsadmin, rodsuser or groupadmin)", ErrInvalidArgument, s)
}

// Validate checks that t is a type the catalog stores. Unlike ParseUserType,
// which reads what a user types, it takes rodsgroup: groups are accounts too.
func (t UserType) Validate() error {
	switch t {
	case UserTypeAdmin, UserTypeUser, UserTypeGroupAdmin, UserTypeGroup:
		return nil
	}
	return invalid("unknown user type %q", string(t))
}

// User is an account of a zone.
type User struct {
	ID           ID
	Name         string
	Zone         string
	Type         UserType
	PasswordHash string // a PHC string (argon2id); empty means no native password
	// Auth is what checks the user's password: the native hash or LDAP.
	Auth       AuthSource
	Info       string
	CreateTime time.Time
	ModifyTime time.Time
}

// AuthSource says what checks a user's password at login.
type AuthSource string

const (
	// AuthNative checks the argon2id hash in User.PasswordHash.
	AuthNative AuthSource = ""
	// AuthLDAP binds to the zone's LDAP directory as the user; Arca stores
	// no password of such a user.
	AuthLDAP AuthSource = "ldap"
)

// ParseAuthSource accepts "native" (or "") and "ldap".
func ParseAuthSource(s string) (AuthSource, error) {
	switch s {
	case "", "native":
		return AuthNative, nil
	case string(AuthLDAP):
		return AuthLDAP, nil
	}
	return "", fmt.Errorf("%w: unknown authentication %q (want native or ldap)", ErrInvalidArgument, s)
}

// Validate checks that a is a source the catalog knows.
func (a AuthSource) Validate() error {
	switch a {
	case AuthNative, AuthLDAP:
		return nil
	}
	return invalid("unknown authentication %q", string(a))
}

// String is "native" or "ldap".
func (a AuthSource) String() string {
	if a == AuthNative {
		return "native"
	}
	return string(a)
}

// UserID returns the identity of u.
func (u User) UserID() UserID { return UserID{Name: u.Name, Zone: u.Zone} }

// Validate checks u for CreateUser (a group too) without a catalog.
// UpdateUser checks only u.Type and u.Auth: it finds the account by name,
// and a name that cannot exist is simply not found.
func (u User) Validate() error {
	if err := CheckUserID("user", u.UserID()); err != nil {
		return err
	}
	if err := u.Type.Validate(); err != nil {
		return err
	}
	return u.Auth.Validate()
}

// Resource is a storage resource registered in the catalog.
type Resource struct {
	ID       ID
	Name     string
	Type     string // posix, s3, tape, replication, ...
	Location string // host or vault path, as the type needs
	Context  string // "key=value;key=value" settings of the type
	Status   string // up | down
	Comment  string
	Parent   string // coordinating resource this one is a child of
	// QoS holds the resource's storage attributes in the canonical form of
	// FormatQoSAttributes ("geo=DE,tier=cold,type=tape"), "" for none.
	QoS        string
	CreateTime time.Time
	ModifyTime time.Time
}

// Validate checks r for CreateResource and UpdateResource without a
// catalog; that its parent exists and makes no cycle is the catalog's to
// check. A resource name follows the rules of user names, so that it can
// be a key with a separator no name holds.
func (r Resource) Validate() error {
	if err := ValidateUserName(r.Name); err != nil {
		return fmt.Errorf("%w: resource name: %w", ErrInvalidArgument, err)
	}
	if r.Type == "" {
		return invalid("resource %s has no type", r.Name)
	}
	if r.Parent == r.Name {
		return invalid("resource %s cannot be its own parent", r.Name)
	}
	return validateQoS(r.Name, r.QoS)
}

// AccessLevel orders permissions as iRODS does: null < read < write < own.
type AccessLevel int

const (
	AccessNull AccessLevel = iota
	AccessRead
	AccessWrite
	AccessOwn
)

func (a AccessLevel) String() string {
	switch a {
	case AccessNull:
		return "null"
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	case AccessOwn:
		return "own"
	}
	return fmt.Sprintf("AccessLevel(%d)", int(a))
}

// ParseAccessLevel accepts iRODS's names and their aliases.
func ParseAccessLevel(s string) (AccessLevel, error) {
	switch s {
	case "null":
		return AccessNull, nil
	case "read", "read_object", "read object":
		return AccessRead, nil
	case "write", "modify_object", "modify object":
		return AccessWrite, nil
	case "own":
		return AccessOwn, nil
	}
	return 0, fmt.Errorf("%w: unknown access level %q (want null, read, write or own)", ErrInvalidArgument, s)
}

// ACE grants a user or group an access level on a collection or data object.
type ACE struct {
	Principal UserID
	Level     AccessLevel
}

// Validate checks a grant of SetAccess; AccessNull is valid there, as the
// grant that removes one.
func (a ACE) Validate() error {
	if err := CheckUserID("principal", a.Principal); err != nil {
		return err
	}
	if a.Level < AccessNull || a.Level > AccessOwn {
		return invalid("access level %d", int(a.Level))
	}
	return nil
}

// Session is a login: a token, stored only as its hash, that expires.
type Session struct {
	TokenHash  string
	User       UserID
	CreateTime time.Time
	Expires    time.Time
}

// Validate checks s for CreateSession without a catalog. A zero CreateTime
// is allowed: the catalog then takes its own clock.
func (s Session) Validate() error {
	switch {
	case s.TokenHash == "":
		return invalid("empty token hash")
	case s.Expires.IsZero():
		return invalid("no expiry")
	}
	if err := CheckUserID("user", s.User); err != nil {
		return err
	}
	if err := CheckTime("expiry", s.Expires); err != nil {
		return err
	}
	return CheckTime("create time", s.CreateTime)
}

// CommittedNumber is the number that CommitReplica gives a replica numbered
// number that superseded the replicas superseded: the lowest of them all.
func CommittedNumber(number int, superseded []Replica) int {
	for _, r := range superseded {
		number = min(number, r.Number)
	}
	return number
}
