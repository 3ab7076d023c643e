package catalog

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TicketType is what a ticket lets its holder do: read, or read and write.
type TicketType string

const (
	TicketRead  TicketType = "read"
	TicketWrite TicketType = "write"
)

// ParseTicketType reads "read" or "write".
func ParseTicketType(s string) (TicketType, error) {
	switch t := TicketType(strings.ToLower(s)); t {
	case TicketRead, TicketWrite:
		return t, nil
	}
	return "", fmt.Errorf("%w: ticket type %q: want read or write", ErrInvalidArgument, s)
}

// Level is the access a ticket of type t grants on what it covers.
func (t TicketType) Level() AccessLevel {
	if t == TicketWrite {
		return AccessWrite
	}
	return AccessRead
}

// Ticket lets whoever presents its string read (or write) one data object or
// everything below one collection, within limits, without an account grant,
// as iRODS's tickets do. The string itself is never stored: only its Hash,
// so that reading the catalog does not hand out tickets.
type Ticket struct {
	ID   ID
	Hash string // TicketHash of the ticket string
	Type TicketType
	// Path is the data object or collection the ticket is for. The ticket
	// follows it through renames; it ends when the entry is removed.
	Path       Path
	Collection bool // Path is a collection
	Owner      UserID
	CreateTime time.Time
	// Expires is when the ticket stops working; zero is never.
	Expires time.Time
	// Limits are 0 for none. A use is one read or write of a data object;
	// WriteFile counts the objects written, WriteByte their bytes.
	UsesLimit, UsesCount           int64
	WriteFileLimit, WriteFileCount int64
	WriteByteLimit, WriteByteCount int64
	// Users, Groups and Hosts, when not empty, restrict who may use the
	// ticket: the caller must be one of Users, or belong to one of Groups,
	// and call from one of Hosts (an address, a network in CIDR form, or a
	// host name).
	Users  []UserID
	Groups []UserID
	Hosts  []string
}

// Validate checks t for CreateTicket without a catalog: its hash, type,
// path and owner, and what ValidateUpdate checks.
func (t Ticket) Validate() error {
	if t.Hash == "" {
		return invalid("empty ticket hash")
	}
	if _, err := ParseTicketType(string(t.Type)); err != nil {
		return err
	}
	if err := CheckPath(t.Path); err != nil {
		return err
	}
	if err := CheckUserID("owner", t.Owner); err != nil {
		return err
	}
	return t.ValidateUpdate()
}

// ValidateUpdate checks what UpdateTicket stores: the limits, the allowed
// users, groups and hosts, and the expiry.
func (t Ticket) ValidateUpdate() error {
	if t.UsesLimit < 0 || t.WriteFileLimit < 0 || t.WriteByteLimit < 0 {
		return invalid("ticket limits are 0 or more")
	}
	for _, u := range slices.Concat(t.Users, t.Groups) {
		if err := CheckUserID("allowed user or group", u); err != nil {
			return err
		}
	}
	for _, h := range t.Hosts {
		if h == "" {
			return invalid("empty allowed host")
		}
	}
	return CheckTime("expiry", t.Expires)
}

// Covers reports whether the ticket reaches p: its own entry, or anything
// below its collection.
func (t Ticket) Covers(p Path) bool {
	if p == t.Path {
		return true
	}
	return t.Collection && p.HasPrefix(t.Path)
}

// TicketUse is one use of a ticket that UseTicket records.
type TicketUse struct {
	Uses  int64 // uses to count (0 or 1)
	Files int64 // data objects written
	Bytes int64 // bytes written
	Now   time.Time
}

// Validate checks u for UseTicket and ReturnTicketUse: a negative use would
// give a ticket back what it never spent.
func (u TicketUse) Validate() error {
	if u.Uses < 0 || u.Files < 0 || u.Bytes < 0 {
		return invalid("negative use")
	}
	return nil
}

