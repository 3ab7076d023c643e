package icommands

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newIpwd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "ipwd",
		Short:   "Print the working collection",
		Long:    `ipwd prints the working collection, which relative logical paths start from.`,
		Example: `  ipwd`,
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := configDir(a.Getenv)
			if err != nil {
				return err
			}
			env, err := loadEnvironment(dir)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]string{"cwd": env.cwd().String()})
			}
			fmt.Fprintln(a.Out, env.cwd())
			return nil
		},
	}
}
