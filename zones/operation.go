package zones

import (
	"context"

	"github.com/arca-data/arca/catalog"
)

// Principal is who asks for an operation, as the transport established it:
// the authenticated user (or the anonymous user when the call presented
// only a ticket), the ticket presented with the call, and the client's host.
// The transport passes it explicitly to every zone method; nothing about
// the caller rides in the context.
type Principal struct {
	catalog.User
	// Ticket is the ticket string presented with the call, if any: the
	// operation may use it where the caller's own access does not reach.
	Ticket string
	// Host is the client's IP address ("" when unknown or in-process), for
	// a ticket's allowed hosts.
	Host string
	// AdminMode is -M: a rodsadmin acting as such on other users' data. As
	// in iRODS, without it a rodsadmin sees the whole namespace and runs
	// the administrators' operations, but reads and changes the data of
	// others only as far as their ACLs let it (see authorizeCaller).
	AdminMode bool
}

// As is the principal of u acting in-process: no ticket, no client host
// (rule actions, jobs, tests), with the whole authority of u: an
// administrator acts in admin mode, as a rule is the administrators' policy.
func As(u catalog.User) Principal {
	return Principal{User: u, AdminMode: u.Type == catalog.UserTypeAdmin}
}

// Op is one client-visible operation, as hooks (rules, audit, provenance) see
// it. Names are dotted and stable: "put", "get", "list", "stat", "mkdir",
// "rename", "remove", "trash.remove", "copy", "checksum", "user.create",
// "user.password" (ipasswd),
// "user.provision" and "group.sync.join" (done by the zone at a login),
// "metadata.add", ...
type Op struct {
	Name     OpName
	Caller   Principal
	Path     catalog.Path // the object or collection acted on, if any
	Dest     catalog.Path // the target of rename and copy
	Resource string       // the target resource of put and copy
	Size     int64        // bytes announced by put
	// Target is what a "metadata.*" operation acts on; for a data object or
	// collection Path is its path too, for a resource Resource its name.
	Target catalog.AVUTarget
	// AVUs are the AVUs an operation adds (put with metadata,
	// metadata.add), sets, removes (exactly, or the pattern of a wildcard
	// removal), lists (the attribute asked for, if any), or, for
	// metadata.modify, the old and the new AVU.
	AVUs []catalog.AVU
	// Group is the group a "group.*" operation acts on; for "acl.set" the
	// user or group granted.
	Group catalog.UserID
	// Level is the access "acl.set" grants, or the access the ticket
	// "ticket.create" makes gives (read or write).
	Level catalog.AccessLevel
	// Account is the account a "user.*" or "logout" operation acts on, the
	// member "group.add" and "group.remove_member" add or remove, and the
	// user whose AVUs a "metadata.*" operation acts on.
	Account catalog.UserID
	// Recursive is -r: the operation takes everything below the collection
	// Path (where the table asks for a level on all of it, on all of it).
	Recursive bool
	// AdminMode is ichmod -M: a rodsadmin changing an ACL as such (the
	// request's own flag; Caller.AdminMode is the -M of every icommand);
	// for retention.set, bypassing governance.
	AdminMode bool
	// Owner is the owner of the ticket a "ticket.*" operation acts on.
	Owner catalog.UserID
	// Object is, once a put or copy has stored it, the data object as it
	// was committed (for pid.mint, as the mint read it): what hooks after
	// the operation (provenance) would otherwise read back from the
	// catalog.
	Object *catalog.DataObject
	// ViaTicket is set by authorize when the ticket the call presented,
	// not the caller's own access, allowed the operation: what it creates
	// belongs to the ticket's owner, and listings show what it covers.
	ViaTicket *catalog.Ticket
	// ticketUse is what authorize counted against ViaTicket, returned if
	// the operation fails.
	ticketUse catalog.TicketUse
}

// Hook sees every operation around its run. Before may refuse it, in which
// case nothing happens and the caller gets Before's error. After learns how
// it ended.
type Hook interface {
	Before(ctx context.Context, op *Op) error
	After(ctx context.Context, op *Op, err error)
}

// do is the one road every operation takes: authorize, hooks before, run,
// hooks after; what authorize counted against a ticket goes back if the
// operation fails. The permission each operation needs is decided in
// authz.go.
func (z *Zone) do(ctx context.Context, op *Op, run func(ctx context.Context) error) error {
	if err := z.authorize(ctx, op); err != nil {
		return err
	}
	err := z.hooked(ctx, op, run)
	if err != nil && op.ViaTicket != nil && op.ticketUse != (catalog.TicketUse{}) {
		// A failed operation does not spend the ticket: the use goes back.
		if rerr := z.cat.ReturnTicketUse(context.WithoutCancel(ctx), op.ViaTicket.ID, op.ticketUse); rerr != nil {
			z.log.Warn("return the use of a ticket by a failed operation", "ticket", op.ViaTicket.ID, "op", op.Name, "err", rerr)
		}
	}
	return err
}

// hooked runs the hooks before, run, and the hooks after.
func (z *Zone) hooked(ctx context.Context, op *Op, run func(ctx context.Context) error) error {
	for i, h := range z.hooks {
		if err := h.Before(ctx, op); err != nil {
			for _, done := range z.hooks[:i] {
				done.After(ctx, op, err)
			}
			return err
		}
	}
	err := run(ctx)
	for _, h := range z.hooks {
		h.After(ctx, op, err)
	}
	return err
}
