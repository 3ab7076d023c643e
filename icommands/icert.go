package icommands

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/api/certificate"
)

func newIcert(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "icert issue|ls|show|verify|fixity ...",
		Short: "Issue, list, show and verify preservation certificates",
		Long: `icert handles preservation certificates: signed statements of what a
collection or data object holds (each object's size, SHA-256 and SHA-512),
where its replicas are, how long it is retained, under which rules, and who
certified it when. A certificate is one self-contained file: a JSON body in
RFC 8785 canonical form, signed as a JWS by the zone's certificate-signing
key, whose X.509 chain to the zone's CA travels with it (x5c), and the
BagIt manifests (manifest-sha512.txt, manifest-sha256.txt) that the body
signs. icert verify checks one offline, with nothing but the zone's CA
certificate (ca.pem).`,
		Example: `  icert issue -o pkg42.cert projects/pkg42
  icert ls projects
  icert show pkg42.cert
  icert verify pkg42.cert --ca ca.pem --data ./pkg42`,
		Args: func(cmd *cobra.Command, args []string) error {
			return usagef("name a subcommand: issue, ls, show, verify or fixity")
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	subs := []*cobra.Command{newIcertIssue(a), newIcertLs(a), newIcertShow(a), newIcertVerify(a), newIcertFixity(a)}
	setup(a, subs)
	cmd.AddCommand(subs...)
	return cmd
}

// receiveCertificate gathers a streamed certificate: its info and file.
func receiveCertificate(stream interface {
	Recv() (*arcapb.CertificateChunk, error)
}) (*arcapb.CertificateInfo, []byte, error) {
	var (
		info *arcapb.CertificateInfo
		file bytes.Buffer
	)
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if m.Info != nil {
			info = m.Info
		}
		file.Write(m.Data)
	}
	if info == nil {
		return nil, nil, errors.New("the zone sent no certificate")
	}
	return info, file.Bytes(), nil
}

func certInfoJSON(c *arcapb.CertificateInfo) map[string]any {
	return map[string]any{"id": c.Id, "subject": c.Subject, "issuer": c.Issuer, "issued": time.Unix(c.IssuedUnix, 0).UTC().Format(time.RFC3339),
		"objects": c.Objects, "bytes": c.Bytes, "superseded_by": c.SupersededBy}
}

func newIcertIssue(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "issue [-o FILE] PATH",
		Short: "Certify a collection or data object",
		Long: `icert issue certifies the collection or data object at PATH, stores the
certificate in the zone and writes it to FILE (default: standard output).
Issuing is for rodsadmin and the zone's steward group, and you must be able
to read all of PATH. Digests come from the catalog: only an object whose
SHA-512 the zone has not computed yet is read, once. A new certificate of
the same subject names the previous one, which is marked superseded and
stays verifiable.`,
		Example: `  icert issue -o pkg42.cert projects/pkg42
  icert issue projects/pkg42/run1.h5 > run1.cert`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			p, err := c.resolve(args[0])
			if err != nil {
				return err
			}
			stream, err := arcapb.NewCertificatesClient(c.conn).Issue(ctx, &arcapb.IssueCertificateRequest{Path: p.String()})
			if err != nil {
				return err
			}
			info, file, err := receiveCertificate(stream)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err := a.Out.Write(file)
				return err
			}
			if err := os.WriteFile(out, file, 0o644); err != nil {
				return localError(err)
			}
			if a.json {
				j := certInfoJSON(info)
				j["file"] = out
				return a.printJSON(j)
			}
			fmt.Fprintf(a.Out, "%s\t%s (%d objects)\n", info.Id, info.Subject, info.Objects)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the certificate to FILE (default: standard output)")
	return cmd
}

func newIcertLs(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ls [PATH]",
		Short: "List the certificates of a collection or data object",
		Long: `icert ls lists the certificates of PATH (default: the current
collection) and of everything below it, newest first: id, time of issue,
objects, subject, and whether a newer certificate superseded it.`,
		Example: `  icert ls
  icert ls --json projects/pkg42`,
		Annotations: map[string]string{jsonLines: "certificate"},
		Args:        rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			p, err := c.resolve(arg)
			if err != nil {
				return err
			}
			r, err := arcapb.NewCertificatesClient(c.conn).List(ctx, &arcapb.ListCertificatesRequest{Path: p.String()})
			if err != nil {
				return err
			}
			for _, ci := range r.Certificates {
				if a.json {
					if err := a.printJSON(certInfoJSON(ci)); err != nil {
						return err
					}
					continue
				}
				note := ""
				if ci.SupersededBy != "" {
					note = "  (superseded by " + ci.SupersededBy + ")"
				}
				fmt.Fprintf(a.Out, "%s  %s  %6d objects  %s%s\n", ci.Id, time.Unix(ci.IssuedUnix, 0).UTC().Format(time.RFC3339), ci.Objects, ci.Subject, note)
			}
			return nil
		},
	}
	return cmd
}

