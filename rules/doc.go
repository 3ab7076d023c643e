// Package rules is Arca's policy engine: data stewards write rules in
// YAML files whose conditions, messages and action arguments are CEL
// expressions, and the zone evaluates them around every operation, the
// way iRODS policy enforcement points fire pre, post, except and finally.
//
// A rule file:
//
//	rules:
//	  - name: no-tmp-files          # unique in the rule set
//	    on: [put]                   # operation names; "metadata.*" and "*" match several
//	    when: pre                   # pre (default) | post | except | finally
//	    priority: 0                 # higher fires first
//	    mode: enforce               # or warn: a deny is only logged and audited
//	    failure: closed             # or open: a rule that fails is skipped
//	    condition: object.name.endsWith(".tmp")    # bool; no condition: always
//	    deny: '"temporary files are not archived: " + object.path'   # string; pre only
//	    then:                       # actions, each {name: {argument: CEL, ...}}
//	      - metadata.set: {attribute: "'ingested_by'", value: "user.name"}
//	      - schedule: {after: 2s, do: [...]}   # or every: "@daily" / cron, or async: true
//
// A periodic rule fires on a cron schedule instead of an operation (op.name
// is "every"); its condition and actions are evaluated when it runs, by
// one server of the zone, through the job queue:
//
//	rules:
//	  - name: nightly-replication
//	    every: "0 2 * * *"          # cron, "@daily", "@every 1h"
//	    then:
//	      - replicate: {resource: "'archiveResc'", path: "'/' + zone + '/projects'"}
//
// # Order
//
// The rules of a phase that match an operation fire in one defined order:
// higher priority first; among equal priorities by file name, then in the
// order they are written in the file. In the pre phase every matching
// rule's condition is evaluated in that order and the first rule that
// denies (in enforce mode) refuses the operation: later rules are not
// evaluated and no pre action runs, so a denied operation changes nothing.
// When nothing denies, the actions of the matching pre rules run in order
// (a later resource.choose overrides an earlier one). Post rules run after
// a successful operation, except rules after a failed or denied one, and
// finally rules after either; their failures are logged and audited, as the
// operation cannot be undone.
//
// # Evaluation
//
// Every expression is compiled and type-checked once, when its file loads;
// a rule whose condition is not a bool, whose deny is not a string, which
// names an unknown variable, field or action, or whose name is taken, does
// not load, and the error names file:line:column and the rule. A broken
// file never replaces a working rule set. Each evaluation has a cost limit
// (Options.CostLimit; an expression whose worst case, estimated at load,
// stays under it runs untracked) and every phase of an operation a
// deadline (Options.Timeout). A rule that fails to evaluate denies the operation
// (failure: closed, the default) or is skipped (failure: open).
//
// Facts that cost a catalog lookup (the object's record, its metadata, the
// metadata of each collection above it, the user's groups, the resource's
// record) are fetched only when a rule reads them, at most once per
// operation. Rules are indexed by phase and operation, so rules that do not
// match an operation cost it nothing.
//
// # Variables
//
//	op        arca.Op        name, path, dest, resource, size, metadata, newMetadata,
//	                         group, grantee, level, account, recursive, admin
//	user      arca.User      name, zone, type, groups, metadata
//	object    arca.Object    path, name, parent, components, exists, kind, size,
//	                         checksum, owner, created, modified, replicas (number,
//	                         resource, status, size, checksum), metadata,
//	                         metadataValues, parentMetadata, ancestors (path, name,
//	                         metadata, metadataValues)
//	dest      arca.Object    the destination of rename and copy
//	resource  arca.Resource  name, type, status, metadata: the target resource
//	zone      string
//	now       timestamp
//	error     string         "" unless the operation failed (except, finally)
//
// Every operation carries its arguments in op:
//
//	op.path, op.dest     what it acts on; the destination of rename and copy
//	                     (dest is that object: dest.exists, dest.ancestors, ...)
//	op.size              what a put announces; -1 when unknown (no other
//	                     negative size gets this far: a bad request); a
//	                     rule that bounds sizes decides about -1 too, as in
//	                     op.size > 10 * GiB || op.size == -1
//	op.metadata          the AVUs it gives: what put, metadata.add and
//	                     metadata.set attach, what metadata.remove removes,
//	                     the attribute metadata.list asks for; for
//	                     metadata.modify the old AVU
//	op.newMetadata       the AVUs as it leaves them: the new AVU of
//	                     metadata.modify, what put, metadata.add and
//	                     metadata.set attach; empty for the others
//	op.grantee, op.level acl.set: who is granted what (null, read, write,
//	                     own; null removes the grant); op.level is also the
//	                     type of the ticket ticket.create makes
//	op.account           the account user.* operations act on, the member
//	                     group.add and group.remove_member add or remove,
//	                     the user whose AVUs metadata.* acts on (imeta -u)
//	op.resource          the target of put and copy, the resource of
//	                     replicate, trim and physmove, the resource whose
//	                     AVUs metadata.* acts on (imeta -R)
//	op.group             the group of group.* operations
//	op.recursive         ichmod -r, irm -r, irepl -r, itrim -r, iphymv -r
//	op.admin             ichmod -M
//
// Users and groups of this zone are written by name ("bob"), those of
// another zone as name#zone ("bob#otherZone").
//
// Metadata maps go from attribute to value (the first value when there are
// several; object.metadataValues maps each attribute to all of its values,
// as in "raw" in object.metadataValues.?stage.orValue([])). Reading a
// missing key is an error; write object.metadata.?project.orValue("") or
// "project" in object.metadata.
//
// object.ancestors lists the collections above the object, nearest first,
// up to "/": for /tempZone/projects/p1/raw/a.tif, /tempZone/projects/p1/raw,
// /tempZone/projects/p1, /tempZone/projects, /tempZone and /. Each has
// path, name, metadata and metadataValues; the metadata of each is read
// only when a rule reads it (object.parentMetadata is the first one's):
//
//	object.ancestors.exists(a, "retention_until" in a.metadata)
//	object.ancestors.filter(a, "project" in a.metadata)[0].metadata.project   # the nearest
//	object.ancestors.map(a, a.metadata.?retention_until.orValue("")).filter(d, d != "")
//
// # Functions
//
// Paths, as strings (op.dest, a metadata value) or through the facts
// (object.name, object.parent and object.components are the same as
// path.base, path.dir and path.components of object.path):
//
//	path.base("/tempZone/home/alice/x.dat")        "x.dat"
//	path.dir("/tempZone/home/alice/x.dat")         "/tempZone/home/alice"
//	path.components("/tempZone/home/alice/x.dat")  ["tempZone", "home", "alice", "x.dat"]
//	path.join(["tempZone", "projects", "p1"])      "/tempZone/projects/p1"
//	path.join(object.components.slice(0, 3))       the project collection of /tempZone/projects/P/...
//	object.path.glob("/tempZone/**/*.tmp")         * within a component, ** across
//	object.path.under("/tempZone/home")            by whole components: /tempZone/homes is not under it
//
// Sizes and times: byteSize("10GiB") and the constants KiB, MiB, GiB,
// TiB; days(7) (a duration); date("2030-01-01") (a timestamp, also RFC
// 3339).
//
// CEL's string, list and math extensions (cel-go/ext):
//
//	"a;b".split(";")  s.substring(0, 3)  s.replace("tmp", "")  s.lowerAscii()
//	s.upperAscii()  s.trim()  s.indexOf("x")  s.lastIndexOf(".")  s.charAt(0)
//	s.reverse()  ["a", "b"].join("/")  "%s is %d bytes".format([s, n])
//	strings.quote(s)
//	l.slice(1, 3)  l.sort()  l.sortBy(x, x.size())  l.distinct()  l.flatten()
//	l.reverse()  l.first()  l.last()  lists.range(5)
//	math.greatest(a, b, ...)  math.least(list)  math.abs(n)  math.sign(n)
//	math.ceil(x)  math.floor(x)  math.round(x)  math.trunc(x)  math.sqrt(x)
//	math.isNaN(x)  math.bitAnd(a, b) ...
//
// Their cost counts against the cost limit like everything else: a rule
// that would build a huge list or string fails (closed, unless it says
// failure: open).
//
// # Actions
//
// Actions come from a Registry built with the zone; policy code registers
// more. schedule is the engine's own: its do actions are evaluated when
// the rule fires and kept as a durable job in the catalog, run after a
// delay, periodically (cron) or as soon as possible, exactly once even
// with several servers on one catalog.
package rules
