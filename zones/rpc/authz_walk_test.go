package rpc

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"google.golang.org/grpc/metadata"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/sqlite"
	"github.com/arca-data/arca/internal/passwordhash"
	"github.com/arca-data/arca/internal/tlsca"
	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/policies/qos"
	"github.com/arca-data/arca/resources/drivers"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
)

// This file walks every gRPC method of every Arca service as every kind of
// caller and checks the permission decision against iRODS semantics: read
// lets you stat, get, list, checksum and list metadata; write lets you
// overwrite, put into a collection and change metadata; own lets you rename
// and remove; user administration and the AVUs of users and resources are
// for rodsadmin; a rodsadmin sees the whole namespace (stat, list, AVUs)
// but reads and changes other users' data only in admin mode (-M), where
// it may do everything; only Auth.Login takes anonymous callers.

// walkCaller is one kind of caller. Plain users get obj on the fixture's
// data objects and coll on its collections.
type walkCaller struct {
	label string
	user  string // "" is anonymous
	obj   catalog.AccessLevel
	coll  catalog.AccessLevel
	grant bool // obj and coll are granted per fixture (else they follow from ownership)
	admin bool
	// adminMode sends -M (arcapb.AdminModeMetadata) with every call.
	adminMode bool
	// group, if set, is a group the user belongs to: the fixture's grants
	// go to it instead of the user, so the caller has access only through it.
	group string
	// groupAdmin makes the user a groupadmin that belongs to the group of
	// every fixture (and so may manage its members).
	groupAdmin bool
	typ        catalog.UserType // rodsuser unless set
	// ticket, if set, is the type of a ticket that alice makes for the
	// fixture's collection and the caller presents on every call.
	ticket catalog.TicketType
}

var walkCallers = []walkCaller{
	{label: "anonymous"},
	{label: "null", user: "unull", grant: true, obj: catalog.AccessNull, coll: catalog.AccessNull},
	{label: "read", user: "uread", grant: true, obj: catalog.AccessRead, coll: catalog.AccessRead},
	{label: "write", user: "uwrite", grant: true, obj: catalog.AccessWrite, coll: catalog.AccessWrite},
	{label: "own", user: "uown", grant: true, obj: catalog.AccessOwn, coll: catalog.AccessOwn},
	{label: "obj-own/coll-read", user: "umixa", grant: true, obj: catalog.AccessOwn, coll: catalog.AccessRead},
	{label: "obj-read/coll-write", user: "umixb", grant: true, obj: catalog.AccessRead, coll: catalog.AccessWrite},
	{label: "obj-null/coll-read", user: "umixc", grant: true, obj: catalog.AccessNull, coll: catalog.AccessRead},
	{label: "obj-null/coll-own", user: "umixd", grant: true, obj: catalog.AccessNull, coll: catalog.AccessOwn},
	{label: "owner", user: "alice", obj: catalog.AccessOwn, coll: catalog.AccessOwn},
	{label: "other", user: "bob", obj: catalog.AccessNull, coll: catalog.AccessNull},
	{label: "rods", user: zones.DefaultAdmin, admin: true},
	{label: "rods -M", user: zones.DefaultAdmin, admin: true, adminMode: true},
	// The same levels, held only through a group.
	{label: "grp-null", user: "ugnull", group: "gnull", grant: true, obj: catalog.AccessNull, coll: catalog.AccessNull},
	{label: "grp-read", user: "ugread", group: "gread", grant: true, obj: catalog.AccessRead, coll: catalog.AccessRead},
	{label: "grp-write", user: "ugwrite", group: "gwrite", grant: true, obj: catalog.AccessWrite, coll: catalog.AccessWrite},
	{label: "grp-own", user: "ugown", group: "gown", grant: true, obj: catalog.AccessOwn, coll: catalog.AccessOwn},
	{label: "grp-obj-own/coll-read", user: "ugmixa", group: "gmixa", grant: true, obj: catalog.AccessOwn, coll: catalog.AccessRead},
	{label: "grp-obj-null/coll-own", user: "ugmixd", group: "gmixd", grant: true, obj: catalog.AccessNull, coll: catalog.AccessOwn},
	// groupadmins: one belongs to the fixture's group, one does not.
	{label: "groupadmin", user: "ugadmin", typ: catalog.UserTypeGroupAdmin, groupAdmin: true},
	{label: "groupadmin-outsider", user: "ugadmout", typ: catalog.UserTypeGroupAdmin},
	// Ticket holders: anonymous, and users without grants of their own.
	{label: "anon+ticket-read", ticket: catalog.TicketRead},
	{label: "anon+ticket-write", ticket: catalog.TicketWrite},
	{label: "user+ticket-read", user: "utread", ticket: catalog.TicketRead},
	{label: "user+ticket-write", user: "utwrite", ticket: catalog.TicketWrite},
}

// ticketMethods are what a ticket may allow, up to its level: reading
// (stat, list, get) and, for a write ticket, writing (put).
var ticketMethods = map[string]bool{
	arcapb.Namespace_Stat_FullMethodName:   true,
	arcapb.Namespace_List_FullMethodName:   true,
	arcapb.Transfer_Get_FullMethodName:     true,
	arcapb.Transfer_Put_FullMethodName:     true,
	arcapb.Transfer_PutMany_FullMethodName: true,
}

// rule decides for a plain (non-admin, authenticated) caller from its
// levels on the fixture's data objects and collections.
type rule func(obj, coll catalog.AccessLevel) bool

func anyone(_, _ catalog.AccessLevel) bool    { return true }
func adminOnly(_, _ catalog.AccessLevel) bool { return false }
func objAtLeast(l catalog.AccessLevel) rule {
	return func(o, _ catalog.AccessLevel) bool { return o >= l }
}
func collAtLeast(l catalog.AccessLevel) rule {
	return func(_, c catalog.AccessLevel) bool { return c >= l }
}
func both(ol, cl catalog.AccessLevel) rule {
	return func(o, c catalog.AccessLevel) bool { return o >= ol && c >= cl }
}

// walkFixture is what one (case, caller) acts on, all of it fresh and owned
// by alice: coll holds the data objects obj and obj2 and the collection sub.
// Every target (obj, coll, demoResc, user alice) carries the AVU attr=v.
type walkFixture struct {
	coll, obj, obj2, sub string
	attr                 string
	victim               string // a fresh user for ModifyUser and RemoveUser
	ticket               string // alice's read ticket for coll, by id
	secret               string // the string of the caller's ticket, if it has one
	group                string // a fresh group holding bob (and a groupadmin caller)
	remoteZone           string // a registered zone (walkCase.remoteZone)
	seq                  int
}

// walkClient calls the zone as one caller over a shared TLS connection.
type walkClient struct {
	caller walkCaller
	token  string
	conn   *grpc.ClientConn
	env    *walkEnv
}

func (c *walkClient) opts() []grpc.CallOption {
	if c.token == "" {
		return nil
	}
	return []grpc.CallOption{grpc.PerRPCCredentials(walkBearer(c.token))}
}