// certificateFile reads CERT: a local file, or else a certificate id the
// zone is asked for.
func (a *app) certificateFile(ctx context.Context, ref string) ([]byte, error) {
	data, err := os.ReadFile(ref)
	if err == nil {
		return data, nil
	}
	if !strings.HasPrefix(ref, "urn:uuid:") {
		return nil, localError(err)
	}
	c, err := a.connect(ctx)
	if err != nil {
		return nil, err
	}
	stream, err := arcapb.NewCertificatesClient(c.conn).Show(ctx, &arcapb.ShowCertificateRequest{Id: ref})
	if err != nil {
		return nil, err
	}
	_, file, err := receiveCertificate(stream)
	return file, err
}

// unverifiedBody reads a certificate's body without checking anything,
// for show.
func unverifiedBody(data []byte) (certificate.Body, error) {
	f, err := certificate.ParseFile(data)
	if err != nil {
		return certificate.Body{}, err
	}
	parts := strings.Split(f.JWS, ".")
	if len(parts) != 3 {
		return certificate.Body{}, errors.New("certificate file: the JWS is not header.payload.signature")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return certificate.Body{}, fmt.Errorf("certificate file: %w", err)
	}
	var b certificate.Body
	if err := json.Unmarshal(payload, &b); err != nil {
		return certificate.Body{}, fmt.Errorf("certificate body: %w", err)
	}
	return b, nil
}

func newIcertShow(a *app) *cobra.Command {
	var html bool
	cmd := &cobra.Command{
		Use:   "show [--html] CERT",
		Short: "Show what a certificate certifies",
		Long: `icert show prints what a certificate certifies, by whom, until when,
and how to verify it. CERT is a certificate file, or a certificate id
(urn:uuid:...) that the zone is asked for. --html writes a page for people.
show checks nothing: icert verify does.`,
		Example: `  icert show pkg42.cert
  icert show --html pkg42.cert > pkg42.html
  icert show urn:uuid:6f1c0d5e-2f7a-4c1b-9d3e-0a1b2c3d4e5f`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := a.certificateFile(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			b, err := unverifiedBody(data)
			if err != nil {
				return err
			}
			switch {
			case a.json:
				return a.printJSON(b)
			case html:
				return certPage.Execute(a.Out, b)
			}
			printBody(a.Out, b)
			return nil
		},
	}
	cmd.Flags().BoolVar(&html, "html", false, "write an HTML page")
	return cmd
}

func printBody(w io.Writer, b certificate.Body) {
	fmt.Fprintf(w, "certificate:  %s (issued %s)\n", b.ID, b.IssuedAt)
	fmt.Fprintf(w, "issuer:       %s, zone %s, by %s\n", b.Issuer.Organisation, b.Issuer.Zone, b.Issuer.IssuedBy)
	fmt.Fprintf(w, "signing key:  %s\n", b.Issuer.KeyID)
	fmt.Fprintf(w, "subject:      %s (%s, last modified %s)\n", b.Subject.Path, b.Subject.Kind, orDash(b.Subject.Modified))
	for _, p := range b.Subject.PIDs {
		fmt.Fprintf(w, "PID:          %s\n", p)
	}
	if b.Subject.RAiD != "" {
		fmt.Fprintf(w, "RAiD:         %s\n", b.Subject.RAiD)
	}
	fmt.Fprintf(w, "objects:      %d, %d bytes; SHA-256 and SHA-512 of each in %s and %s\n", b.Manifest.ObjectCount, b.Manifest.ByteCount, certificate.ManifestSHA256, certificate.ManifestSHA512)
	for _, r := range b.Replicas {
		fmt.Fprintf(w, "replicas:     %s (%s): %d good, %d other\n", r.Resource, r.Medium, r.Good, r.Other)
	}
	if b.Retention.Locked > 0 || b.Retention.Held > 0 {
		fmt.Fprintf(w, "retention:    %d locked (until %s to %s), %d on legal hold\n", b.Retention.Locked, b.Retention.EarliestUntil, b.Retention.LatestUntil, b.Retention.Held)
	} else {
		fmt.Fprintf(w, "retention:    none\n")
	}
	fmt.Fprintf(w, "rules:        version %d, sha-256 %s\n", b.Policy.RuleSetVersion, orDash(b.Policy.RuleSetDigest))
	fmt.Fprintf(w, "QoS:          %s\n", b.QoS.Status)
	if b.Previous.ID != "" {
		fmt.Fprintf(w, "previous:     %s\n", b.Previous.ID)
	}
	fmt.Fprintf(w, "verify with:  icert verify FILE --ca ca.pem [--data DIR]   (ca.pem: the zone's CA certificate)\n")
}

