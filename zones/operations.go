package zones

import (
	"fmt"
	"slices"

	"github.com/arca-data/arca/catalog"
)

// OpName names an operation. Rules name operations in "on"; every name
// here fires, and every operation that fires has its name here
// (TestOperationTable and the authorization walk in zones/rpc prove both).
type OpName string

// The operations of a zone, as rules, audit and provenance see them.
const (
	OpStat             OpName = "stat"
	OpGet              OpName = "get"
	OpList             OpName = "list"
	OpChecksum         OpName = "checksum"
	OpPut              OpName = "put"
	OpMkdir            OpName = "mkdir"
	OpRename           OpName = "rename"
	OpCopy             OpName = "copy"
	OpRemove           OpName = "remove"
	OpTrashRemove      OpName = "trash.remove"
	OpTrashRemoveOther OpName = "trash.remove.others"
	OpRegister         OpName = "register"
	OpReplicate        OpName = "replicate"
	OpTrim             OpName = "trim"
	OpPhysMove         OpName = "physmove"
	OpStage            OpName = "stage"
	OpFsck             OpName = "fsck"
	OpQuery            OpName = "query"
	OpACLSet           OpName = "acl.set"
	OpACLInherit       OpName = "acl.inherit"
	OpMetadataAdd      OpName = "metadata.add"
	OpMetadataSet      OpName = "metadata.set"
	OpMetadataRemove   OpName = "metadata.remove"
	OpMetadataModify   OpName = "metadata.modify"
	OpMetadataList     OpName = "metadata.list"
	OpUserCreate       OpName = "user.create"
	OpUserModify       OpName = "user.modify"
	OpUserRemove       OpName = "user.remove"
	OpUserList         OpName = "user.list"
	OpUserInfo         OpName = "user.info"
	OpUserPassword     OpName = "user.password"
	OpUserProvision    OpName = "user.provision"
	OpWhoAmI           OpName = "whoami"
	OpLogout           OpName = "logout"
	OpGroupCreate      OpName = "group.create"
	OpGroupRemove      OpName = "group.remove"
	OpGroupAdd         OpName = "group.add"
	OpGroupRemoveMem   OpName = "group.remove_member"
	OpGroupList        OpName = "group.list"
	OpGroupSyncJoin    OpName = "group.sync.join"
	OpGroupSyncLeave   OpName = "group.sync.leave"
	OpTicketCreate     OpName = "ticket.create"
	OpTicketModify     OpName = "ticket.modify"
	OpTicketRemove     OpName = "ticket.remove"
	OpTicketShow       OpName = "ticket.show"
	OpTicketList       OpName = "ticket.list"
	OpTicketListAll    OpName = "ticket.list.all"
	OpQuotaSet         OpName = "quota.set"
	OpQuotaList        OpName = "quota.list"
	OpQuotaListAll     OpName = "quota.list.all"
	OpResourceCreate   OpName = "resource.create"
	OpResourceModify   OpName = "resource.modify"
	OpResourceRemove   OpName = "resource.remove"
	OpResourceChild    OpName = "resource.child"
	OpResourceList     OpName = "resource.list"
	OpRulesList        OpName = "rules.list"
	OpRulesCheck       OpName = "rules.check"
	OpRulesDryRun      OpName = "rules.dryrun"
	OpRulesLoad        OpName = "rules.load"
	OpRulesRollback    OpName = "rules.rollback"
	OpRulesHistory     OpName = "rules.history"
	OpAuditList        OpName = "audit.list"
	OpJobList          OpName = "job.list"
	OpJobRemove        OpName = "job.remove"
	// Provenance, PIDs and RAiDs (policies/provenance, policies/pid,
	// policies/raid; see provenance.go).
	OpProvShow         OpName = "prov.show"
	OpProvVerify       OpName = "prov.verify"
	OpProvDerive       OpName = "prov.derive"
	OpPIDMint          OpName = "pid.mint"
	OpPIDShow          OpName = "pid.show"
	OpPIDRegister      OpName = "pid.register"
	OpRAiDCreate       OpName = "raid.create"
	OpRAiDShow         OpName = "raid.show"
	OpRAiDLink         OpName = "raid.link"
	OpRAiDUnlink       OpName = "raid.unlink"
	OpRetentionSet     OpName = "retention.set"
	OpRetentionHold    OpName = "retention.hold"
	OpRetentionRelease OpName = "retention.release"
	OpRetentionDefault OpName = "retention.default"
	OpRetentionList    OpName = "retention.list"
	OpRetentionExpire  OpName = "retention.expire"
	// Preservation certificates (policies/certificates; see
	// certificates.go).
	OpCertIssue OpName = "certificate.issue"
	OpCertList  OpName = "certificate.list"
	OpCertShow  OpName = "certificate.show"
	// Fixity checks of replicas (fixity.go).
	OpFixityCheck OpName = "fixity.check"
	// The registry of federated zones (remotezones.go).
	OpZoneCreate OpName = "zone.create"
	OpZoneModify OpName = "zone.modify"
	OpZoneRemove OpName = "zone.remove"
	OpZoneList   OpName = "zone.list"
	// QoS requirements (qos.go).
	OpQoSAdd      OpName = "qos.add"
	OpQoSRemove   OpName = "qos.remove"
	OpQoSList     OpName = "qos.list"
	OpQoSConverge OpName = "qos.converge"
	// Data management plans (dmp.go).
	OpDMPImport OpName = "dmp.import"
	OpDMPList   OpName = "dmp.list"
	OpDMPShow   OpName = "dmp.show"
)

