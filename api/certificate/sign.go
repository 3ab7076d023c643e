package certificate

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/gowebpki/jcs"
)

// jwsType is the JWS "typ" of a certificate.
const jwsType = "arca-certificate+jws"

// algorithms are the signature algorithms Verify accepts.
var algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512}

// Signer signs certificate bodies with a zone's certificate-signing key.
type Signer struct {
	signer jose.Signer
	chain  []*x509.Certificate
	kid    string
}

// NewSigner signs with key, whose certificate is chain[0]; the rest of
// chain (up to, not necessarily including, the CA) goes into x5c too.
func NewSigner(key crypto.Signer, chain []*x509.Certificate) (*Signer, error) {
	if len(chain) == 0 {
		return nil, errors.New("certificate signer: no certificate for the key")
	}
	alg, err := algorithmOf(key)
	if err != nil {
		return nil, err
	}
	x5c := make([]string, len(chain))
	for i, c := range chain {
		x5c[i] = base64.StdEncoding.EncodeToString(c.Raw)
	}
	kid := KeyID(chain[0])
	opts := (&jose.SignerOptions{}).WithType(jwsType).WithHeader("x5c", x5c).WithHeader("kid", kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("certificate signer: %w", err)
	}
	return &Signer{signer: s, chain: chain, kid: kid}, nil
}

func algorithmOf(key crypto.Signer) (jose.SignatureAlgorithm, error) {
	if pub, ok := key.Public().(*ecdsa.PublicKey); ok {
		switch pub.Curve.Params().BitSize {
		case 256:
			return jose.ES256, nil
		case 384:
			return jose.ES384, nil
		case 521:
			return jose.ES512, nil
		}
	}
	return "", fmt.Errorf("certificate signer: a %T key is not supported (ECDSA P-256, P-384 or P-521)", key.Public())
}

// KeyID names a signing certificate: "x5t#S256:" and the hex SHA-256 of
// its DER.
func KeyID(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return "x5t#S256:" + hex.EncodeToString(s[:])
}

// KeyID is the identifier of the signer's certificate.
func (s *Signer) KeyID() string { return s.kid }

// Sign fills in the manifests' digests and the issuer's key id, and
// returns the self-contained certificate file and the canonical body.
func (s *Signer) Sign(body Body, m512, m256 []byte) (file, canonical []byte, err error) {
	body.Issuer.KeyID = s.kid
	body.Manifest.Format = bagitFormat
	body.Manifest.Files = []ManifestFile{
		{Name: ManifestSHA512, Alg: AlgSHA512, Digest: digestSHA512(m512)},
		{Name: ManifestSHA256, Alg: AlgSHA512, Digest: digestSHA512(m256)},
	}
	canonical, err = Canonical(body)
	if err != nil {
		return nil, nil, err
	}
	jws, err := s.signer.Sign(canonical)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate: %w", err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate: %w", err)
	}
	file, err = File{Format: FileFormat, JWS: compact, Manifests: map[string]string{ManifestSHA512: string(m512), ManifestSHA256: string(m256)}}.Marshal()
	return file, canonical, err
}

// Canonical is the RFC 8785 form of body.
func Canonical(body Body) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("certificate body: %w", err)
	}
	out, err := jcs.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("certificate body: canonical form: %w", err)
	}
	return out, nil
}

// BodyDigest is the hex SHA-256 of a canonical body: how a later
// certificate names its previous one.
func BodyDigest(canonical []byte) string {
	s := sha256.Sum256(canonical)
	return hex.EncodeToString(s[:])
}

// Verified is a certificate that passed Verify.
type Verified struct {
	Body      Body
	Canonical []byte
	Manifests Manifests
	// Chain is the chain from the signing certificate to the CA.
	Chain []*x509.Certificate
}

// VerifyError says which part of a certificate failed: "file",
// "signature", "chain", "canonical form", "body" or "manifest".
type VerifyError struct {
	Part string
	Err  error
}

func (e *VerifyError) Error() string { return e.Part + ": " + e.Err.Error() }
func (e *VerifyError) Unwrap() error { return e.Err }

func failed(part string, format string, args ...any) error {
	return &VerifyError{Part: part, Err: fmt.Errorf(format, args...)}
}

