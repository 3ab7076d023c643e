package icommands

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/arca-data/arca/api/arcapb"
)

func newIinit(a *app) *cobra.Command {
	var env Environment
	var ca string
	cmd := &cobra.Command{
		Use:   "iinit [--host H] [--port P] [--zone Z] [--user U] [--ca FILE]",
		Short: "Log in to a zone and remember the connection",
		Long: `iinit logs in to an Arca zone and stores the connection and a session
token under ~/.arca (or $ARCA_CONFIG_DIR). Every other icommand uses them.
The password comes from $ARCA_PASSWORD or is asked for. The zone checks it
as the account says: its own password for native users (such as rods), the
zone's LDAP directory for directory users, whose first login creates their
account and home. The zone's CA
certificate (DIR/tls/ca.pem of the server) is copied there on the first
login; the server must present a certificate that chains to it.`,
		Example: `  iinit --host localhost --port 1247 --zone tempZone --user rods --ca /srv/arca/tls/ca.pem
  ARCA_PASSWORD=secret iinit --user alice      # later logins reuse the stored settings
  iinit --user anonymous --host h --ca ca.pem  # no account: only --ticket works`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIinit(cmd.Context(), a, cmd, env, ca)
		},
	}
	f := cmd.Flags()
	f.StringVar(&env.Host, "host", "localhost", "server host name")
	f.IntVar(&env.Port, "port", 1247, "server port")
	f.StringVar(&env.Zone, "zone", "tempZone", "zone name")
	f.StringVar(&env.User, "user", "rods", "user name")
	f.StringVar(&ca, "ca", "", "the zone's CA certificate (PEM); needed the first time")
	return cmd
}

func runIinit(ctx context.Context, a *app, cmd *cobra.Command, env Environment, ca string) (err error) {
	dir, err := configDir(a.Getenv)
	if err != nil {
		return err
	}
	// Settings not given on the command line come from the stored environment.
	if old, err := loadEnvironment(dir); err == nil {
		for flag, keep := range map[string]func(){
			"host": func() { env.Host = old.Host }, "port": func() { env.Port = old.Port },
			"zone": func() { env.Zone = old.Zone }, "user": func() { env.User = old.User },
		} {
			if !cmd.Flags().Changed(flag) {
				keep()
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	env.CAFile = filepath.Join(dir, caFile)
	if ca != "" {
		pemBytes, rerr := os.ReadFile(ca)
		if rerr != nil {
			return localError(fmt.Errorf("--ca: %w", rerr))
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pemBytes) {
			return fmt.Errorf("--ca %s holds no PEM certificate", ca)
		}
		// The CA in use until now stays if this login fails: a wrong --ca
		// must not break the next iinit too.
		restore, rerr := replaceFile(env.CAFile, pemBytes)
		if rerr != nil {
			return rerr
		}
		defer func() {
			if err != nil { // runIinit's result
				restore()
			}
		}()
	} else if _, err := os.Stat(env.CAFile); err != nil {
		return usagef("--ca FILE is needed the first time: the zone's CA certificate (DIR/tls/ca.pem of the server)")
	}
	if env.User == anonymousUser {
		return initAnonymous(a, dir, env)
	}
	password := a.Getenv("ARCA_PASSWORD")
	if password == "" {
		if password, err = readPassword(a, env.User); err != nil {
			return err
		}
	}
	var expires int64
	if env, expires, err = logIn(ctx, dir, env, password); err != nil {
		return err
	}
	if a.json {
		return a.printJSON(map[string]any{"user": env.User, "zone": env.Zone, "host": env.Host, "port": env.Port, "home": env.Home, "expires_unix": expires})
	}
	return nil
}

// logIn logs in to the zone of env with password, and stores the session
// and env, its working collection reset to the home, in dir. It returns
// env so completed and when the session expires.
func logIn(ctx context.Context, dir string, env Environment, password string) (Environment, int64, error) {
	c, err := dialWith(dir, env, tokenCreds{})
	if err != nil {
		return env, 0, err
	}
	defer c.close()
	resp, err := c.auth.Login(ctx, &arcapb.LoginRequest{User: env.User, Zone: env.Zone, Password: password})
	if err != nil {
		return env, 0, fmt.Errorf("log in to %s:%d as %s#%s: %w", env.Host, env.Port, env.User, env.Zone, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, sessionFile), []byte(resp.Token+"\n"), 0o600); err != nil {
		return env, 0, err
	}
	authed, err := dialWith(dir, env, tokenCreds{token: resp.Token})
	if err != nil {
		return env, 0, err
	}
	defer authed.close()
	who, err := authed.auth.WhoAmI(ctx, &arcapb.WhoAmIRequest{})
	if err != nil {
		return env, 0, err
	}
	env.Home, env.Cwd, env.DefaultResource = who.Home, who.Home, who.DefaultResource
	return env, resp.ExpiresUnix, saveEnvironment(dir, env)
}

// replaceFile writes data to path and returns what puts back the file that
// was there (or removes path if there was none).
func replaceFile(path string, data []byte) (restore func(), err error) {
	old, rerr := os.ReadFile(path)
	if err := writeFileAtomic(path, data, 0o644); err != nil {
		return nil, err
	}
	return func() {
		if rerr == nil {
			writeFileAtomic(path, old, 0o644)
		} else {
			os.Remove(path)
		}
	}, nil
}

// anonymousUser has no account and no password: it stores the connection
// without logging in, for icommands run with --ticket, as iRODS's anonymous.
const anonymousUser = "anonymous"

func initAnonymous(a *app, dir string, env Environment) error {
	if err := os.Remove(filepath.Join(dir, sessionFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	env.Home, env.Cwd = "/"+env.Zone, "/"+env.Zone
	if err := saveEnvironment(dir, env); err != nil {
		return err
	}
	if a.json {
		return a.printJSON(map[string]any{"user": env.User, "zone": env.Zone, "host": env.Host, "port": env.Port, "home": env.Home})
	}
	fmt.Fprintf(a.Err, "anonymous: no session; use ils, iget and iput with --ticket\n")
	return nil
}

// readPassword asks on the terminal, or reads one line from standard input.
func readPassword(a *app, user string) (string, error) {
	pw, err := readSecret(a, "Enter the password of "+user+": ")
	if err != nil {
		return "", errors.New("no password: set ARCA_PASSWORD or type it on standard input")
	}
	return pw, nil
}

// readSecret asks with prompt on the terminal, without echo, or reads one
// line from standard input when it is not a terminal. It reads no further
// than that line, so what follows on standard input is left for others (a
// script's while-read loop, say). io.EOF means there was no line.
func readSecret(a *app, prompt string) (string, error) {
	if f, ok := a.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.Err, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.Err)
		return string(b), err
	}
	br, ok := a.In.(io.ByteReader)
	if !ok {
		br = byteReader{a.In}
	}
	var line []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			if len(line) == 0 {
				return "", io.EOF
			}
			break
		}
		if c == '\n' {
			break
		}
		line = append(line, c)
	}
	return strings.TrimRight(string(line), "\r"), nil
}

// byteReader reads one byte at a time from r.
type byteReader struct{ r io.Reader }

func (b byteReader) ReadByte() (byte, error) {
	var p [1]byte
	for {
		n, err := b.r.Read(p[:])
		if n == 1 {
			return p[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}
