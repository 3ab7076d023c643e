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
//	    async: true                 # post, except, finally: data-moving actions run as a job (default)
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
// With select, a periodic rule applies to the data objects a query
// selects: its condition and actions are evaluated on each of them in turn
// (object and op.path are the object), as for an operation on it. This is
// how tiering, expiry and fixity run:
//
//	rules:
//	  - name: tier-cold
//	    every: "@hourly"
//	    select: >-
//	      "select COLL_NAME, DATA_NAME where COLL_NAME like '/" + zone + "/projects/%'" +
//	      " and DATA_RESC_NAME = 'fastResc' and DATA_MODIFY_TIME < '" + string(now - days(30)) + "'"
//	    condition: '!("pinned" in object.metadata)'
//	    then:
//	      - move: {from: "'fastResc'", resource: "'tapeResc'"}
//
// select is a CEL expression that gives the query, in iquest syntax
// (package catalog/query), so that it can say "30 days ago": it is
// evaluated once when a run starts, with now (the run's start, kept if the
// run resumes) and zone; a rule whose select does not evaluate to a query
// of data objects does not load. The query selects data objects (its
// select list names DATA_NAME or DATA_ID) with any condition of iquest; it
// has no aggregates, group by, order by or offset, and a limit bounds the
// objects of one run. It runs as the zone's administrator, so it sees
// every object. A run takes the objects in the order of their catalog ids,
// DefaultSelectBatch (100) at a time (zones.JobOptions.SelectBatch): before
// it evaluates a batch, it claims it by saving the last id in the job
// (catalog Job.State, under the job's lease), and records the objects it
// finished. A run stopped by a restart resumes where it was, on whichever
// server claims the job; a server that takes over a run whose server lost
// it resumes after the claimed batch, so no two servers evaluate one object
// in one run (objects of a batch whose server died wait for the next run,
// and the audit log says which). An object whose condition or actions fail
// is audited and counted; the run goes on. The audit log gets one "periodic
// run" record per run with the objects selected, matched and failed.
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
// with several servers on one catalog:
//
//	then:
//	  - schedule:
//	      after: 30d                # or every: CRON, or async: true (as soon as possible)
//	      recheck: true             # when it runs, only if the rule's condition still holds
//	      do:
//	        - move: {resource: "'tapeResc'"}
//
// # Jobs
//
// A job's actions run with the job's own time budget
// (zones.JobOptions.MaxRun, 6 hours by default), not under the deadline of
// an operation's phase: a replication of a large object completes. Only
// the evaluation of conditions and arguments has that deadline.
//
// Actions that move data (Action.Async: replicate, trim, move) run as a
// job when a post, except or finally rule calls them: the operation
// returns without waiting for them. The rule's actions from the first of
// them on make one job, due at once, their arguments evaluated when the
// rule fires; those before it run in the operation. A rule with async:
// false runs them in the operation, under its deadline.
//
// With recheck: true the job evaluates its rule's condition again when it
// runs, on the object as it is then, and does nothing if the condition no
// longer holds ("move if still unread after 30 days"); a job whose rule is
// gone by then is removed.
//
// A job acts on the operation's object; the jobs of rename and copy act on
// the destination. A rule has at most one pending job per object:
// scheduling again replaces it, and a rule that would make two jobs each
// time it fires (two schedules, or a schedule after a data-moving action)
// does not load. Removing the object (irm, or renaming it away) cancels
// its pending jobs, and so does removing the rule from the rule set. A
// job keeps the depth in actions it was scheduled at and its actions run
// one deeper, so rules whose jobs set each other off stop at
// MaxActionDepth, as rules whose actions do. A rule that has as many live
// jobs as the zone allows one rule (zones.Options.JobsPerRule, 10,000 by
// default) schedules no more until they drain; the audit log names it
// ("job cap"), once a minute at most.
package rules
