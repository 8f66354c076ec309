// faultproxy: a thin HTTPS proxy in front of the test cluster's real
// kube-apiserver (docs/test-cluster.md). Every request goes through unchanged
// (same credential: the bearer token as sent, a client certificate presented
// again with the key the proxy was given for it), so authentication,
// authorisation, admission and storage are the real apiserver's. On the test's
// request (control API, control.go) it injects faults the real apiserver has
// no switch for (500, 429 with Retry-After, 409, 401, delay, drop) and keeps a
// request log with the user each request authenticated as.
//
// Test-only, standard library only; listens on 127.0.0.1.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// identities names the user of a request before it is forwarded: the static
// token file's user, the `sub` of a service-account JWT (its user name), or
// the CN of a client certificate that verifies against the client CA.
type identities struct {
	static   map[string]string
	clientCA *x509.CertPool
}

func (ids *identities) presumedUser(r *http.Request) string {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		tok = strings.TrimSpace(tok)
		if u, ok := ids.static[tok]; ok {
			return u
		}
		return jwtSubject(tok)
	}
	if leaf := ids.verifiedLeaf(r); leaf != nil {
		return leaf.Subject.CommonName
	}
	return ""
}

// verifiedLeaf is the client certificate when it verifies against the client CA.
func (ids *identities) verifiedLeaf(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || ids.clientCA == nil {
		return nil
	}
	opts := x509.VerifyOptions{Roots: ids.clientCA, Intermediates: x509.NewCertPool(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for _, ic := range r.TLS.PeerCertificates[1:] {
		opts.Intermediates.AddCert(ic)
	}
	if _, err := r.TLS.PeerCertificates[0].Verify(opts); err != nil {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}

// jwtSubject is the "sub" claim of a JWT, unverified (the apiserver verifies;
// a 401 from it clears the name in the log), "" for anything else.
func jwtSubject(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Sub
}

// readStaticTokens reads kube-apiserver's --token-auth-file format:
// token,user,uid[,"group1,group2"] per line.
func readStaticTokens(path string) (map[string]string, error) {
	m := map[string]string{}
	if path == "" {
		return m, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.FieldsPerRecord = -1
	recs, err := rd.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, rec := range recs {
		if len(rec) >= 2 {
			m[strings.TrimSpace(rec[0])] = strings.TrimSpace(rec[1])
		}
	}
	return m, nil
}

type passCerts []string

func (p *passCerts) String() string     { return strings.Join(*p, " ") }
func (p *passCerts) Set(v string) error { *p = append(*p, v); return nil }

type transportKey struct{}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve HTTPS on")
	upstream := flag.String("upstream", "", "the real kube-apiserver, https://HOST:PORT (required)")
	upstreamCA := flag.String("upstream-ca", "", "CA bundle that signed the apiserver's serving certificate (required)")
	certFile := flag.String("cert", "", "serving certificate (required)")
	keyFile := flag.String("key", "", "serving key (required)")
	clientCAFile := flag.String("client-ca", "", "CA of client certificates (to name their user and to refuse strangers)")
	tokenFile := flag.String("token-auth-file", "", "the apiserver's static token file, to name those tokens' users in the log")
	adminTokenFile := flag.String("admin-token-file", "", "file holding the token the control API accepts (required)")
	addrFile := flag.String("addr-file", "", "write the listening address (HOST:PORT) here once serving")
	var pass passCerts
	flag.Var(&pass, "pass-cert", "CRT,KEY: a client certificate the proxy presents again upstream (repeatable)")
	flag.Parse()
	if *upstream == "" || *upstreamCA == "" || *certFile == "" || *keyFile == "" || *adminTokenFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	fail := func(err error) {
		if err != nil {
			fmt.Fprintf(os.Stderr, "faultproxy: %v\n", err)
			os.Exit(1)
		}
	}
	up, err := url.Parse(*upstream)
	fail(err)
	caPEM, err := os.ReadFile(*upstreamCA)
	fail(err)
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		fail(fmt.Errorf("%s: no certificate", *upstreamCA))
	}
	adminTok, err := os.ReadFile(*adminTokenFile)
	fail(err)
	static, err := readStaticTokens(*tokenFile)
	fail(err)
	ids := &identities{static: static}
	if *clientCAFile != "" {
		b, err := os.ReadFile(*clientCAFile)
		fail(err)
		ids.clientCA = x509.NewCertPool()
		ids.clientCA.AppendCertsFromPEM(b)
	}

	newTransport := func(certs []tls.Certificate) *http.Transport {
		return &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: roots, Certificates: certs},
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}
	}
	plain := newTransport(nil)
	byCert := map[[32]byte]*http.Transport{}
	for _, p := range pass {
		crt, key, ok := strings.Cut(p, ",")
		if !ok {
			fail(fmt.Errorf("--pass-cert %q: want CRT,KEY", p))
		}
		kp, err := tls.LoadX509KeyPair(crt, key)
		fail(err)
		byCert[sha256.Sum256(kp.Certificate[0])] = newTransport([]tls.Certificate{kp})
	}

	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.Out.Host = ""
		},
		Transport: http.RoundTripper(roundTripper(func(r *http.Request) (*http.Response, error) {
			if t, ok := r.Context().Value(transportKey{}).(*http.Transport); ok {
				return t.RoundTrip(r)
			}
			return plain.RoundTrip(r)
		})),
		FlushInterval: -1, // watches stream through at once
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client went away
			}
			writeStatus(w, http.StatusBadGateway, "InternalError", "faultproxy: the apiserver did not answer: "+err.Error(), 0)
		},
	}
	forward := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			// kube-apiserver answers 401 to a client certificate it cannot verify
			if ids.clientCA == nil || ids.verifiedLeaf(r) == nil {
				writeStatus(w, 401, "Unauthorized", "Unauthorized", 0)
				return
			}
			t, ok := byCert[sha256.Sum256(r.TLS.PeerCertificates[0].Raw)]
			if !ok {
				writeStatus(w, http.StatusBadGateway, "InternalError",
					"faultproxy: no key for this client certificate (give it with --pass-cert)", 0)
				return
			}
			r = r.WithContext(contextWith(r, t))
		}
		proxy.ServeHTTP(w, r)
	})

	ctl := &control{adminToken: strings.TrimSpace(string(adminTok)), ids: ids}
	kp, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	fail(err)
	ln, err := net.Listen("tcp", *listen)
	fail(err)
	srv := &http.Server{
		Handler:           ctl.wrap(forward),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{kp}, ClientAuth: tls.RequestClientCert},
		ReadHeaderTimeout: 30 * time.Second,
	}
	if *addrFile != "" {
		tmp := *addrFile + ".tmp"
		fail(os.WriteFile(tmp, []byte(ln.Addr().String()+"\n"), 0o644))
		fail(os.Rename(tmp, *addrFile))
	}
	fmt.Fprintf(os.Stderr, "faultproxy: https://%s -> %s\n", ln.Addr(), up)
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		srv.Close()
	}()
	if err := srv.ServeTLS(ln, "", ""); err != nil && err != http.ErrServerClosed {
		fail(err)
	}
}

func contextWith(r *http.Request, t *http.Transport) context.Context {
	return context.WithValue(r.Context(), transportKey{}, t)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
