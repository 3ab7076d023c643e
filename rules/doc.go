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
// parent collection's metadata, the user's groups, the resource's record)
// are fetched only when a rule reads them, at most once per operation.
// Rules are indexed by phase and operation, so rules that do not match an
// operation cost it nothing.
//
// # Variables
//
//	op        arca.Op        name, path, dest, resource, size, metadata (AVUs given), group, admin
//	user      arca.User      name, zone, type, groups, metadata
//	object    arca.Object    path, name, parent, exists, kind, size, checksum, owner,
//	                         created, modified, replicas (number, resource, status,
//	                         size, checksum), metadata, metadataValues, parentMetadata
//	dest      arca.Object    the destination of rename and copy
//	resource  arca.Resource  name, type, status, metadata: the target resource
//	zone      string
//	now       timestamp
//	error     string         "" unless the operation failed (except, finally)
//
// Metadata maps go from attribute to value (the first value when there are
// several; object.metadataValues maps each attribute to all of its values,
// as in "raw" in object.metadataValues.?stage.orValue([])). Reading a
// missing key is an error; write object.metadata.?project.orValue("") or
// "project" in object.metadata.
//
// Functions beside CEL's own: path.glob("/tempZone/**/*.tmp") (* within a
// component, ** across), path.under("/tempZone/home") (by whole
// components), byteSize("10GiB") and the constants KiB, MiB, GiB, TiB,
// days(7) (a duration), date("2030-01-01") (a timestamp).
//
// # Actions
//
// Actions come from a Registry built with the zone; policy code registers
// more. schedule is the engine's own: its do actions are evaluated when
// the rule fires and kept as a durable job in the catalog, run after a
// delay, periodically (cron) or as soon as possible, exactly once even
// with several servers on one catalog.
package rules