// Tickets stores tickets. Limits are enforced by UseTicket in one
// transaction, so that concurrent holders together never pass them.
type Tickets interface {
	// CreateTicket stores t for the data object or collection at t.Path
	// (ErrNotFound when nothing is there); Hash must be new (ErrExists).
	// Counts start at zero. It returns t with its ID, Collection and
	// CreateTime.
	CreateTicket(ctx context.Context, t Ticket) (Ticket, error)
	// Ticket returns the ticket with id.
	Ticket(ctx context.Context, id ID) (Ticket, error)
	// TicketByHash returns the ticket whose string hashes to hash.
	TicketByHash(ctx context.Context, hash string) (Ticket, error)
	// ListTickets returns the tickets owned by owner, or every ticket when
	// owner is zero, ordered by ID.
	ListTickets(ctx context.Context, owner UserID) ([]Ticket, error)
	// UpdateTicket stores the limits, expiry and allowed users, groups and
	// hosts of t; its counts, type, target, hash and owner do not change.
	UpdateTicket(ctx context.Context, t Ticket) error
	// RemoveTicket deletes the ticket with id.
	RemoveTicket(ctx context.Context, id ID) error
	// UseTicket counts use against the ticket id and returns it counted.
	// It refuses with ErrPermission, counting nothing, when the ticket
	// expired before use.Now or the use would pass one of its limits.
	UseTicket(ctx context.Context, id ID, use TicketUse) (Ticket, error)
	// ReturnTicketUse takes back a use that UseTicket counted for an
	// operation that then failed and stored nothing, so that failed uploads
	// do not spend a ticket's limits. Counts do not go below zero.
	ReturnTicketUse(ctx context.Context, id ID, use TicketUse) error
}

// TicketHash is what the catalog stores of a ticket string.
func TicketHash(ticket string) string {
	sum := sha256.Sum256([]byte("arca-ticket\x00" + ticket))
	return hex.EncodeToString(sum[:])
}

// ticketAlphabet is what generated ticket strings are made of: letters and
// digits, safe in a shell and a URL.
const ticketAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// TicketStringLen is the length of a generated ticket string: 22 characters
// of 62 are 130 bits, beyond guessing (iRODS uses 15).
const TicketStringLen = 22

// NewTicketString returns a random ticket string.
func NewTicketString() (string, error) {
	b := make([]byte, TicketStringLen)
	max := big.NewInt(int64(len(ticketAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generate ticket string: %w", err)
		}
		b[i] = ticketAlphabet[n.Int64()]
	}
	return string(b), nil
}

// MinTicketStringLen is the shortest ticket string a user may choose.
const MinTicketStringLen = 12

// CheckTicketString validates a ticket string a user chose (iticket create
// read PATH STRING): 12 to 64 letters, digits, '-', '_' or '.', not all
// digits (a number names a ticket by its id).
func CheckTicketString(s string) error {
	if len(s) < MinTicketStringLen || len(s) > 64 {
		return fmt.Errorf("%w: a ticket string has %d to 64 characters, %q has %d", ErrInvalidArgument, MinTicketStringLen, s, len(s))
	}
	digits := true
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_', r == '.':
			digits = false
		default:
			return fmt.Errorf("%w: a ticket string holds letters, digits, '-', '_' and '.', not %q", ErrInvalidArgument, r)
		}
	}
	if digits {
		return fmt.Errorf("%w: a ticket string may not be all digits (a number names a ticket by its id)", ErrInvalidArgument)
	}
	return nil
}

// TicketRef names a ticket on a command line: by its id, or by its string.
type TicketRef struct {
	ID     ID
	String string
}

// ParseTicketRef reads a ticket id (digits) or a ticket string.
func ParseTicketRef(s string) (TicketRef, error) {
	if s == "" {
		return TicketRef{}, fmt.Errorf("%w: no ticket given", ErrInvalidArgument)
	}
	if id, err := strconv.ParseInt(s, 10, 64); err == nil {
		if id <= 0 {
			return TicketRef{}, fmt.Errorf("%w: ticket id %d", ErrInvalidArgument, id)
		}
		return TicketRef{ID: ID(id)}, nil
	}
	if len(s) > 64 {
		return TicketRef{}, fmt.Errorf("%w: a ticket string has at most 64 characters", ErrInvalidArgument)
	}
	return TicketRef{String: s}, nil
}

