package icommands

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newIenv(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ienv",
		Short: "Show the stored connection",
		Long:  `ienv prints the connection settings that iinit stored.`,
		Example: `  ienv
  ienv --json`,
		Args: exactArgs(0),
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
				return a.printJSON(map[string]any{"config_dir": dir, "host": env.Host, "port": env.Port, "zone": env.Zone,
					"user": env.User, "home": env.Home, "cwd": env.cwd().String(), "ca_file": env.CAFile, "default_resource": env.DefaultResource})
			}
			fmt.Fprintf(a.Out, "config_dir - %s\n", dir)
			fmt.Fprintf(a.Out, "arca_host - %s\narca_port - %d\narca_zone_name - %s\narca_user_name - %s\n", env.Host, env.Port, env.Zone, env.User)
			fmt.Fprintf(a.Out, "arca_home - %s\narca_cwd - %s\narca_default_resource - %s\narca_ca_file - %s\n",
				env.Home, env.cwd(), env.DefaultResource, filepath.Clean(env.CAFile))
			return nil
		},
	}
}
