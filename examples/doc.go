// Package examples holds runnable data-steward scenarios: rule sets with
// their test cases and scripted icommand sessions, run in CI. The first ones
// arrive with the rule engine; until then the end-to-end walk-through of the
// README lives in cmd/arca/testdata/script/walkthrough.txtar.
package examples