// TicketMod is one change iticket mod makes, parsed by ParseTicketMod.
type TicketMod struct {
	// Field is uses, write-file, write-bytes or expire (set Limit or
	// Expires), or add or remove (with Kind and Name).
	Field   string
	Limit   int64
	Expires time.Time // zero removes the expiry
	Kind    string    // user, group or host
	Name    string
}

// ParseTicketMod reads the arguments of iticket mod after the ticket, as
// iRODS has them:
//
//	uses N | write-file N | write-bytes N   (0 removes the limit)
//	expire TIME                            (TIME: 2026-12-31, 2026-12-31.23:59:59,
//	                                        RFC 3339, +DURATION such as +36h or +7d,
//	                                        or 0 / none for no expiry)
//	add|remove user|group|host NAME
//
// now anchors relative times. "write-byte" is accepted for write-bytes.
func ParseTicketMod(args []string, now time.Time) (TicketMod, error) {
	bad := func(format string, a ...any) (TicketMod, error) {
		return TicketMod{}, fmt.Errorf("%w: iticket mod: "+format, append([]any{ErrInvalidArgument}, a...)...)
	}
	if len(args) == 0 {
		return bad("say what to change: uses, write-file, write-bytes, expire, add or remove")
	}
	field := strings.ToLower(args[0])
	switch field {
	case "uses", "write-file", "write-bytes", "write-byte":
		if field == "write-byte" {
			field = "write-bytes"
		}
		if len(args) != 2 {
			return bad("%s takes one number", field)
		}
		n, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || n < 0 {
			return bad("%s %q: want a whole number, 0 or more (0: no limit)", field, args[1])
		}
		return TicketMod{Field: field, Limit: n}, nil
	case "expire":
		if len(args) != 2 {
			return bad("expire takes one time")
		}
		t, err := ParseTicketExpiry(args[1], now)
		if err != nil {
			return TicketMod{}, err
		}
		return TicketMod{Field: field, Expires: t}, nil
	case "add", "remove":
		if len(args) != 3 {
			return bad("%s takes user, group or host and a name", field)
		}
		kind := strings.ToLower(args[1])
		if kind != "user" && kind != "group" && kind != "host" {
			return bad("%s %q: want user, group or host", field, args[1])
		}
		name := args[2]
		if name == "" || len(name) > 255 || strings.ContainsAny(name, " \t\r\n\x00") {
			return bad("%s %s %q: not a name", field, kind, name)
		}
		return TicketMod{Field: field, Kind: kind, Name: name}, nil
	}
	return bad("unknown change %q: want uses, write-file, write-bytes, expire, add or remove", args[0])
}

// ParseTicketExpiry reads an expiry time (see ParseTicketMod); the zero time
// means none.
func ParseTicketExpiry(s string, now time.Time) (time.Time, error) {
	switch strings.ToLower(s) {
	case "0", "none", "never":
		return time.Time{}, nil
	}
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		mult := time.Duration(1)
		if d, ok := strings.CutSuffix(rest, "d"); ok {
			rest, mult = d+"h", 24
		}
		d, err := time.ParseDuration(rest)
		if err != nil || d <= 0 || d > 100*365*24*time.Hour/mult {
			return time.Time{}, fmt.Errorf("%w: expiry %q: want +DURATION such as +36h or +7d", ErrInvalidArgument, s)
		}
		return now.Add(d * mult).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02.15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			if t.Year() < 1970 || t.Year() > 9999 {
				break
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: expiry %q: want 2026-12-31, 2026-12-31.23:59:59, RFC 3339, +36h, +7d or none", ErrInvalidArgument, s)
}