func (c *walkClient) ns() arcapb.NamespaceClient      { return arcapb.NewNamespaceClient(c.conn) }
func (c *walkClient) xfer() arcapb.TransferClient     { return arcapb.NewTransferClient(c.conn) }
func (c *walkClient) auth() arcapb.AuthClient         { return arcapb.NewAuthClient(c.conn) }
func (c *walkClient) admin() arcapb.AdminClient       { return arcapb.NewAdminClient(c.conn) }
func (c *walkClient) meta() arcapb.MetadataClient     { return arcapb.NewMetadataClient(c.conn) }
func (c *walkClient) query() arcapb.QueryClient       { return arcapb.NewQueryClient(c.conn) }
func (c *walkClient) access() arcapb.AccessClient     { return arcapb.NewAccessClient(c.conn) }
func (c *walkClient) tickets() arcapb.TicketsClient   { return arcapb.NewTicketsClient(c.conn) }
func (c *walkClient) quotas() arcapb.QuotasClient     { return arcapb.NewQuotasClient(c.conn) }
func (c *walkClient) rescs() arcapb.ResourcesClient   { return arcapb.NewResourcesClient(c.conn) }
func (c *walkClient) repls() arcapb.ReplicasClient    { return arcapb.NewReplicasClient(c.conn) }
func (c *walkClient) rules() arcapb.RulesClient       { return arcapb.NewRulesClient(c.conn) }
func (c *walkClient) register() arcapb.RegistryClient { return arcapb.NewRegistryClient(c.conn) }
func walkPassword(user string) string                 { return "pw-" + user }
func (walkBearer) RequireTransportSecurity() bool     { return true }
func metaTarget(k arcapb.MetadataTargetKind, name string) *arcapb.MetadataTarget {
	return &arcapb.MetadataTarget{Kind: k, Name: name}
}

func (c *walkClient) retention() arcapb.RetentionClient { return arcapb.NewRetentionClient(c.conn) }
func (c *walkClient) zones() arcapb.ZonesClient         { return arcapb.NewZonesClient(c.conn) }
func (c *walkClient) qos() arcapb.QoSClient             { return arcapb.NewQoSClient(c.conn) }
func (c *walkClient) dmps() arcapb.DMPsClient           { return arcapb.NewDMPsClient(c.conn) }

type walkBearer string