// Facts an operation gives rules beyond the caller (see Op): which of its
// fields it sets.
const (
	FactPath     = "path"      // Op.Path
	FactDest     = "dest"      // Op.Dest
	FactResource = "resource"  // Op.Resource
	FactSize     = "size"      // Op.Size
	FactAVUs     = "avus"      // Op.AVUs (and Target)
	FactGroup    = "group"     // Op.Group
	FactAccount  = "account"   // Op.Account
	FactOwner    = "owner"     // Op.Owner
	FactLevel    = "level"     // Op.Level
	FactRecurse  = "recursive" // Op.Recursive
)

// operation is one row of the table: what an operation needs to be allowed,
// and what facts it carries to rules.
type operation struct {
	// needs decides the permission (see need); errAdminOnly and errByZone
	// are rules of their own.
	needs func(op *Op) ([]need, error)
	facts []string
	// byZone marks operations the zone does on a user's behalf, which no
	// client can ask for (a login's provisioning and group changes).
	byZone bool
	// adminReads marks what shows the namespace: a rodsadmin may do it on
	// anything without admin mode (-M), as iRODS's GenQuery shows a
	// rodsadmin every collection, data object and AVU. Reading bytes and
	// every change need the caller's own access, or -M (see authorizeCaller).
	adminReads bool
}

func readPath(op *Op) ([]need, error) {
	return []need{{path: op.Path, level: catalog.AccessRead}}, nil
}

func writePath(op *Op) ([]need, error) {
	return []need{{path: op.Path, level: catalog.AccessWrite}}, nil
}

func ownPath(op *Op) ([]need, error) {
	return []need{{path: op.Path, level: catalog.AccessOwn}}, nil
}

func adminOnly(*Op) ([]need, error) { return nil, errAdminOnly }

// anyone is for operations every user may run: they act only on what is
// the caller's own, or filter what they return by it.
func anyone(*Op) ([]need, error) { return nil, nil }

func byZone(*Op) ([]need, error) { return nil, errByZone }

