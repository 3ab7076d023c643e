package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/arca-data/arca/internal/server"
	"github.com/arca-data/arca/policies/raid"
)

// TestScriptPID runs testdata/pid/*.txtar like TestScript, against a zone
// that mints PIDs under 21.T12995 (landing pages at
// https://pid.example.org) and RAiDs under 10.82841.
func TestScriptPID(t *testing.T) {
	cfg := server.ServerConfig{
		PID:  server.PIDConfig{Prefix: "21.T12995", URL: "https://pid.example.org"},
		RAiD: raid.Config{Prefix: "10.82841", Owner: "038sjwq14"},
	}
	testscript.Run(t, scriptParams("testdata/pid", cfg, nil))
}