var certPage = template.Must(template.New("cert").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Preservation certificate {{.ID}}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.2em .6em;text-align:left;vertical-align:top}code{font-size:90%}</style>
</head><body>
<h1>Preservation certificate</h1>
<p>{{.Issuer.Organisation}} (zone <b>{{.Issuer.Zone}}</b>) certifies that, on {{.IssuedAt}}, it held
<b>{{.Subject.Path}}</b>: {{.Manifest.ObjectCount}} object(s), {{.Manifest.ByteCount}} bytes,
whose SHA-256 and SHA-512 digests are listed in the manifests of this certificate.</p>
<table>
<tr><th>Certificate</th><td><code>{{.ID}}</code></td></tr>
<tr><th>Issued by</th><td>{{.Issuer.IssuedBy}}</td></tr>
<tr><th>Signing key</th><td><code>{{.Issuer.KeyID}}</code></td></tr>
{{range .Subject.PIDs}}<tr><th>PID</th><td>{{.}}</td></tr>{{end}}
{{with .Subject.RAiD}}<tr><th>RAiD</th><td>{{.}}</td></tr>{{end}}
<tr><th>Retention</th><td>{{if .Retention.Locked}}{{.Retention.Locked}} object(s) locked until {{.Retention.EarliestUntil}} or later{{else}}none{{end}}{{if .Retention.Held}}; {{.Retention.Held}} on legal hold{{end}}</td></tr>
<tr><th>Rules in force</th><td>version {{.Policy.RuleSetVersion}} <code>{{.Policy.RuleSetDigest}}</code></td></tr>
<tr><th>QoS</th><td>{{.QoS.Status}}</td></tr>
{{with .Previous.ID}}<tr><th>Previous certificate</th><td><code>{{.}}</code></td></tr>{{end}}
</table>
<h2>Replicas</h2>
<table><tr><th>Resource</th><th>Medium</th><th>Good</th><th>Other</th></tr>
{{range .Replicas}}<tr><td>{{.Resource}}</td><td>{{.Medium}}</td><td>{{.Good}}</td><td>{{.Other}}</td></tr>{{end}}
</table>
{{if .Objects}}<h2>Objects</h2>
<table><tr><th>Path</th><th>Size</th><th>SHA-256</th></tr>
{{range .Objects}}<tr><td>{{.Path}}</td><td>{{.Size}}</td><td><code>{{with index .Fixity 0}}{{.Value}}{{end}}</code></td></tr>{{end}}
</table>{{end}}
<h2>How to verify</h2>
<p>This page checks nothing. With the certificate file and the zone's CA certificate (<code>ca.pem</code>):</p>
<pre>icert verify CERTIFICATE --ca ca.pem            # signature, chain, canonical form, manifests
icert verify CERTIFICATE --ca ca.pem --data DIR # and a copy of the data, byte for byte</pre>
</body></html>
`))

func newIcertVerify(a *app) *cobra.Command {
	var (
		caFile, dataDir string
		zone            bool
	)
	cmd := &cobra.Command{
		Use:   "verify CERT --ca FILE [--data DIR]",
		Short: "Verify a certificate offline",
		Long: `icert verify checks a certificate file offline: the JWS signature with