// operations is the one table of operations. Administrators pass the
// administrators' operations (errAdminOnly), those marked adminReads, and
// in admin mode (-M) every permission check; everything else is decided
// here and nowhere else.
var operations = map[OpName]operation{
	OpStat:     {needs: readPath, facts: []string{FactPath}, adminReads: true},
	OpGet:      {needs: readPath, facts: []string{FactPath}},
	OpList:     {needs: readPath, facts: []string{FactPath}, adminReads: true},
	OpChecksum: {needs: readPath, facts: []string{FactPath}},
	OpPut: {needs: func(op *Op) ([]need, error) {
		return []need{{path: op.Path, level: catalog.AccessWrite, parentIfMissing: true}}, nil
	}, facts: []string{FactPath, FactResource, FactSize, FactAVUs}},
	OpMkdir: {needs: func(op *Op) ([]need, error) {
		return []need{{path: op.Path.Parent(), level: catalog.AccessWrite}}, nil
	}, facts: []string{FactPath}},
	OpRename: {needs: func(op *Op) ([]need, error) {
		return []need{{path: op.Path, level: catalog.AccessOwn}, {path: op.Dest.Parent(), level: catalog.AccessWrite}}, nil
	}, facts: []string{FactPath, FactDest}},
	OpCopy: {needs: func(op *Op) ([]need, error) {
		return []need{{path: op.Path, level: catalog.AccessRead}, {path: op.Dest, level: catalog.AccessWrite, parentIfMissing: true}}, nil
	}, facts: []string{FactPath, FactDest, FactResource}},
	// iRODS checks delete permission on every data object a recursive
	// removal takes.
	OpRemove: {needs: func(op *Op) ([]need, error) {
		return []need{{path: op.Path, level: catalog.AccessOwn, tree: true}}, nil
	}, facts: []string{FactPath, FactRecurse}},
	OpTrashRemove:      {needs: anyone, facts: []string{FactPath}},
	OpTrashRemoveOther: {needs: adminOnly, facts: []string{FactPath}},
	// iRODS: ireg is for rodsadmin (the files are the server's).
	OpRegister: {needs: adminOnly, facts: []string{FactPath, FactResource}},
	// iRODS asks write permission to add, trim or move replicas; the
	// objects below a collection are filtered by the same level.
	OpReplicate: {needs: writePath, facts: []string{FactPath, FactResource, FactRecurse}},
	OpTrim:      {needs: writePath, facts: []string{FactPath, FactResource, FactRecurse}},
	OpPhysMove:  {needs: writePath, facts: []string{FactPath, FactResource, FactRecurse}},
	// Reading is what a recall prepares.
	OpStage: {needs: readPath, facts: []string{FactPath}},
	OpFsck:  {needs: adminOnly, facts: []string{FactResource}},
	// The catalog filters rows by what the caller may read.
	OpQuery: {needs: anyone},
	// iRODS: changing an ACL or the inheritance flag needs own; with -M
	// (admin mode) a rodsadmin may change any. Recursive changes touch only
	// what the caller owns below (see SetAccess).
	OpACLSet:     {needs: aclNeeds, facts: []string{FactPath, FactGroup, FactLevel, FactRecurse}},
	OpACLInherit: {needs: aclNeeds, facts: []string{FactPath, FactRecurse}},
	// AVUs of data objects and collections are read like the object; those
	// of resources and users every user may see, as in iRODS. Changing them
	// needs modify_metadata, which write and own include; AVUs of resources
	// and users only rodsadmin changes.
	OpMetadataList:   {needs: metadataRead, facts: []string{FactPath, FactResource, FactAccount, FactAVUs}, adminReads: true},
	OpMetadataAdd:    {needs: metadataWrite, facts: []string{FactPath, FactResource, FactAccount, FactAVUs}},
	OpMetadataSet:    {needs: metadataWrite, facts: []string{FactPath, FactResource, FactAccount, FactAVUs}},
	OpMetadataRemove: {needs: metadataWrite, facts: []string{FactPath, FactResource, FactAccount, FactAVUs}},
	OpMetadataModify: {needs: metadataWrite, facts: []string{FactPath, FactResource, FactAccount, FactAVUs}},
	OpUserCreate:     {needs: adminOnly, facts: []string{FactAccount}},
	OpUserModify:     {needs: adminOnly, facts: []string{FactAccount}},
	OpUserRemove:     {needs: adminOnly, facts: []string{FactAccount}},
	OpUserList:       {needs: adminOnly},
	// Every user may see users, groups and memberships.
	OpUserInfo:     {needs: anyone, facts: []string{FactAccount}},
	OpGroupList:    {needs: anyone},
	OpUserPassword: {needs: anyone, facts: []string{FactAccount}},
	OpWhoAmI:       {needs: anyone},
	OpLogout:       {needs: anyone, facts: []string{FactAccount}},
	// Done by the zone itself at a login, after the directory has
	// authenticated the user, on the user's behalf (the caller is that
	// user, who for user.provision has no account yet). The directory's
	// word is the permission; rules may still deny them.
	OpUserProvision:  {needs: byZone, facts: []string{FactPath, FactAccount}, byZone: true},
	OpGroupSyncJoin:  {needs: byZone, facts: []string{FactGroup}, byZone: true},
	OpGroupSyncLeave: {needs: byZone, facts: []string{FactGroup}, byZone: true},
	OpGroupCreate:    {needs: adminOnly, facts: []string{FactGroup}},
	OpGroupRemove:    {needs: adminOnly, facts: []string{FactGroup}},
	// iRODS lets a groupadmin manage the members of its own groups.
	OpGroupAdd:       {needs: groupAdmin, facts: []string{FactGroup, FactAccount}},
	OpGroupRemoveMem: {needs: groupAdmin, facts: []string{FactGroup, FactAccount}},
	// iRODS: only who owns an object or collection may hand out tickets.
	OpTicketCreate:  {needs: ownPath, facts: []string{FactPath, FactLevel}},
	OpTicketModify:  {needs: ticketOwner, facts: []string{FactOwner}},
	OpTicketRemove:  {needs: ticketOwner, facts: []string{FactOwner}},
	OpTicketShow:    {needs: ticketOwner, facts: []string{FactOwner}},
	OpTicketList:    {needs: anyone},
	OpTicketListAll: {needs: adminOnly},
	OpQuotaSet:      {needs: adminOnly},
	OpQuotaList:     {needs: anyone},
	OpQuotaListAll:  {needs: adminOnly},
	// Every user may see the resources, as in iRODS.
	OpResourceList:   {needs: anyone},
	OpResourceCreate: {needs: adminOnly, facts: []string{FactResource}},
	OpResourceModify: {needs: adminOnly, facts: []string{FactResource}},
	OpResourceRemove: {needs: adminOnly, facts: []string{FactResource}},
	OpResourceChild:  {needs: adminOnly, facts: []string{FactResource}},
	// Policy is no secret: every user may read and test it.
	OpRulesList:   {needs: anyone},
	OpRulesCheck:  {needs: anyone},
	OpRulesDryRun: {needs: anyone},
	OpAuditList:   {needs: adminOnly},
	// The zone's rule set changes only by an administrator (iRODS:
	// rodsadmin edits the rule base); its history is as public as it is.
	OpRulesLoad:     {needs: adminOnly},
	OpRulesRollback: {needs: adminOnly},
	OpRulesHistory:  {needs: anyone},
	// Users see and remove their own jobs, administrators every job:
	// decided against the job's owner in ListJobs and RemoveJob.
	OpJobList:   {needs: anyone},
	OpJobRemove: {needs: anyone},
	// Provenance is read like its object (of a collection: only what the
	// caller may read is shown); a derivation changes the derived
	// object's record and reveals the source's.
	OpProvShow:   {needs: readPath, facts: []string{FactPath}},
	OpProvVerify: {needs: readPath, facts: []string{FactPath}},
	OpProvDerive: {needs: func(op *Op) ([]need, error) {
		return []need{{path: op.Path, level: catalog.AccessWrite}, {path: op.Dest, level: catalog.AccessRead}}, nil
	}, facts: []string{FactPath, FactDest}},
	// A PID is the object's metadata: minting needs write; a PID record
	// is public (as in the Handle System), but asking by path reveals the
	// object. Registering handle records for others (Handle REST PUT) is
	// for administrators.
	OpPIDMint: {needs: writePath, facts: []string{FactPath}},
	OpPIDShow: {needs: func(op *Op) ([]need, error) {
		if op.Path.IsZero() {
			return nil, nil
		}
		return readPath(op)
	}, facts: []string{FactPath}},
	OpPIDRegister: {needs: adminOnly},
	// Any user may create a RAiD and read one (closed ones show their
	// owner everything, others the identifier and access only); linking
	// changes the collection's metadata and the RAiD: write on the one,
	// the RAiD's owner for the other.
	OpRAiDCreate: {needs: anyone},
	OpRAiDShow:   {needs: anyone},
	OpRAiDLink:   {needs: raidLink, facts: []string{FactPath, FactOwner}},
	OpRAiDUnlink: {needs: raidLink, facts: []string{FactPath, FactOwner}},
	// Retention locks (retention.go): who owns a data object locks it or
	// holds it, with -r every object below the collection; bypassing
	// governance (AdminMode) and releasing a legal hold are for rodsadmin.
	// What no one may do (shorten a compliance lock) the zone and the
	// catalog refuse whoever asks.
	OpRetentionSet: {needs: func(op *Op) ([]need, error) {
		if op.AdminMode {
			return nil, errAdminOnly
		}
		return ownTree(op)
	}, facts: []string{FactPath}},
	OpRetentionHold:    {needs: ownTree, facts: []string{FactPath}},
	OpRetentionRelease: {needs: adminOnly, facts: []string{FactPath}},
	OpRetentionDefault: {needs: ownTree, facts: []string{FactPath}},
	OpRetentionList:    {needs: readPath, facts: []string{FactPath}, adminReads: true},
	// An expiry is set by who owns all it reaches (a collection: the tree).
	OpRetentionExpire: {needs: ownTree, facts: []string{FactPath}},
	// A certificate is issued by rodsadmin or a member of the steward
	// group (Op.Group), who must be able to read all it certifies; it is
	// listed and shown to who may read its subject.
	OpCertIssue: {needs: func(op *Op) ([]need, error) {
		return []need{{steward: true, stewards: op.Group}, {path: op.Path, level: catalog.AccessRead, tree: true}}, nil
	}, facts: []string{FactPath}},
	OpCertList: {needs: readPath, facts: []string{FactPath}, adminReads: true},
	OpCertShow: {needs: readPath, facts: []string{FactPath}},
	// Reading every replica from storage, tape included, is the
	// administrators' (a shipped periodic rule, ifsck-like).
	OpFixityCheck: {needs: adminOnly, facts: []string{FactPath}},
	// Federation is the administrators'; which zones there are every
	// user may see (iRODS's iadmin lz).
	OpZoneCreate: {needs: adminOnly},
	OpZoneModify: {needs: adminOnly},
	OpZoneRemove: {needs: adminOnly},
	OpZoneList:   {needs: anyone},
	// A QoS requirement makes replicas, as irepl does: adding, removing
	// and converging one needs write, as irepl; it is read like its
	// object or collection.
	OpQoSAdd:      {needs: writePath, facts: []string{FactPath}},
	OpQoSRemove:   {needs: writePath, facts: []string{FactPath}},
	OpQoSList:     {needs: readPath, facts: []string{FactPath, FactRecurse}, adminReads: true},
	OpQoSConverge: {needs: writePath, facts: []string{FactPath}},
	// Importing a DMP acts through the caller's own operations (mkdir,
	// qos.add), each authorized; a DMP is as public as a rule set.
	OpDMPImport: {needs: anyone},
	OpDMPList:   {needs: anyone},
	OpDMPShow:   {needs: anyone},
}