func (b walkBearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// drain reads a server stream to its end.
func drain[T any](s interface{ Recv() (T, error) }, err error) error {
	if err != nil {
		return err
	}
	for {
		if _, err := s.Recv(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func walkPut(ctx context.Context, c *walkClient, path string, overwrite bool) error {
	s, err := c.xfer().Put(ctx, c.opts()...)
	if err != nil {
		return err
	}
	data := []byte("new bytes\n")
	if err := s.Send(&arcapb.PutRequest{Part: &arcapb.PutRequest_Header{Header: &arcapb.PutHeader{
		Path: path, Size: int64(len(data)), Overwrite: overwrite, Data: data}}}); err != nil && err != io.EOF {
		return err
	}
	_, err = s.CloseAndRecv()
	return err
}

// walkPutMany puts one file over a PutMany stream; the file's own answer
// carries the refusal.
func walkPutMany(ctx context.Context, c *walkClient, path string, overwrite bool) error {
	s, err := c.xfer().PutMany(ctx, c.opts()...)
	if err != nil {
		return err
	}
	data := []byte("new bytes\n")
	if err := s.Send(&arcapb.PutManyRequest{Id: 7, File: &arcapb.PutHeader{
		Path: path, Size: int64(len(data)), Overwrite: overwrite, Data: data}}); err != nil && err != io.EOF {
		return err
	}
	s.CloseSend()
	resp, err := s.Recv()
	if err != nil {
		return err
	}
	if _, err := s.Recv(); err != io.EOF {
		return fmt.Errorf("PutMany of one file: a second answer or no end: %v", err)
	}
	if resp.Id != 7 {
		return fmt.Errorf("PutMany answered for file %d, not 7", resp.Id)
	}
	return status.ErrorProto(resp.Status)
}

// walkCase is one call of one method. allow decides for plain users;
// anonymous callers are refused (but for Login); rods in admin mode (-M) is
// allowed, and without it is allowed the administrators' operations (allow
// is adminOnly) and what shows the namespace (adminReads), but on alice's
// data only what a user without grants is.
type walkCase struct {
	method  string // full gRPC method name
	variant string
	allow   rule
	// adminReads: it shows the namespace, which a rodsadmin sees whole
	// without -M, as iRODS's GenQuery shows a rodsadmin everything.
	adminReads bool
	// needsM: an administrators' operation (allow is adminOnly) that acts
	// on a user's data (alice's tickets): rods needs -M for it.
	needsM bool
	// groupAdmin also allows groupadmins that belong to the fixture's group.
	groupAdmin bool
	anon       bool // anonymous callers may call it (Auth.Login only)
	ownerOnly  bool // only the ticket's owner, alice (and rods), may call it
	obj2       bool // the fixture needs obj2
	remoteZone bool // the fixture registers a federated zone
	victim     bool // the fixture needs a victim user
	// tolerate are codes an allowed call may end with besides OK, for
	// reasons that are not permissions.
	tolerate []codes.Code
	call     func(ctx context.Context, c *walkClient, f *walkFixture) error
}

const (
	kObj  = arcapb.MetadataTargetKind_METADATA_TARGET_KIND_DATA_OBJECT
	kColl = arcapb.MetadataTargetKind_METADATA_TARGET_KIND_COLLECTION
	kResc = arcapb.MetadataTargetKind_METADATA_TARGET_KIND_RESOURCE
	kUser = arcapb.MetadataTargetKind_METADATA_TARGET_KIND_USER
)

// apiFiles are every file of the arca.v1 package that the generated code
// registers: a service in a new file is walked too.
func apiFiles() []protoreflect.FileDescriptor {
	_ = arcapb.File_arca_v1_arca_proto // the generated package registers its files
	var out []protoreflect.FileDescriptor
	protoregistry.GlobalFiles.RangeFilesByPackage("arca.v1", func(fd protoreflect.FileDescriptor) bool {
		out = append(out, fd)
		return true
	})
	return out
}

func walkCases() []walkCase {
	cases := []walkCase{
		// Auth
		{method: arcapb.Auth_Login_FullMethodName, allow: anyone, anon: true,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				user := c.caller.user
				if user == "" {
					user = "bob"
				}
				_, err := c.auth().Login(ctx, &arcapb.LoginRequest{User: user, Password: walkPassword(user)}, c.opts()...)
				return err
			}},
		{method: arcapb.Auth_Logout_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				// A session of its own, so that the caller's stays valid.
				fresh := *c
				if c.caller.user != "" {
					fresh.token = c.env.login(ctx, c.caller.user)
				}
				_, err := fresh.auth().Logout(ctx, &arcapb.LogoutRequest{}, fresh.opts()...)
				return err
			}},
		{method: arcapb.Auth_WhoAmI_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.auth().WhoAmI(ctx, &arcapb.WhoAmIRequest{}, c.opts()...)
				return err
			}},

		// Namespace
		{method: arcapb.Namespace_Stat_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessRead), adminReads: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Stat(ctx, &arcapb.StatRequest{Path: f.obj}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_Stat_FullMethodName, variant: "collection", allow: collAtLeast(catalog.AccessRead), adminReads: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Stat(ctx, &arcapb.StatRequest{Path: f.coll}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_List_FullMethodName, variant: "collection", allow: collAtLeast(catalog.AccessRead), adminReads: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.ns().List(ctx, &arcapb.ListRequest{Path: f.coll, Recursive: true, Acl: true}, c.opts()...))
			}},
		{method: arcapb.Namespace_List_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessRead), adminReads: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.ns().List(ctx, &arcapb.ListRequest{Path: f.obj}, c.opts()...))
			}},
		{method: arcapb.Namespace_MakeCollection_FullMethodName, allow: collAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().MakeCollection(ctx, &arcapb.MakeCollectionRequest{Path: f.coll + "/made"}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_MakeCollection_FullMethodName, variant: "parents", allow: collAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().MakeCollection(ctx, &arcapb.MakeCollectionRequest{Path: f.coll + "/made/deeper", Parents: true}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_Rename_FullMethodName, variant: "object", allow: both(catalog.AccessOwn, catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Rename(ctx, &arcapb.RenameRequest{From: f.obj, To: f.coll + "/renamed"}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_Rename_FullMethodName, variant: "collection", allow: collAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Rename(ctx, &arcapb.RenameRequest{From: f.sub, To: f.coll + "/sub-renamed"}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_Remove_FullMethodName, variant: "object to trash", allow: objAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Remove(ctx, &arcapb.RemoveRequest{Path: f.obj}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_Remove_FullMethodName, variant: "object force", allow: objAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Remove(ctx, &arcapb.RemoveRequest{Path: f.obj, Force: true}, c.opts()...)
				return err
			}},
		// iRODS checks delete permission (own) on every data object a
		// recursive removal takes (rsMvCollToTrash, _rsRmCollRecur); sub
		// holds a data object with the caller's object level.
		{method: arcapb.Namespace_Remove_FullMethodName, variant: "collection recursive", allow: both(catalog.AccessOwn, catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Remove(ctx, &arcapb.RemoveRequest{Path: f.sub, Recursive: true}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_Remove_FullMethodName, variant: "collection recursive force", allow: both(catalog.AccessOwn, catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Remove(ctx, &arcapb.RemoveRequest{Path: f.sub, Recursive: true, Force: true}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_RemoveTrash_FullMethodName, variant: "own trash", allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.ns().RemoveTrash(ctx, &arcapb.RemoveTrashRequest{}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_RemoveTrash_FullMethodName, variant: "trash of rods", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.ns().RemoveTrash(ctx, &arcapb.RemoveTrashRequest{User: zones.DefaultAdmin}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_RemoveTrash_FullMethodName, variant: "all", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.ns().RemoveTrash(ctx, &arcapb.RemoveTrashRequest{All: true}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_Copy_FullMethodName, variant: "new object", allow: both(catalog.AccessRead, catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Copy(ctx, &arcapb.CopyRequest{From: f.obj, To: f.coll + "/copied"}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_Copy_FullMethodName, variant: "overwrite", obj2: true, allow: objAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Copy(ctx, &arcapb.CopyRequest{From: f.obj, To: f.obj2, Overwrite: true}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_Checksum_FullMethodName, allow: objAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Checksum(ctx, &arcapb.ChecksumRequest{Path: f.obj}, c.opts()...)
				return err
			}},
		{method: arcapb.Namespace_Checksum_FullMethodName, variant: "verify", allow: objAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.ns().Checksum(ctx, &arcapb.ChecksumRequest{Path: f.obj, Verify: true}, c.opts()...)
				return err
			}},

		// Transfer
		{method: arcapb.Transfer_Put_FullMethodName, variant: "new object", allow: collAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return walkPut(ctx, c, f.coll+"/put", false)
			}},
		{method: arcapb.Transfer_Put_FullMethodName, variant: "overwrite", allow: objAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return walkPut(ctx, c, f.obj, true)
			}},
		{method: arcapb.Transfer_PutMany_FullMethodName, variant: "new object", allow: collAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return walkPutMany(ctx, c, f.coll+"/putmany", false)
			}},
		{method: arcapb.Transfer_PutMany_FullMethodName, variant: "overwrite", allow: objAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return walkPutMany(ctx, c, f.obj, true)
			}},
		{method: arcapb.Transfer_Get_FullMethodName, allow: objAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.xfer().Get(ctx, &arcapb.GetRequest{Path: f.obj}, c.opts()...))
			}},

		// Admin
		{method: arcapb.Admin_MakeUser_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.admin().MakeUser(ctx, &arcapb.MakeUserRequest{Name: fmt.Sprintf("made%d", f.seq), Type: "rodsuser", Password: "x"}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_ModifyUser_FullMethodName, variant: "info", victim: true, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.admin().ModifyUser(ctx, &arcapb.ModifyUserRequest{Name: f.victim, Field: "info", Value: "changed"}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_ModifyUser_FullMethodName, variant: "type", victim: true, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.admin().ModifyUser(ctx, &arcapb.ModifyUserRequest{Name: f.victim, Field: "type", Value: "rodsadmin"}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_ModifyUser_FullMethodName, variant: "own password", victim: true, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				user := c.caller.user
				if user == "" {
					user = "bob"
				}
				if c.caller.admin {
					// rods changing its own password would end the
					// sessions of this walk: it changes a victim's.
					user = f.victim
				}
				_, err := c.admin().ModifyUser(ctx, &arcapb.ModifyUserRequest{Name: user, Field: "password", Value: walkPassword(user)}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_RemoveUser_FullMethodName, victim: true, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.admin().RemoveUser(ctx, &arcapb.RemoveUserRequest{Name: f.victim}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_ListUsers_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.admin().ListUsers(ctx, &arcapb.ListUsersRequest{}, c.opts()...)
				return err
			}},

		// Groups
		{method: arcapb.Admin_MakeGroup_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.admin().MakeGroup(ctx, &arcapb.MakeGroupRequest{Name: fmt.Sprintf("madegroup%d", f.seq)}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_RemoveGroup_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.admin().RemoveGroup(ctx, &arcapb.RemoveGroupRequest{Name: f.group}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_AddGroupMember_FullMethodName, allow: adminOnly, groupAdmin: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.admin().AddGroupMember(ctx, &arcapb.GroupMemberRequest{Group: f.group, User: "alice"}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_RemoveGroupMember_FullMethodName, allow: adminOnly, groupAdmin: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.admin().RemoveGroupMember(ctx, &arcapb.GroupMemberRequest{Group: f.group, User: "bob"}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_ListGroups_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.admin().ListGroups(ctx, &arcapb.ListGroupsRequest{}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_ListGroups_FullMethodName, variant: "members", allow: anyone,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.admin().ListGroups(ctx, &arcapb.ListGroupsRequest{Group: f.group}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_UserInfo_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.admin().UserInfo(ctx, &arcapb.UserInfoRequest{}, c.opts()...)
				return err
			}},
		{method: arcapb.Admin_UserInfo_FullMethodName, variant: "other", allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.admin().UserInfo(ctx, &arcapb.UserInfoRequest{Name: "alice"}, c.opts()...)
				return err
			}},

		{method: arcapb.Admin_ChangePassword_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				user := c.caller.user
				if user == "" {
					user = "bob"
				}
				// To the same password: it ends every session of the
				// caller, whose walk goes on with a new one.
				_, err := c.admin().ChangePassword(ctx, &arcapb.ChangePasswordRequest{
					CurrentPassword: walkPassword(user), NewPassword: walkPassword(user)}, c.opts()...)
				if err == nil {
					// Every client of the user (rods and rods -M) needs one.
					for _, o := range c.env.clients {
						if o.caller.user == user {
							o.token = c.env.login(ctx, user)
						}
					}
				}
				return err
			}},

		// Access
		{method: arcapb.Access_SetAccess_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.access().SetAccess(ctx, &arcapb.SetAccessRequest{Path: f.obj, Principal: "bob", Level: "read"}, c.opts()...)
				return err
			}},
		{method: arcapb.Access_SetAccess_FullMethodName, variant: "collection", allow: collAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.access().SetAccess(ctx, &arcapb.SetAccessRequest{Path: f.coll, Principal: f.group, Level: "write"}, c.opts()...)
				return err
			}},
		{method: arcapb.Access_SetAccess_FullMethodName, variant: "recursive", allow: collAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.access().SetAccess(ctx, &arcapb.SetAccessRequest{Path: f.coll, Principal: "bob", Level: "null", Recursive: true}, c.opts()...)
				return err
			}},
		{method: arcapb.Access_SetAccess_FullMethodName, variant: "admin mode", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.access().SetAccess(ctx, &arcapb.SetAccessRequest{Path: f.obj, Principal: "bob", Level: "own", AdminMode: true}, c.opts()...)
				return err
			}},
		{method: arcapb.Access_SetInheritance_FullMethodName, allow: collAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.access().SetInheritance(ctx, &arcapb.SetInheritanceRequest{Path: f.coll, Inherit: true, Recursive: true}, c.opts()...)
				return err
			}},
		{method: arcapb.Access_SetInheritance_FullMethodName, variant: "admin mode", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.access().SetInheritance(ctx, &arcapb.SetInheritanceRequest{Path: f.coll, Inherit: true, AdminMode: true}, c.opts()...)
				return err
			}},

		// Tickets
		{method: arcapb.Tickets_CreateTicket_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.tickets().CreateTicket(ctx, &arcapb.CreateTicketRequest{Path: f.obj, Type: "read"}, c.opts()...)
				return err
			}},
		{method: arcapb.Tickets_CreateTicket_FullMethodName, variant: "collection", allow: collAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.tickets().CreateTicket(ctx, &arcapb.CreateTicketRequest{Path: f.coll, Type: "write"}, c.opts()...)
				return err
			}},
		{method: arcapb.Tickets_ModifyTicket_FullMethodName, ownerOnly: true, allow: adminOnly, needsM: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.tickets().ModifyTicket(ctx, &arcapb.ModifyTicketRequest{Ticket: f.ticket, Args: []string{"uses", "5"}}, c.opts()...)
				return err
			}},
		{method: arcapb.Tickets_ListTickets_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.tickets().ListTickets(ctx, &arcapb.ListTicketsRequest{}, c.opts()...)
				return err
			}},
		{method: arcapb.Tickets_ListTickets_FullMethodName, variant: "one", ownerOnly: true, allow: adminOnly, needsM: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.tickets().ListTickets(ctx, &arcapb.ListTicketsRequest{Ticket: f.ticket}, c.opts()...)
				return err
			}},
		{method: arcapb.Tickets_ListTickets_FullMethodName, variant: "all", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.tickets().ListTickets(ctx, &arcapb.ListTicketsRequest{All: true}, c.opts()...)
				return err
			}},
		{method: arcapb.Tickets_RemoveTicket_FullMethodName, ownerOnly: true, allow: adminOnly, needsM: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.tickets().RemoveTicket(ctx, &arcapb.RemoveTicketRequest{Ticket: f.ticket}, c.opts()...)
				return err
			}},

		// Quotas
		{method: arcapb.Quotas_SetQuota_FullMethodName, variant: "user", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.quotas().SetQuota(ctx, &arcapb.SetQuotaRequest{Quota: &arcapb.QuotaInfo{Kind: "user", Principal: "bob", MaxBytes: 1 << 30}}, c.opts()...)
				return err
			}},
		{method: arcapb.Quotas_SetQuota_FullMethodName, variant: "collection", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.quotas().SetQuota(ctx, &arcapb.SetQuotaRequest{Quota: &arcapb.QuotaInfo{Kind: "collection", Path: f.coll, MaxObjects: 1000}}, c.opts()...)
				return err
			}},
		{method: arcapb.Quotas_ListQuotas_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.quotas().ListQuotas(ctx, &arcapb.ListQuotasRequest{}, c.opts()...)
				return err
			}},
		{method: arcapb.Quotas_ListQuotas_FullMethodName, variant: "all", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.quotas().ListQuotas(ctx, &arcapb.ListQuotasRequest{All: true}, c.opts()...)
				return err
			}},

		// Registry
		{method: arcapb.Registry_RegisterObjects_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				s, err := c.register().RegisterObjects(ctx, c.opts()...)
				if err != nil {
					return err
				}
				err = s.Send(&arcapb.RegisterRequest{Objects: []*arcapb.RegisterObject{{Path: f.coll + "/registered",
					Replicas: []*arcapb.RegisterReplica{{Resource: zones.DefaultResource, PhysicalPath: fmt.Sprintf("registered/%d", f.seq), Size: 3}}}}})
				if err != nil && err != io.EOF {
					return err
				}
				_, err = s.CloseAndRecv()
				return err
			}},

		// Query
		// Rules: policy is readable by everyone; jobs are their owner's
		// (alice's here) or an administrator's, and others are told the
		// job is not found rather than refused.
		{method: arcapb.Rules_ListRules_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.rules().ListRules(ctx, &arcapb.ListRulesRequest{}, c.opts()...)
				return err
			}},
		{method: arcapb.Rules_CheckRules_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.rules().CheckRules(ctx, &arcapb.CheckRulesRequest{Files: []*arcapb.RuleFile{{Name: "r.yaml", Content: []byte("rules: []")}}}, c.opts()...)
				return err
			}},
		// A dry run is asked as the operation would be: what rules say of
		// it shows what they read.
		{method: arcapb.Rules_DryRun_FullMethodName, variant: "put", allow: collAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.rules().DryRun(ctx, &arcapb.DryRunRequest{Op: "put", Path: f.coll + "/dry.new"}, c.opts()...)
				return err
			}},
		{method: arcapb.Rules_DryRun_FullMethodName, variant: "get", allow: objAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.rules().DryRun(ctx, &arcapb.DryRunRequest{Op: "get", Path: f.obj}, c.opts()...)
				return err
			}},
		{method: arcapb.Rules_ListAudit_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.rules().ListAudit(ctx, &arcapb.ListAuditRequest{Outcome: "deny"}, c.opts()...)
				return err
			}},
		// The zone's rule set changes only by an administrator; its
		// history is public.
		{method: arcapb.Rules_LoadRules_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.rules().LoadRules(ctx, &arcapb.LoadRulesRequest{Files: map[string][]byte{"walk.yaml": fmt.Appendf(nil, "# %d\nrules: []\n", f.seq)}}, c.opts()...)
				return err
			}},
		{method: arcapb.Rules_RollbackRules_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				if v, _, err := c.env.cat.RuleSetVersion(ctx); err != nil {
					return err
				} else if v == 0 {
					if _, err := c.env.cat.StoreRuleSet(ctx, catalog.RuleSet{Files: map[string][]byte{"walk.yaml": []byte("rules: []\n")},
						Author: catalog.UserID{Name: zones.DefaultAdmin, Zone: c.env.zone.Name()}}, 0); err != nil {
						return err
					}
				}
				_, err := c.rules().RollbackRules(ctx, &arcapb.RollbackRulesRequest{Version: 1}, c.opts()...)
				return err
			}},
		{method: arcapb.Rules_RuleHistory_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.rules().RuleHistory(ctx, &arcapb.RuleHistoryRequest{Limit: 5}, c.opts()...)
				return err
			}},
		{method: arcapb.Rules_ListJobs_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.rules().ListJobs(ctx, &arcapb.ListJobsRequest{}, c.opts()...)
				return err
			}},
		{method: arcapb.Rules_RemoveJob_FullMethodName, allow: anyone, tolerate: []codes.Code{codes.NotFound},
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				j, err := c.env.cat.AddJob(ctx, catalog.Job{Rule: "walk", Owner: catalog.UserID{Name: "alice", Zone: c.env.zone.Name()},
					Due: time.Now().Add(time.Hour), Work: []byte(`{"actions":[]}`)})
				if err != nil {
					return err
				}
				_, err = c.rules().RemoveJob(ctx, &arcapb.RemoveJobRequest{Id: int64(j.ID)}, c.opts()...)
				_, gone := c.env.cat.Job(ctx, j.ID)
				mayRemove := c.caller.admin || c.caller.user == "alice"
				switch {
				case mayRemove && err == nil && gone == nil:
					return fmt.Errorf("job %d is still there after its removal", j.ID)
				case !mayRemove && gone != nil:
					return status.Errorf(codes.Internal, "%s removed alice's job", c.caller.label)
				case !mayRemove && c.caller.user != "" && status.Code(err) != codes.NotFound:
					return status.Errorf(codes.Internal, "%s removing alice's job: %v, want NotFound", c.caller.label, err)
				}
				return err
			}},

		{method: arcapb.Query_Run_FullMethodName, allow: anyone,
			// The SQLite catalog does not implement catalog.Querier yet.
			tolerate: []codes.Code{codes.InvalidArgument},
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.query().Run(ctx, &arcapb.QueryRequest{Query: "SELECT DATA_NAME WHERE COLL_NAME = '" + f.coll + "'"}, c.opts()...))
			}},
	}

	// Resources and replicas (resources.proto).
	rods := func(c *walkClient) catalog.User { return c.env.user(zones.DefaultAdmin) }
	cases = append(cases,
		walkCase{method: arcapb.Resources_MakeResource_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.rescs().MakeResource(ctx, &arcapb.MakeResourceRequest{Name: fmt.Sprintf("made%d", f.seq), Type: "replication"}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Resources_ModifyResource_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.rescs().ModifyResource(ctx, &arcapb.ModifyResourceRequest{Name: zones.DefaultResource, Field: "comment", Value: f.attr}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Resources_RemoveResource_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				name := fmt.Sprintf("victim%d", f.seq)
				if _, err := c.env.zone.MakeResource(ctx, zones.As(rods(c)), catalog.Resource{Name: name, Type: "random"}); err != nil {
					return err
				}
				_, err := c.rescs().RemoveResource(ctx, &arcapb.RemoveResourceRequest{Name: name}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Resources_AddChild_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				parent, child := fmt.Sprintf("parent%d", f.seq), fmt.Sprintf("child%d", f.seq)
				for _, n := range []string{parent, child} {
					if _, err := c.env.zone.MakeResource(ctx, zones.As(rods(c)), catalog.Resource{Name: n, Type: "random"}); err != nil {
						return err
					}
				}
				_, err := c.rescs().AddChild(ctx, &arcapb.ChildRequest{Parent: parent, Child: child}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Resources_RemoveChild_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				parent, child := fmt.Sprintf("parent%d", f.seq), fmt.Sprintf("child%d", f.seq)
				for _, n := range []string{parent, child} {
					if _, err := c.env.zone.MakeResource(ctx, zones.As(rods(c)), catalog.Resource{Name: n, Type: "random"}); err != nil {
						return err
					}
				}
				if _, err := c.env.zone.AddChild(ctx, zones.As(rods(c)), parent, child, ""); err != nil {
					return err
				}
				_, err := c.rescs().RemoveChild(ctx, &arcapb.ChildRequest{Parent: parent, Child: child}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Resources_ListResources_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				_, err := c.rescs().ListResources(ctx, &arcapb.ListResourcesRequest{}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Replicas_Replicate_FullMethodName, allow: objAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.repls().Replicate(ctx, &arcapb.ReplicateRequest{Path: f.obj, UpdateStale: true}, c.opts()...))
			}},
		walkCase{method: arcapb.Replicas_Trim_FullMethodName, allow: objAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.repls().Trim(ctx, &arcapb.TrimRequest{Path: f.obj, Keep: 1}, c.opts()...))
			}},
		walkCase{method: arcapb.Replicas_PhysMove_FullMethodName, allow: objAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.repls().PhysMove(ctx, &arcapb.PhysMoveRequest{Path: f.obj, DestResource: zones.DefaultResource}, c.opts()...))
			}},
		walkCase{method: arcapb.Replicas_Stage_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.repls().Stage(ctx, &arcapb.StageRequest{Path: f.obj}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Replicas_Stage_FullMethodName, variant: "collection", allow: collAtLeast(catalog.AccessRead),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.repls().Stage(ctx, &arcapb.StageRequest{Path: f.coll, Recursive: true}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Replicas_Fsck_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, _ *walkFixture) error {
				return drain(c.repls().Fsck(ctx, &arcapb.FsckRequest{}, c.opts()...))
			}},
	)

	// Retention: who owns an object locks it or puts it on hold (with -r
	// everything below), rodsadmin bypasses governance and releases holds.
	cases = append(cases,
		walkCase{method: arcapb.Retention_SetRetention_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().SetRetention(ctx, &arcapb.SetRetentionRequest{Path: f.obj, Mode: "governance", Period: "1d"}, c.opts()...))
			}},
		walkCase{method: arcapb.Retention_SetRetention_FullMethodName, variant: "recursive", allow: both(catalog.AccessOwn, catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().SetRetention(ctx, &arcapb.SetRetentionRequest{Path: f.coll, Mode: "governance", Period: "1d", Recursive: true}, c.opts()...))
			}},
		walkCase{method: arcapb.Retention_SetRetention_FullMethodName, variant: "bypass governance", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().SetRetention(ctx, &arcapb.SetRetentionRequest{Path: f.obj, BypassGovernance: true}, c.opts()...))
			}},
		walkCase{method: arcapb.Retention_SetHold_FullMethodName, variant: "place", allow: objAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().SetHold(ctx, &arcapb.SetHoldRequest{Path: f.obj, Hold: true}, c.opts()...))
			}},
		walkCase{method: arcapb.Retention_SetHold_FullMethodName, variant: "release", allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().SetHold(ctx, &arcapb.SetHoldRequest{Path: f.obj, Hold: false}, c.opts()...))
			}},
		walkCase{method: arcapb.Retention_SetDefaultRetention_FullMethodName, allow: collAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().SetDefaultRetention(ctx, &arcapb.SetDefaultRetentionRequest{Path: f.coll, Mode: "compliance", Period: "P1D"}, c.opts()...))
			}},
		walkCase{method: arcapb.Retention_SetDefaultRetention_FullMethodName, variant: "recursive", allow: both(catalog.AccessOwn, catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().SetDefaultRetention(ctx, &arcapb.SetDefaultRetentionRequest{Path: f.coll, Mode: "compliance", Period: "P1D", Recursive: true}, c.opts()...))
			}},
		walkCase{method: arcapb.Retention_SetExpiry_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().SetExpiry(ctx, &arcapb.SetExpiryRequest{Path: f.obj, Period: "5y"}, c.opts()...))
			}},
		walkCase{method: arcapb.Retention_SetExpiry_FullMethodName, variant: "collection", allow: both(catalog.AccessOwn, catalog.AccessOwn),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().SetExpiry(ctx, &arcapb.SetExpiryRequest{Path: f.coll, Period: "5y"}, c.opts()...))
			}},
		walkCase{method: arcapb.Zones_MakeZone_FullMethodName, allow: adminOnly,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.zones().MakeZone(ctx, &arcapb.MakeZoneRequest{Name: fmt.Sprintf("newZone%d", f.seq), Conn: "127.0.0.1:1", CaPem: walkZoneCA(c.env.t)}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Zones_ModifyZone_FullMethodName, allow: adminOnly, remoteZone: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.zones().ModifyZone(ctx, &arcapb.ModifyZoneRequest{Name: f.remoteZone, Field: "comment", Value: "walked"}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Zones_RemoveZone_FullMethodName, allow: adminOnly, remoteZone: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.zones().RemoveZone(ctx, &arcapb.RemoveZoneRequest{Name: f.remoteZone}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Zones_ListZones_FullMethodName, allow: anyone,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.zones().ListZones(ctx, &arcapb.ListZonesRequest{}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.Retention_ListRetention_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessRead), adminReads: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().ListRetention(ctx, &arcapb.ListRetentionRequest{Path: f.obj}, c.opts()...))
			}},
		walkCase{method: arcapb.Retention_ListRetention_FullMethodName, variant: "collection", allow: collAtLeast(catalog.AccessRead), adminReads: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.retention().ListRetention(ctx, &arcapb.ListRetentionRequest{Path: f.coll, Recursive: true}, c.opts()...))
			}},
		// QoS requirements make replicas, as irepl: write to add, remove
		// and converge them; read to list them.
		walkCase{method: arcapb.QoS_AddRequirement_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessWrite),
			tolerate: []codes.Code{codes.AlreadyExists},
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.qos().AddRequirement(ctx, &arcapb.AddQoSRequest{Path: f.obj, Expression: "anyStorage", Replicas: 1}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.QoS_AddRequirement_FullMethodName, variant: "collection", allow: collAtLeast(catalog.AccessWrite),
			tolerate: []codes.Code{codes.AlreadyExists},
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.qos().AddRequirement(ctx, &arcapb.AddQoSRequest{Path: f.coll, Expression: "anyStorage", Replicas: 1}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.QoS_RemoveRequirement_FullMethodName, allow: objAtLeast(catalog.AccessWrite),
			tolerate: []codes.Code{codes.NotFound},
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.qos().RemoveRequirement(ctx, &arcapb.RemoveQoSRequest{Path: f.obj, Expression: "anyStorage"}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.QoS_ListRequirements_FullMethodName, variant: "object", allow: objAtLeast(catalog.AccessRead), adminReads: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.qos().ListRequirements(ctx, &arcapb.ListQoSRequest{Path: f.obj}, c.opts()...))
			}},
		walkCase{method: arcapb.QoS_ListRequirements_FullMethodName, variant: "collection", allow: collAtLeast(catalog.AccessRead), adminReads: true,
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.qos().ListRequirements(ctx, &arcapb.ListQoSRequest{Path: f.coll, Recursive: true}, c.opts()...))
			}},
		// DMPs: importing acts through the caller's own operations; this
		// zone has no DMP keeper, so an allowed call is unavailable.
		walkCase{method: arcapb.DMPs_Import_FullMethodName, allow: anyone, tolerate: []codes.Code{codes.Unavailable},
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.dmps().Import(ctx, &arcapb.ImportDMPRequest{Document: []byte(`{}`), DryRun: true}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.DMPs_List_FullMethodName, allow: anyone, tolerate: []codes.Code{codes.Unavailable},
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.dmps().List(ctx, &arcapb.ListDMPsRequest{}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.DMPs_Show_FullMethodName, allow: anyone, tolerate: []codes.Code{codes.Unavailable},
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				_, err := c.dmps().Show(ctx, &arcapb.ShowDMPRequest{Id: "x"}, c.opts()...)
				return err
			}},
		walkCase{method: arcapb.QoS_Converge_FullMethodName, allow: collAtLeast(catalog.AccessWrite),
			call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
				return drain(c.qos().Converge(ctx, &arcapb.ConvergeQoSRequest{Path: f.coll}, c.opts()...))
			}},
	)

	// Metadata, on each kind of target.
	targets := []struct {
		kind         arcapb.MetadataTargetKind
		label        string
		name         func(*walkFixture) string
		read, change rule
	}{
		{kObj, "data object", func(f *walkFixture) string { return f.obj }, objAtLeast(catalog.AccessRead), objAtLeast(catalog.AccessWrite)},
		{kColl, "collection", func(f *walkFixture) string { return f.coll }, collAtLeast(catalog.AccessRead), collAtLeast(catalog.AccessWrite)},
		{kResc, "resource", func(*walkFixture) string { return zones.DefaultResource }, anyone, adminOnly},
		{kUser, "user", func(*walkFixture) string { return "alice" }, anyone, adminOnly},
	}
	for _, t := range targets {
		cases = append(cases,
			walkCase{method: arcapb.Metadata_AddMetadata_FullMethodName, variant: t.label, allow: t.change,
				call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
					_, err := c.meta().AddMetadata(ctx, &arcapb.AddMetadataRequest{Target: metaTarget(t.kind, t.name(f)),
						Avus: []*arcapb.AVU{{Attribute: f.attr + "-added", Value: "v"}}}, c.opts()...)
					return err
				}},
			walkCase{method: arcapb.Metadata_SetMetadata_FullMethodName, variant: t.label, allow: t.change,
				call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
					_, err := c.meta().SetMetadata(ctx, &arcapb.SetMetadataRequest{Target: metaTarget(t.kind, t.name(f)),
						Avu: &arcapb.AVU{Attribute: f.attr, Value: "set"}}, c.opts()...)
					return err
				}},
			walkCase{method: arcapb.Metadata_RemoveMetadata_FullMethodName, variant: t.label, allow: t.change,
				call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
					_, err := c.meta().RemoveMetadata(ctx, &arcapb.RemoveMetadataRequest{Target: metaTarget(t.kind, t.name(f)),
						Avu: &arcapb.AVU{Attribute: f.attr, Value: "v"}}, c.opts()...)
					return err
				}},
			walkCase{method: arcapb.Metadata_RemoveMetadata_FullMethodName, variant: t.label + " wildcard", allow: t.change,
				call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
					_, err := c.meta().RemoveMetadata(ctx, &arcapb.RemoveMetadataRequest{Target: metaTarget(t.kind, t.name(f)),
						Avu: &arcapb.AVU{Attribute: f.attr, Value: "%"}, Wildcard: true}, c.opts()...)
					return err
				}},
			walkCase{method: arcapb.Metadata_ModifyMetadata_FullMethodName, variant: t.label, allow: t.change,
				call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
					_, err := c.meta().ModifyMetadata(ctx, &arcapb.ModifyMetadataRequest{Target: metaTarget(t.kind, t.name(f)),
						Old: &arcapb.AVU{Attribute: f.attr, Value: "v"}, New: &arcapb.AVU{Attribute: f.attr, Value: "modified"}}, c.opts()...)
					return err
				}},
			walkCase{method: arcapb.Metadata_ListMetadata_FullMethodName, variant: t.label, allow: t.read, adminReads: true,
				call: func(ctx context.Context, c *walkClient, f *walkFixture) error {
					return drain(c.meta().ListMetadata(ctx, &arcapb.ListMetadataRequest{Target: metaTarget(t.kind, t.name(f))}, c.opts()...))
				}},
		)
	}
	return append(append(cases, provenanceWalkCases()...), certificateWalkCases()...)
}