the key of the certificate it carries, that certificate's chain to the CA
in --ca (the zone's ca.pem), that the body is in RFC 8785 canonical form,
and that the manifests are the ones the body signs. With --data DIR it
reads every file of a local copy once, computing SHA-256 and SHA-512 in the
same pass, and reports every file that is missing, extra or changed. DIR is
the copy of the certified collection (as iget -r makes it), or for a data
object the directory holding its copy. With --zone it asks the zone for
the subject's current state instead (the catalog's SHA-256 of each object,
no data read) and reports every object missing, added or changed since
the certificate was issued, and a newer certificate that superseded it.
Any edit to the certificate fails, naming what failed.`,
		Example: `  icert verify pkg42.cert --ca ca.pem
  icert verify pkg42.cert --ca ca.pem --data ./pkg42
  icert verify pkg42.cert --ca ca.pem --zone`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if caFile == "" {
				return usagef("--ca FILE is required: the zone's CA certificate")
			}
			if zone && dataDir != "" {
				return usagef("--data and --zone do not go together")
			}
			roots, err := readCAs(caFile)
			if err != nil {
				return err
			}
			data, err := a.certificateFile(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			v, err := certificate.Verify(data, roots)
			if err != nil {
				return fmt.Errorf("certificate does not verify: %w", err)
			}
			out := map[string]any{"id": v.Body.ID, "subject": v.Body.Subject.Path, "issued": v.Body.IssuedAt,
				"signer": v.Chain[0].Subject.CommonName, "objects": v.Body.Manifest.ObjectCount, "verified": true}
			if dataDir != "" {
				r, err := certificate.VerifyData(cmd.Context(), v.Manifests, dataDir, v.Body.Subject.Kind == "collection")
				if err != nil {
					return localError(err)
				}
				out["checked"] = r.Checked
				if err := r.Err(); err != nil {
					if a.json {
						out["verified"] = false
						out["missing"], out["extra"], out["changed"] = r.Missing, r.Extra, r.Changed
						_ = a.printJSON(out)
					}
					return fmt.Errorf("the data does not match the certificate: %w", err)
				}
			}
			if zone {
				r, superseded, err := zoneChanges(cmd.Context(), a, v)
				if err != nil {
					return err
				}
				out["superseded_by"] = superseded
				if err := r.Err(); err != nil {
					if a.json {
						out["verified"] = false
						out["missing"], out["extra"], out["changed"] = r.Missing, r.Extra, r.Changed
						_ = a.printJSON(out)
					}
					return fmt.Errorf("the zone has changed since the certificate was issued: %w", err)
				}
			}
			if a.json {
				return a.printJSON(out)
			}
			fmt.Fprintf(a.Out, "verified: %s\nsubject:  %s (%d objects)\nissued:   %s by %s\nsigner:   %s, chained to %s\n",
				v.Body.ID, v.Body.Subject.Path, v.Body.Manifest.ObjectCount, v.Body.IssuedAt, v.Body.Issuer.Organisation,
				v.Chain[0].Subject.CommonName, v.Chain[len(v.Chain)-1].Subject.CommonName)
			if dataDir != "" {
				fmt.Fprintf(a.Out, "data:     %s matches (%v files, SHA-256 and SHA-512)\n", dataDir, out["checked"])
			}
			if zone {
				fmt.Fprintf(a.Out, "zone:     unchanged since issue (the catalog's SHA-256 of each object)\n")
				if s, _ := out["superseded_by"].(string); s != "" {
					fmt.Fprintf(a.Out, "          superseded by %s\n", s)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&caFile, "ca", "", "the CA certificate(s) to trust, PEM (the zone's ca.pem)")
	cmd.Flags().StringVar(&dataDir, "data", "", "a local copy of the certified data to check byte for byte")
	cmd.Flags().BoolVar(&zone, "zone", false, "compare with the zone's current state (asks the zone)")
	return cmd
}

func readCAs(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, localError(err)
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("--ca %s: %w", file, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("--ca %s: no PEM certificate", file)
	}
	return pool, nil
}

func newIcertFixity(a *app) *cobra.Command {
	var (
		maxAge string
		repair bool
	)
	cmd := &cobra.Command{
		Use:   "fixity [--max-age PERIOD] [--repair] PATH",
		Short: "Check the fixity of replicas now (administrators)",
		Long: `icert fixity reads the good replicas of the data object or of every
