// np-kube-apiserver: a small, real Kubernetes API server for nodeprint's
// tests, built from Debian's k8s.io/apiserver (GenericAPIServer, the real
// REST, patch and apply handlers, genericregistry.Store over an embedded
// etcd). It listens on 127.0.0.1 only, with HTTPS from its own test CA,
// token and client-certificate authentication, and a control API for fault
// injection and a request log (docs/test-apiserver.md).
//
// Everything a client needs (CA, tokens, client certificates, kubeconfigs,
// an env file) is written into --dir; dir/ready appears once /readyz is OK.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-base/compatibility"

	"npkubeserver/openapi"
)

var (
	scheme         = runtime.NewScheme()
	codecs         = serializer.NewCodecFactory(scheme)
	parameterCodec = runtime.NewParameterCodec(scheme)
)

func init() {
	must(eventsv1.AddToScheme(scheme))
	must(authenticationv1.AddToScheme(scheme))
	// The versioned Go types double as the "internal" (hub) types, so no
	// conversion is needed except events.k8s.io/v1 <-> core/v1 Event.
	for _, g := range apiGroups {
		must(g.addToScheme(scheme))
		gv := schema.GroupVersion{Group: g.group, Version: runtime.APIVersionInternal}
		for _, t := range g.types {
			scheme.AddKnownTypes(gv, t.newFunc(), t.newList())
		}
		must(scheme.SetVersionPriority(schema.GroupVersion{Group: g.group, Version: g.version}))
	}
	// events.k8s.io/v1 events are stored as core/v1 events, as in Kubernetes.
	scheme.AddKnownTypes(schema.GroupVersion{Group: eventsv1.GroupName, Version: runtime.APIVersionInternal},
		&corev1.Event{}, &corev1.EventList{})
	scheme.AddKnownTypes(schema.GroupVersion{Group: authenticationv1.GroupName, Version: runtime.APIVersionInternal},
		&authenticationv1.SelfSubjectReview{})
	registerDefaults(scheme)
	must(registerEventConversions(scheme))
	must(registerFieldLabelConversions(scheme))
	must(scheme.SetVersionPriority(eventsv1.SchemeGroupVersion))
	must(scheme.SetVersionPriority(authenticationv1.SchemeGroupVersion))
	// as in k8s.io/sample-apiserver
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	scheme.AddUnversionedTypes(schema.GroupVersion{Group: "", Version: "v1"},
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{},
		&metav1.APIGroup{}, &metav1.APIResourceList{})
}

func must(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "np-kube-apiserver: %v\n", err)
		os.Exit(1)
	}
}

// restOptionsGetter hands every resource the same etcd3 backend, no watch cache.
type restOptionsGetter struct{ cfg *storagebackend.Config }

func (g restOptionsGetter) GetRESTOptions(gr schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	prefix := gr.Resource
	if gr.Group != "" {
		prefix = gr.Group + "/" + gr.Resource
	}
	return generic.RESTOptions{
		StorageConfig:           g.cfg.ForResource(gr),
		Decorator:               generic.UndecoratedStorage,
		DeleteCollectionWorkers: 1,
		ResourcePrefix:          "/" + prefix,
		CountMetricPollPeriod:   time.Minute,
	}, nil
}

// freePort asks the kernel for an unused 127.0.0.1 port (for etcd, which
// wants URLs rather than listeners).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startEtcd(dir string) (*embed.Etcd, string, error) {
	cp, err := freePort()
	if err != nil {
		return nil, "", err
	}
	pp, err := freePort()
	if err != nil {
		return nil, "", err
	}
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.UnsafeNoFsync = true // test server: speed over durability
	cu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", cp))
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", pp))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, "", fmt.Errorf("etcd did not become ready")
	}
	return e, cu.String(), nil
}

// waitReady polls our own /readyz and then creates dir/ready.
func waitReady(base, dir string, ca []byte, token string) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for {
		req, _ := http.NewRequest("GET", base+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("User-Agent", "np-kube-apiserver/self-check")
		if resp, err := cl.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				must(os.WriteFile(filepath.Join(dir, "ready"), []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644))
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tokenFor: the flag's token, else the one a previous run wrote, else a new one.
func tokenFor(flagVal, path string) string {
	if flagVal != "" {
		return flagVal
	}
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b))
	}
	return randomToken()
}