// walkEnv is a zone served over TLS gRPC on loopback.
type walkEnv struct {
	t     *testing.T
	zone  *zones.Zone
	auth  *auth.Authenticator
	fired *firedOps
	cat   *sqlite.Catalog
	conn  *grpc.ClientConn
	seq   int
	// clients are those of the walk, one per caller.
	clients []*walkClient
	// pidSrv is the PID resolver (authz_walk_prov_test.go).
	pidSrv *httptest.Server
}

func newWalkEnv(t *testing.T) *walkEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	z := zones.New(cat, zones.Options{Drivers: drivers.Default(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		QoS: func(expr string) (zones.QoSExpr, error) {
			e, err := qos.Parse(expr)
			if err != nil {
				return nil, err
			}
			return e, nil
		}})
	reg := rules.NewRegistry()
	if err := policies.Register(reg, z, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	engine, err := rules.New(rules.Options{Registry: reg, Catalog: cat, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	z.UseRules(engine)
	fired := &firedOps{names: map[zones.OpName]bool{}}
	z.AddHook(fired)
	z.SetAuditLog(filepath.Join(dir, "audit.log"))
	hash, err := passwordhash.Hash(walkPassword(zones.DefaultAdmin))
	if err != nil {
		t.Fatal(err)
	}
	if err := z.Bootstrap(ctx, zones.BootstrapOptions{AdminPasswordHash: hash, VaultDir: filepath.Join(dir, "vault")}); err != nil {
		t.Fatal(err)
	}
	tlsConf, err := tlsca.LoadOrCreate(filepath.Join(dir, "tls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(z, auth.New(z, auth.Options{Logger: slog.New(slog.DiscardHandler)}))
	pidSrv := installKeepers(t, z, cat, svc.auth)
	installCertificates(t, z, cat, walkTLSDir(dir))
	g := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsConf)),
		grpc.ChainUnaryInterceptor(svc.UnaryInterceptor),
		grpc.ChainStreamInterceptor(svc.StreamInterceptor))
	svc.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(lis)
	t.Cleanup(g.Stop)

	// Every service of the API must be served, or its methods would only
	// ever answer Unimplemented.
	served := g.GetServiceInfo()
	for _, fd := range apiFiles() {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			if _, ok := served[string(sd.FullName())]; !ok {
				t.Errorf("service %s is not registered by Service.Register", sd.FullName())
			}
		}
	}

	clientTLS, err := tlsca.ClientTLS(filepath.Join(dir, "tls", tlsca.CACertFile), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(clientTLS)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	e := &walkEnv{t: t, zone: z, auth: svc.auth, cat: cat, conn: conn, fired: fired, pidSrv: pidSrv}
	rods := e.user(zones.DefaultAdmin)
	for _, c := range walkCallers {
		if c.user == "" || c.user == zones.DefaultAdmin {
			continue
		}
		typ := cmp.Or(c.typ, catalog.UserTypeUser)
		if _, err := z.MakeUser(ctx, zones.As(rods), c.user, typ, walkPassword(c.user)); err != nil {
			t.Fatalf("make user %s: %v", c.user, err)
		}
		if c.group != "" {
			if _, err := z.MakeGroup(ctx, zones.As(rods), c.group); err != nil {
				t.Fatalf("make group %s: %v", c.group, err)
			}
			if err := z.AddToGroup(ctx, zones.As(rods), c.group, c.user); err != nil {
				t.Fatalf("add %s to %s: %v", c.user, c.group, err)
			}
		}
	}
	return e
}

func (e *walkEnv) user(name string) catalog.User {
	e.t.Helper()
	u, err := e.cat.User(context.Background(), catalog.UserID{Name: name, Zone: e.zone.Name()})
	if err != nil {
		e.t.Fatalf("user %s: %v", name, err)
	}
	return u
}

func (e *walkEnv) login(ctx context.Context, user string) string {
	e.t.Helper()
	token, _, _, err := e.auth.Login(ctx, catalog.UserID{Name: user, Zone: e.zone.Name()}, walkPassword(user), "")
	if err != nil {
		e.t.Fatalf("login %s: %v", user, err)
	}
	return token
}

// fixture builds fresh objects for one call, owned by alice, and grants
// caller its levels on them.
func (e *walkEnv) fixture(ctx context.Context, c walkCaller, wc walkCase) *walkFixture {
	e.t.Helper()
	e.seq++
	f := &walkFixture{seq: e.seq, attr: fmt.Sprintf("walk%d", e.seq)}
	alice := e.user("alice")
	coll := e.zone.Home("alice").String() + fmt.Sprintf("/case%d", e.seq)
	f.coll, f.obj, f.obj2, f.sub = coll, coll+"/obj", coll+"/obj2", coll+"/sub"
	must := func(what string, err error) {
		if err != nil {
			e.t.Fatalf("fixture %d: %s: %v", e.seq, what, err)
		}
	}
	_, err := e.zone.MakeCollection(ctx, zones.As(alice), catalog.MustPath(f.coll), false)
	must("make collection", err)
	if wc.remoteZone {
		f.remoteZone = fmt.Sprintf("walkZone%d", e.seq)
		_, err := e.zone.MakeRemoteZone(ctx, zones.As(e.user("rods")), zones.RemoteZone{Name: f.remoteZone, Conn: "127.0.0.1:1", CAPEM: walkZoneCA(e.t)})
		must("register a zone", err)
	}
	_, err = e.zone.MakeCollection(ctx, zones.As(alice), catalog.MustPath(f.sub), false)
	must("make sub-collection", err)
	// Something inside sub, so that removing it removes an object too.
	objs := []string{f.obj, f.sub + "/inner"}
	if wc.obj2 {
		objs = append(objs, f.obj2)
	}
	for _, p := range objs {
		data := []byte("original bytes of " + p + "\n")
		_, err := e.zone.Put(ctx, zones.As(alice), zones.PutRequest{Path: catalog.MustPath(p), Size: int64(len(data))}, bytes.NewReader(data))
		must("put "+p, err)
	}
	avu := catalog.AVU{Attribute: f.attr, Value: "v"}
	for _, t := range []catalog.AVUTarget{
		catalog.ObjectTarget(catalog.MustPath(f.obj)), catalog.CollectionTarget(catalog.MustPath(f.coll)),
		catalog.ResourceTarget(zones.DefaultResource), catalog.UserTarget(alice.UserID()),
	} {
		must("add metadata", e.cat.AddMetadata(ctx, t, avu))
	}
	rods := e.user(zones.DefaultAdmin)
	f.group = fmt.Sprintf("fgroup%d", e.seq)
	_, err = e.zone.MakeGroup(ctx, zones.As(rods), f.group)
	must("make group", err)
	must("add bob", e.zone.AddToGroup(ctx, zones.As(rods), f.group, "bob"))
	if c.groupAdmin {
		must("add groupadmin", e.zone.AddToGroup(ctx, zones.As(rods), f.group, c.user))
	}
	if c.grant {
		id := catalog.UserID{Name: cmp.Or(c.group, c.user), Zone: e.zone.Name()}
		for _, p := range []string{f.coll, f.sub} {
			must("grant", e.cat.SetAccess(ctx, catalog.MustPath(p), id, c.coll))
		}
		for _, p := range objs {
			must("grant", e.cat.SetAccess(ctx, catalog.MustPath(p), id, c.obj))
		}
	}
	_, tk, err := e.zone.CreateTicket(ctx, zones.As(alice), catalog.MustPath(f.coll), catalog.TicketRead, "")
	must("make ticket", err)
	f.ticket = fmt.Sprint(tk.ID)
	if c.ticket != "" {
		f.secret, _, err = e.zone.CreateTicket(ctx, zones.As(alice), catalog.MustPath(f.coll), c.ticket, "")
		must("make caller's ticket", err)
	}
	if wc.victim {
		f.victim = fmt.Sprintf("victim%d", e.seq)
		_, err := e.zone.MakeUser(ctx, zones.As(e.user(zones.DefaultAdmin)), f.victim, catalog.UserTypeUser, "")
		must("make victim", err)
	}
	return f
}

func (wc walkCase) name() string {
	m := wc.method[strings.LastIndex(wc.method, "/")+1:]
	svc := strings.TrimPrefix(wc.method[:strings.LastIndex(wc.method, "/")], "/arca.v1.")
	n := svc + "." + m
	if wc.variant != "" {
		n += "(" + wc.variant + ")"
	}
	return n
}

func TestAuthzWalk(t *testing.T) {
	cases := walkCases()

	// Every method of every service has a case, and every case a method:
	// a new method cannot slip past this walk.
	methods := map[string]bool{}
	for _, fd := range apiFiles() {
		sds := fd.Services()
		for i := range sds.Len() {
			sd := sds.Get(i)
			for j := range sd.Methods().Len() {
				methods[fmt.Sprintf("/%s/%s", sd.FullName(), sd.Methods().Get(j).Name())] = false
			}
		}
	}
	for _, wc := range cases {
		if _, ok := methods[wc.method]; !ok {
			t.Errorf("case %s names a method the API does not have", wc.name())
		}
		methods[wc.method] = true
	}
	for m, covered := range methods {
		if !covered {
			t.Errorf("method %s has no case in the authorization walk: add one to walkCases", m)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	e := newWalkEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // slow on a loaded machine
	defer cancel()
	clients := map[string]*walkClient{}
	for _, c := range walkCallers {
		wc := &walkClient{caller: c, conn: e.conn, env: e}
		if c.user != "" {
			wc.token = e.login(ctx, c.user)
		}
		clients[c.label] = wc
		e.clients = append(e.clients, wc)
	}

	var matrix strings.Builder
	for _, wc := range cases {
		fmt.Fprintf(&matrix, "%-40s", wc.name())
		for _, c := range walkCallers {
			want := wc.allow(c.obj, c.coll) || (wc.groupAdmin && c.groupAdmin) || (wc.ownerOnly && c.user == "alice")
			if c.admin {
				adminsOp := !wc.allow(catalog.AccessOwn, catalog.AccessOwn)
				want = c.adminMode || wc.allow(catalog.AccessNull, catalog.AccessNull) || wc.adminReads || (adminsOp && !wc.needsM)
			}
			anonTicket := c.user == "" && c.ticket != ""
			if c.user == "" {
				want = wc.anon || (anonTicket && wc.method == arcapb.Auth_WhoAmI_FullMethodName)
			}
			if c.ticket != "" && ticketMethods[wc.method] && wc.allow(c.ticket.Level(), c.ticket.Level()) {
				want = true
			}
			f := e.fixture(ctx, c, wc)
			cctx := ctx
			if f.secret != "" {
				cctx = metadata.AppendToOutgoingContext(cctx, arcapb.TicketMetadata, f.secret)
			}
			if c.adminMode {
				cctx = metadata.AppendToOutgoingContext(cctx, arcapb.AdminModeMetadata, "1")
			}
			err := wc.call(cctx, clients[c.label], f)
			code := status.Code(err)
			mark := "."
			if code == codes.OK || slices.Contains(wc.tolerate, code) {
				mark = "+"
			} else if code == codes.PermissionDenied || code == codes.Unauthenticated {
				mark = "-"
			}
			fmt.Fprintf(&matrix, " %s:%s", c.label, mark)
			switch {
			case want && code != codes.OK && !slices.Contains(wc.tolerate, code):
				t.Errorf("%s as %s: want allowed, got %v", wc.name(), c.label, err)
			case !want && anonTicket && code != codes.PermissionDenied:
				t.Errorf("%s as %s: want PermissionDenied, got %v", wc.name(), c.label, err)
			case !want && c.user == "" && !anonTicket && code != codes.Unauthenticated:
				t.Errorf("%s as %s: want Unauthenticated, got %v", wc.name(), c.label, err)
			case !want && c.user != "" && code != codes.PermissionDenied:
				t.Errorf("%s as %s: want PermissionDenied, got %v", wc.name(), c.label, err)
			}
			if want && code == codes.InvalidArgument && wc.method == arcapb.Query_Run_FullMethodName &&
				!strings.Contains(status.Convert(err).Message(), "cannot run queries") {
				t.Errorf("%s as %s: %v", wc.name(), c.label, err)
			}
		}
		matrix.WriteByte('\n')
	}
	t.Logf("decisions (+ allowed, - refused, . other error):\n%s", matrix.String())

	// Both directions of the operation table: every operation a client can
	// ask for fired during the walk, and every operation that fired is in
	// the table (so rules can name it). Those the zone does at a login are
	// proven by zones/auth's LDAP tests.
	for _, name := range zones.OperationNames() {
		info, _ := zones.LookupOperation(name)
		if !info.ByZone && !e.fired.has(zones.OpName(name)) {
			t.Errorf("operation %s is in the table but never fired in the walk: a rule naming it would never run", name)
		}
	}
	for _, name := range e.fired.all() {
		if _, ok := zones.LookupOperation(string(name)); !ok {
			t.Errorf("operation %s fired but is not in the table: no rule can name it", name)
		}
	}
}

// firedOps records the name of every operation the dispatcher runs.
type firedOps struct {
	mu    sync.Mutex
	names map[zones.OpName]bool
}

func (f *firedOps) Before(_ context.Context, op *zones.Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names[op.Name] = true
	return nil
}

func (f *firedOps) After(context.Context, *zones.Op, error) {}

func (f *firedOps) has(name zones.OpName) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.names[name]
}

func (f *firedOps) all() []zones.OpName {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Collect(maps.Keys(f.names))
}

// TestAuthzWalkHidden checks that what a caller may not read does not show
// in the listings and query results it may see.
func TestAuthzWalkHidden(t *testing.T) {
	e := newWalkEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hidden := walkCaller{label: "obj-null/coll-read", user: "umixc", grant: true, obj: catalog.AccessNull, coll: catalog.AccessRead}
	f := e.fixture(ctx, hidden, walkCase{})
	reader := &walkClient{caller: hidden, conn: e.conn, env: e, token: e.login(ctx, hidden.user)}

	// List: the collection is readable, obj in it is not.
	s, err := reader.ns().List(ctx, &arcapb.ListRequest{Path: f.coll, Recursive: true}, reader.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for {
		resp, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("list %s: %v", f.coll, err)
		}
		for _, en := range resp.Entries {
			listed = append(listed, en.Path)
		}
	}
	if slices.Contains(listed, f.obj) || slices.Contains(listed, f.sub+"/inner") {
		t.Errorf("list of %s by a user with null on its objects shows them: %v", f.coll, listed)
	}
	if !slices.Contains(listed, f.sub) {
		t.Errorf("list of %s by a user with read on its collections misses %s: %v", f.coll, f.sub, listed)
	}

	// Query: the rows hold only what the caller may read.
	q, err := reader.query().Run(ctx, &arcapb.QueryRequest{Query: "SELECT COLL_NAME, DATA_NAME WHERE COLL_NAME LIKE '" + f.coll + "%'"}, reader.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for {
		resp, err := q.Recv()
		if err == io.EOF {
			break
		}
		if status.Code(err) == codes.InvalidArgument && strings.Contains(status.Convert(err).Message(), "cannot run queries") {
			t.Logf("query visibility not checked: %v", err)
			return
		}
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		for _, r := range resp.Rows {
			rows = append(rows, r.Values)
		}
	}
	for _, r := range rows {
		if slices.Contains(r, "obj") || slices.Contains(r, "inner") {
			t.Errorf("query by a user with null on the objects returns %v", r)
		}
	}
}