object below the collection from storage (tape included, through a
recall) and compares them with the catalog's SHA-256, as the shipped
periodic rule (policies/certificates/rules) does. Each check is recorded as
a PREMIS fixity check event (iprov show) and as the replica's last check,
which certificates show. A replica that fails is marked stale, so that it
is never served; --repair refreshes it from a good one. --max-age leaves
replicas that passed a check within the period (1y, 6m, 30d). It prints
one line per check and fails if a replica failed.`,
		Example:     `  icert fixity -M --max-age 1y --repair /tempZone/projects`,
		Annotations: map[string]string{jsonLines: "check"},
		Args:        exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			p, err := c.resolve(args[0])
			if err != nil {
				return err
			}
			stream, err := arcapb.NewCertificatesClient(c.conn).CheckFixity(ctx, &arcapb.CheckFixityRequest{Path: p.String(), MaxAge: maxAge, Repair: repair})
			if err != nil {
				return err
			}
			failed := 0
			for {
				m, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return err
				}
				if m.Outcome == "fail" {
					failed++
				}
				if a.json {
					if err := a.printJSON(map[string]any{"path": m.Path, "replica": m.Replica, "resource": m.Resource,
						"time": time.Unix(m.TimeUnix, 0).UTC().Format(time.RFC3339), "outcome": m.Outcome, "detail": m.Detail, "repair": m.Repair}); err != nil {
						return err
					}
					continue
				}
				line := fmt.Sprintf("%-10s %s replica %d on %s", m.Outcome, m.Path, m.Replica, m.Resource)
				if m.Detail != "" {
					line += ": " + m.Detail
				}
				if m.Repair != "" {
					line += "; " + m.Repair
				}
				fmt.Fprintln(a.Out, line)
			}
			if failed > 0 {
				return fmt.Errorf("%d replica(s) failed their fixity check", failed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&maxAge, "max-age", "", "leave replicas that passed a check within this period (1y, 6m, 30d)")
	cmd.Flags().BoolVar(&repair, "repair", false, "refresh a failed replica from a good one")
	addAdminFlag(a, cmd)
	return cmd
}

// zoneChanges compares a verified certificate's SHA-256 manifest with the
// catalog's checksums of its subject now, and says which certificate
// superseded it ("" for none).
func zoneChanges(ctx context.Context, a *app, v certificate.Verified) (certificate.DataReport, string, error) {
	var r certificate.DataReport
	c, err := a.connect(ctx)
	if err != nil {
		return r, "", err
	}
	subject := v.Body.Subject.Path
	now := map[string]string{}
	add := func(e *arcapb.Entry) {
		if e.Kind != arcapb.EntryKind_ENTRY_KIND_DATA_OBJECT {
			return
		}
		rel := "data/" + strings.TrimPrefix(e.Path, subject+"/")
		if v.Body.Subject.Kind != "collection" {
			rel = "data/" + e.Path[strings.LastIndex(e.Path, "/")+1:]
		}
		sum := ""
		if raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(e.Checksum, "sha2:")); err == nil {
			sum = fmt.Sprintf("%x", raw)
		}
		now[rel] = sum
	}
	if v.Body.Subject.Kind == "collection" {
		stream, err := c.ns.List(ctx, &arcapb.ListRequest{Path: subject, Recursive: true})
		if err != nil {
			return r, "", err
		}
		for {
			m, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return r, "", err
			}
			for _, e := range m.Entries {
				add(e)
			}
		}
	} else {
		e, err := c.ns.Stat(ctx, &arcapb.StatRequest{Path: subject})
		if err != nil && status.Code(err) != codes.NotFound {
			return r, "", err
		}
		if err == nil {
			add(e)
		}
	}
	for p, want := range v.Manifests.SHA256 {
		got, ok := now[p]
		switch {
		case !ok:
			r.Missing = append(r.Missing, p)
		case got != want:
			r.Changed = append(r.Changed, certificate.Change{Path: p, Algs: []string{certificate.AlgSHA256}})
		default:
			r.Checked++
		}
	}
	for p := range now {
		if _, ok := v.Manifests.SHA256[p]; !ok {
			r.Extra = append(r.Extra, p)
		}
	}
	slices.Sort(r.Missing)
	slices.Sort(r.Extra)
	slices.SortFunc(r.Changed, func(x, y certificate.Change) int { return strings.Compare(x.Path, y.Path) })
	superseded := ""
	list, err := arcapb.NewCertificatesClient(c.conn).List(ctx, &arcapb.ListCertificatesRequest{Path: subject})
	if err == nil {
		for _, ci := range list.Certificates {
			if ci.Id == v.Body.ID {
				superseded = ci.SupersededBy
			}
		}
	}
	return r, superseded, nil
}
