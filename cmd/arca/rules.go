package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/policies"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// errTestsFailed makes arca rules test exit 1.
var errTestsFailed = errors.New("rule tests failed")

// errNoTests is arca rules test of a directory without test cases: exit 1.
var errNoTests = errors.New("no rule tests")

func newRulesCommand(out io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work with rule files offline",
	}
	var zone string
	test := &cobra.Command{
		Use:   "test DIR...",
		Short: "Load the rule files of DIR and run the test cases beside them",
		Long: `arca rules test loads the rule files (*.yaml) of each DIR with the same
environment and actions a zone has, reports load errors with file, line,
column and rule, then runs the test cases of the *.test.yaml files beside
them: an operation, the facts it meets, and the decision expected. No zone
is needed and nothing runs; see "go doc github.com/arca-data/arca/rules
TestCase" for the format. The exit status is 1 when a file does not load,
a case fails, or a DIR holds no test case at all (a wrong directory tests
nothing, and must not pass).`,
		Example: `  arca rules test examples/rules
  arca rules test /srv/arca/rules --zone labZone`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			engine, err := offlineEngine()
			if err != nil {
				return err
			}
			results, err := engine.TestDirs(cmd.Context(), zone, args...)
			if err != nil {
				return err
			}
			for _, dir := range args {
				if !slices.ContainsFunc(results, func(r rules.TestResult) bool { return filepath.Dir(r.File) == filepath.Clean(dir) }) {
					return fmt.Errorf("%w: %s holds no test case (*.test.yaml beside the rule files)", errNoTests, dir)
				}
			}
			failed := 0
			for _, r := range results {
				fmt.Fprintln(out, r)
				if r.Err != nil {
					failed++
				}
			}
			fmt.Fprintf(out, "%d cases, %d failed\n", len(results), failed)
			if failed > 0 {
				return fmt.Errorf("%w: %d of %d", errTestsFailed, failed, len(results))
			}
			return nil
		},
	}
	test.Flags().StringVar(&zone, "zone", zones.DefaultZone, "the zone name the rules see")
	cmd.AddCommand(test)
	return cmd
}

// offlineEngine is an engine with the zone's actions, for checks and
// tests: no catalog, and no action ever runs.
func offlineEngine() (*rules.Engine, error) {
	quiet := slog.New(slog.DiscardHandler)
	reg := rules.NewRegistry()
	if err := policies.Register(reg, nil, quiet); err != nil {
		return nil, err
	}
	return rules.New(rules.Options{Registry: reg, Logger: quiet})
}
