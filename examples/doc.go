// Package examples holds data-steward scenarios that run in CI: the rule
// files in examples/rules, each loaded into a real zone (SQLite catalog,
// POSIX vault) by examples_test.go and exercised with the operations it is
// about, so that an example cannot rot. Load a file (with its test cases)
// into a zone with irule load FILE..., or copy it into DIR/rules of a
// server, to use it.
//
//	no-tmp-files.yaml      refuse *.tmp, *.swp, *.part and *~ on put, copy and rename
//	stamp-ingest.yaml      who and when on every put, and a fixity job scheduled
//	retention.yaml         no remove or rename before retention_until
//	resource-by-size.yaml  puts of 1 GiB or more go to archiveResc
//	require-project.yaml   puts under /ZONE/projects need a project AVU; objects inherit it
//	access-time.yaml       last_access on every get; an embargo rule in warn mode
//	replicate-projects.yaml  a second copy of project data on archiveResc, in the background
//	nightly-replication.yaml a periodic rule: project data replicated every night, reported in the audit log
//	tier-cold.yaml         a periodic rule with a selection: project objects unread for 30 days move to archiveResc
//	keeper-certificate.yaml  a signed preservation certificate once a collection's archive metadata is complete (certificates_test.go)
//
// The README of the engine is the package documentation of rules.
package examples