func main() {
	dir := flag.String("dir", "", "state folder: CA, certificates, tokens, kubeconfigs, env, etcd data (required)")
	port := flag.Int("port", 0, "HTTPS port on 127.0.0.1 (0: any free port, written to DIR/env)")
	agentNode := flag.String("agent-node", "node-1", "node name in the agent token's authentication.kubernetes.io/node-name extra")
	adminTok := flag.String("admin-token", "", "admin bearer token (default: random)")
	agentTok := flag.String("agent-token", "", "agent bearer token (default: random)")
	etcdServers := flag.String("etcd-servers", "", "use this external etcd instead of the embedded one")
	admissionPlugins := flag.String("admission-plugins", "NamespaceLifecycle,ValidatingAdmissionPolicy",
		"k8s.io/apiserver admission plugins to run, comma-separated (\"\" for none)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: np-kube-apiserver --dir DIR [--port N] [--agent-node NAME]")
		os.Exit(2)
	}
	must(os.MkdirAll(*dir, 0o755))
	d, err := filepath.Abs(*dir)
	must(err)
	// a restart in the same folder keeps the tokens (and the CA, and etcd's objects)
	*adminTok = tokenFor(*adminTok, filepath.Join(d, "admin.token"))
	*agentTok = tokenFor(*agentTok, filepath.Join(d, "agent.token"))

	// PKI and identities
	ca, err := loadOrCreateCA(d)
	must(err)
	must(ca.issue(d, "server", "np-kube-apiserver", nil, true))
	must(ca.issue(d, "admin", "np-admin", []string{"system:masters"}, false))
	must(ca.issue(d, "agent", agentUser, []string{"system:serviceaccounts", "system:serviceaccounts:nodeprint"}, false))
	tokens := newTokenStore()
	tokens.put(tokenEntry{Token: *adminTok, User: "np-admin", Groups: []string{"system:masters"}})
	tokens.put(agentEntry(*agentTok, *agentNode))
	caProvider, err := dynamiccertificates.NewStaticCAContent("np-test-ca", ca.caPEM)
	must(err)

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	must(err)
	base := fmt.Sprintf("https://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)

	server := *etcdServers
	if server == "" {
		e, u, err := startEtcd(filepath.Join(d, "etcd"))
		must(err)
		defer e.Close()
		server = u
	}

	config := genericapiserver.NewConfig(codecs)
	config.EffectiveVersion = compatibility.NewEffectiveVersionFromString("1.36.4", "", "")

	secure := genericoptions.NewSecureServingOptions().WithLoopback()
	secure.Listener = ln
	secure.ServerCert.CertDirectory = d
	secure.ServerCert.CertKey.CertFile = filepath.Join(d, "server.crt")
	secure.ServerCert.CertKey.KeyFile = filepath.Join(d, "server.key")
	must(secure.ApplyTo(&config.SecureServing, &config.LoopbackClientConfig))
	config.SecureServing.ClientCA = caProvider

	config.Authentication.Authenticator = newAuthenticator(tokens, caProvider)
	config.Authorization.Authorizer = authorizerfactory.NewAlwaysAllowAuthorizer()
	genericapiserver.AuthorizeClientBearerToken(config.LoopbackClientConfig, &config.Authentication, &config.Authorization)

	ctl := &control{adminToken: *adminTok, loopbackToken: config.LoopbackClientConfig.BearerToken, tokens: tokens,
		clientCA: caProvider.VerifyOptions}
	config.BuildHandlerChainFunc = func(h http.Handler, c *genericapiserver.Config) http.Handler {
		return ctl.wrap(genericapiserver.DefaultBuildHandlerChain(recordUser(h), c))
	}

	namer := openapinamer.NewDefinitionNamer(scheme)
	config.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	config.OpenAPIConfig.Info.Title, config.OpenAPIConfig.Info.Version = "np-kube-apiserver", "1.36.4"
	config.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	config.OpenAPIV3Config.Info.Title, config.OpenAPIV3Config.Info.Version = "np-kube-apiserver", "1.36.4"

	storageCfg := storagebackend.NewDefaultConfig("/registry", codecs.LegacyCodec(storageVersions()...))
	storageCfg.Transport.ServerList = []string{server}
	config.RESTOptionsGetter = restOptionsGetter{storageCfg}

	config.FeatureGate = utilfeature.DefaultFeatureGate
	inf, err := setupAdmission(config, *admissionPlugins)
	must(err)

	s, err := config.Complete(inf).New("np-kube-apiserver", genericapiserver.NewEmptyDelegate())
	must(err)
	must(installAPIGroups(s, config.RESTOptionsGetter))

	var nsCreater rest.Creater
	if st, ok := storages["namespaces"]; ok {
		nsCreater = st.(rest.Creater)
	}
	s.AddPostStartHookOrDie("default-namespaces", func(ctx genericapiserver.PostStartHookContext) error {
		for _, n := range []string{"default", "kube-system", "kube-public", "kube-node-lease", "nodeprint"} {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}
			_, err := nsCreater.Create(genericapirequest.WithNamespace(context.Background(), ""), ns, nil, &metav1.CreateOptions{})
			if err != nil && !isAlreadyExists(err) {
				return err
			}
		}
		return nil
	})

	must(writeClientFiles(d, base, *adminTok, *agentTok, *agentNode))
	go waitReady(base, d, ca.caPEM, *adminTok)
	fmt.Fprintf(os.Stderr, "np-kube-apiserver: serving on %s (etcd %s), state in %s\n", base, server, d)
	must(s.PrepareRun().RunWithContext(genericapiserver.SetupSignalContext()))
}