func raidLink(op *Op) ([]need, error) {
	return []need{{path: op.Path, level: catalog.AccessWrite}, {ownerOf: op.Owner}}, nil
}

// ownTree is own on op.Path and, for a recursive operation, on everything
// below it.
func ownTree(op *Op) ([]need, error) {
	return []need{{path: op.Path, level: catalog.AccessOwn, tree: op.Recursive}}, nil
}

func aclNeeds(op *Op) ([]need, error) {
	if op.AdminMode {
		return nil, errAdminOnly
	}
	return ownPath(op)
}

func metadataRead(op *Op) ([]need, error) {
	if isPathTarget(op.Target) {
		return readPath(op)
	}
	return nil, nil
}

func metadataWrite(op *Op) ([]need, error) {
	if isPathTarget(op.Target) {
		return writePath(op)
	}
	return nil, errAdminOnly
}

func groupAdmin(op *Op) ([]need, error) { return []need{{groupAdminOf: op.Group}}, nil }

func ticketOwner(op *Op) ([]need, error) { return []need{{ownerOf: op.Owner}}, nil }

// OperationNames returns the name of every operation, sorted: what rules
// may name in "on".
func OperationNames() []string {
	out := make([]string, 0, len(operations))
	for name := range operations {
		out = append(out, string(name))
	}
	slices.Sort(out)
	return out
}

// OperationInfo describes an operation for rule tools and tests.
type OperationInfo struct {
	Name OpName
	// Facts are what it gives rules beyond the caller (Fact* constants).
	Facts []string
	// ByZone: the zone does it on a user's behalf (at a login); no client
	// asks for it.
	ByZone bool
}

// LookupOperation describes the named operation, if there is one.
func LookupOperation(name string) (OperationInfo, bool) {
	o, ok := operations[OpName(name)]
	return OperationInfo{Name: OpName(name), Facts: o.facts, ByZone: o.byZone}, ok
}

// requirements is what op needs, from the one table.
func requirements(op *Op) ([]need, error) {
	o, ok := operations[op.Name]
	if !ok {
		return nil, fmt.Errorf("operation %q has no permission rule: %w", op.Name, catalog.ErrPermission)
	}
	return o.needs(op)
}