// Verify checks a certificate file offline: its form, the JWS signature
// with the key of the x5c certificate, that certificate's chain to roots
// (at the time the certificate was issued), that the body is in RFC 8785
// form and says what a body says, and that the manifests are the ones the
// body signs and list the same files.
func Verify(data []byte, roots *x509.CertPool) (Verified, error) {
	f, err := ParseFile(data)
	if err != nil {
		return Verified{}, &VerifyError{Part: "file", Err: err}
	}
	// The file is written one way (File.Marshal): any other spelling of
	// the same JSON is an edit too.
	if again, err := f.Marshal(); err != nil || !bytes.Equal(again, data) {
		return Verified{}, failed("file", "the file is not as it was written (edited, or re-encoded)")
	}
	jws, err := jose.ParseSignedCompact(f.JWS, algorithms)
	if err != nil {
		return Verified{}, failed("signature", "the JWS does not parse: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return Verified{}, failed("signature", "%d signatures (one expected)", len(jws.Signatures))
	}
	// Base64url has bits that decode to nothing: an edit to them would
	// leave the signed bytes as they were, so the JWS must be written
	// exactly as it encodes.
	if again, err := jws.CompactSerialize(); err != nil || again != f.JWS {
		return Verified{}, failed("signature", "the JWS is not in its canonical encoding (edited?)")
	}
	hdr := jws.Signatures[0].Protected
	// The chain is checked at the time the body says it was signed; that
	// time is signed too, so that no one can move it without breaking the
	// signature checked below.
	var when struct {
		IssuedAt string `json:"issued_at"`
	}
	_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &when)
	at, err := time.Parse(time.RFC3339, when.IssuedAt)
	if err != nil {
		return Verified{}, failed("body", "issued_at %q is not an RFC 3339 time", when.IssuedAt)
	}
	chains, err := hdr.Certificates(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return Verified{}, failed("chain", "the signing certificate does not chain to the CA given: %v", err)
	}
	leaf := chains[0][0]
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return Verified{}, failed("chain", "the signing certificate is not for digital signatures")
	}
	payload, err := jws.Verify(leaf.PublicKey)
	if err != nil {
		return Verified{}, failed("signature", "the signature does not match the body and the signing certificate: %v", err)
	}
	canon, err := jcs.Transform(payload)
	if err != nil || !bytes.Equal(canon, payload) {
		return Verified{}, failed("canonical form", "the signed body is not in RFC 8785 canonical form")
	}
	body, err := parseBody(payload)
	if err != nil {
		return Verified{}, &VerifyError{Part: "body", Err: err}
	}
	if body.Issuer.KeyID != KeyID(leaf) {
		return Verified{}, failed("body", "the issuer's kid %s is not the signing certificate (%s)", body.Issuer.KeyID, KeyID(leaf))
	}
	if hdr.KeyID != "" && hdr.KeyID != body.Issuer.KeyID {
		return Verified{}, failed("signature", "the JWS kid %s is not the body's %s", hdr.KeyID, body.Issuer.KeyID)
	}
	m, err := checkManifests(body, f.Manifests)
	if err != nil {
		return Verified{}, &VerifyError{Part: "manifest", Err: err}
	}
	return Verified{Body: body, Canonical: payload, Manifests: m, Chain: chains[0]}, nil
}

// parseBody reads a signed body strictly.
func parseBody(payload []byte) (Body, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var b Body
	if err := dec.Decode(&b); err != nil {
		return Body{}, fmt.Errorf("the body does not parse: %w", err)
	}
	if b.Version != BodyVersion {
		return Body{}, fmt.Errorf("certificate_version %q (this verifier reads %s)", b.Version, BodyVersion)
	}
	if b.ID == "" || b.Subject.Path == "" {
		return Body{}, errors.New("the body names no certificate id or subject")
	}
	return b, nil
}

// checkManifests checks that the manifests are the ones the body signs,
// that they list the same files, and the objects the body lists.
func checkManifests(b Body, files map[string]string) (Manifests, error) {
	if b.Manifest.Format != bagitFormat || len(b.Manifest.Files) != 2 {
		return Manifests{}, fmt.Errorf("the body names %d manifests of format %q (two of %s)", len(b.Manifest.Files), b.Manifest.Format, bagitFormat)
	}
	for _, mf := range b.Manifest.Files {
		content, ok := files[mf.Name]
		if !ok {
			return Manifests{}, fmt.Errorf("%s is signed but not in the file", mf.Name)
		}
		if mf.Alg != AlgSHA512 {
			return Manifests{}, fmt.Errorf("%s: digest algorithm %q", mf.Name, mf.Alg)
		}
		if got := digestSHA512([]byte(content)); got != mf.Digest {
			return Manifests{}, fmt.Errorf("%s has changed: its SHA-512 is %s, the body signs %s", mf.Name, short(got), short(mf.Digest))
		}
	}
	m, err := parseManifests([]byte(files[ManifestSHA512]), []byte(files[ManifestSHA256]))
	if err != nil {
		return Manifests{}, err
	}
	if len(m.SHA512) != b.Manifest.ObjectCount {
		return Manifests{}, fmt.Errorf("the manifests list %d files, the body says %d", len(m.SHA512), b.Manifest.ObjectCount)
	}
	if !b.ObjectsOmitted && len(b.Objects) != b.Manifest.ObjectCount {
		return Manifests{}, fmt.Errorf("the body lists %d objects and counts %d", len(b.Objects), b.Manifest.ObjectCount)
	}
	for _, o := range b.Objects {
		for _, d := range o.Fixity {
			want := m.SHA512[o.Path]
			if d.Alg == AlgSHA256 {
				want = m.SHA256[o.Path]
			}
			if want != d.Value {
				return Manifests{}, fmt.Errorf("object %s: its %s in the body is not the manifest's", o.Path, d.Alg)
			}
		}
	}
	return m, nil
}

func short(d string) string {
	if len(d) > 16 {
		return d[:16] + "…"
	}
	return d
}

// Issue writes the manifests of entries, counts them into body and signs
// it: the certificate file, and the canonical body.
func (s *Signer) Issue(body Body, entries []Entry) (file, canonical []byte, err error) {
	m512, err := WriteManifest(ManifestSHA512, entries)
	if err != nil {
		return nil, nil, err
	}
	m256, err := WriteManifest(ManifestSHA256, entries)
	if err != nil {
		return nil, nil, err
	}
	body.Manifest.ObjectCount = len(entries)
	body.Manifest.ByteCount = 0
	for _, e := range entries {
		body.Manifest.ByteCount += e.Size
	}
	return s.Sign(body, m512, m256)
}
