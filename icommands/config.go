package icommands

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/arca-data/arca/catalog"
)

// Environment is what iinit stores under the configuration directory
// (~/.arca, or ARCA_CONFIG_DIR): where the zone is and who the user is.
type Environment struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	Zone string `json:"zone"`
	User string `json:"user"`
	// CAFile is the zone CA's certificate, copied into the configuration directory.
	CAFile          string `json:"ca_file"`
	Home            string `json:"home"`
	Cwd             string `json:"cwd"`
	DefaultResource string `json:"default_resource,omitempty"`
}

const (
	envFile     = "environment.json"
	sessionFile = "session"
	caFile      = "ca.pem"
)

// configDir is the directory icommands keep their state in.
func configDir(getenv func(string) string) (string, error) {
	if d := getenv("ARCA_CONFIG_DIR"); d != "" {
		return d, nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("no configuration directory: set ARCA_CONFIG_DIR: %w", err)
		}
	}
	return filepath.Join(home, ".arca"), nil
}

var errNoEnvironment = errors.New("not connected to a zone: run iinit first")

func loadEnvironment(dir string) (Environment, error) {
	var env Environment
	b, err := os.ReadFile(filepath.Join(dir, envFile))
	if errors.Is(err, fs.ErrNotExist) {
		return env, errNoEnvironment
	}
	if err != nil {
		return env, err
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return env, fmt.Errorf("%s: %w", filepath.Join(dir, envFile), err)
	}
	return env, nil
}

func saveEnvironment(dir string, env Environment) error {
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, envFile), append(b, '\n'), 0o600)
}

// writeFileAtomic replaces path with data so that a reader never sees half a file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// cwd is the working collection, the home collection when none was set.
func (e Environment) cwd() catalog.Path {
	for _, s := range []string{e.Cwd, e.Home} {
		if p, err := catalog.ParsePath(s); err == nil {
			return p
		}
	}
	return catalog.MustPath("/" + e.Zone)
}
