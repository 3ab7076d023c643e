package server

import (
	"fmt"

	"github.com/arca-data/arca/policies/pid"
	"github.com/arca-data/arca/policies/raid"
)

// PIDFile is the pid section of the configuration file.
type PIDFile struct {
	Prefix     string          `yaml:"prefix,omitempty"`
	URL        string          `yaml:"url,omitempty"`
	HandleREST *HandleRESTFile `yaml:"handle_rest,omitempty"`
}

// HandleRESTFile names a Handle service that keeps the zone's PIDs.
type HandleRESTFile struct {
	URL          string `yaml:"url,omitempty"`
	User         string `yaml:"user,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	CA           string `yaml:"ca,omitempty"`
}

// RAiDFile is the raid section of the configuration file.
type RAiDFile struct {
	Prefix       string `yaml:"prefix,omitempty"`
	Owner        string `yaml:"owner,omitempty"`
	Agency       string `yaml:"agency,omitempty"`
	ServicePoint int64  `yaml:"service_point,omitempty"`
}

// PIDConfig is how the zone mints and serves PIDs; an empty Prefix mints
// none.
type PIDConfig struct {
	Prefix string
	// URL is the base of landing pages: https://HOST[:PORT] (default: the
	// HTTPS listener's address, --http).
	URL string
	// HandleREST, when its URL is set, keeps the records with that
	// Handle service instead of the zone's own registry.
	HandleREST HandleRESTConfig
}

// HandleRESTConfig is a Handle service.
type HandleRESTConfig struct {
	URL, User, PasswordFile, CAFile string
}

func (c ConfigFile) checkPolicies() error {
	if p := c.PID; p != nil {
		if _, err := pid.ParsePrefix(p.Prefix); err != nil {
			return fmt.Errorf("pid: %w", err)
		}
		if r := p.HandleREST; r != nil && r.URL == "" {
			return fmt.Errorf("pid: handle_rest: url is missing")
		}
	}
	if r := c.RAiD; r != nil {
		if _, err := raid.New(nil, raid.Config{Prefix: r.Prefix, Owner: r.Owner, Agency: r.Agency}); err != nil {
			return fmt.Errorf("raid: %w", err)
		}
	}
	return nil
}

func (c ConfigFile) policies(sc *ServerConfig) {
	if p := c.PID; p != nil {
		sc.PID = PIDConfig{Prefix: p.Prefix, URL: p.URL}
		if r := p.HandleREST; r != nil {
			sc.PID.HandleREST = HandleRESTConfig{URL: r.URL, User: r.User, PasswordFile: r.PasswordFile, CAFile: r.CA}
		}
	}
	if r := c.RAiD; r != nil {
		sc.RAiD = raid.Config{Prefix: r.Prefix, Owner: r.Owner, Agency: r.Agency, ServicePoint: r.ServicePoint}
	}
}
