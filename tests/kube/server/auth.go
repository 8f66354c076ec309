package main

// Authentication: a static token map the control API can change at run time
// (to rotate or revoke a token as a bound service-account token expires),
// plus client certificates signed by the test CA (CN = user, O = groups).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/request/union"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
)

// Names of the extras a kubelet-bound (pod-bound) service-account token
// carries; issue 7's ValidatingAdmissionPolicy reads node-name.
const (
	extraNodeName = "authentication.kubernetes.io/node-name"
	extraPodName  = "authentication.kubernetes.io/pod-name"
	extraPodUID   = "authentication.kubernetes.io/pod-uid"
	agentUser     = "system:serviceaccount:nodeprint:nodeprint"
)

// tokenEntry is one identity as the control API shows and accepts it.
type tokenEntry struct {
	Token  string              `json:"token"`
	User   string              `json:"user"`
	UID    string              `json:"uid,omitempty"`
	Groups []string            `json:"groups,omitempty"`
	Extra  map[string][]string `json:"extra,omitempty"`
}

type tokenStore struct {
	mu     sync.RWMutex
	tokens map[string]tokenEntry
}

func newTokenStore() *tokenStore { return &tokenStore{tokens: map[string]tokenEntry{}} }

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func (s *tokenStore) put(e tokenEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[e.Token] = e
}

// remove reports whether the token existed.
func (s *tokenStore) remove(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tokens[tok]
	delete(s.tokens, tok)
	return ok
}

func (s *tokenStore) list() []tokenEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]tokenEntry, 0, len(s.tokens))
	for _, e := range s.tokens {
		out = append(out, e)
	}
	return out
}

func (s *tokenStore) AuthenticateToken(_ context.Context, tok string) (*authenticator.Response, bool, error) {
	s.mu.RLock()
	e, ok := s.tokens[tok]
	s.mu.RUnlock()
	if !ok {
		return nil, false, nil
	}
	return &authenticator.Response{User: &user.DefaultInfo{
		Name: e.User, UID: e.UID, Groups: e.Groups, Extra: e.Extra,
	}}, true, nil
}

// agentEntry is the identity of nodeprint's pod-bound service-account token
// on the given node, with the groups and extras kube-apiserver gives it.
func agentEntry(tok, node string) tokenEntry {
	return tokenEntry{
		Token: tok, User: agentUser, UID: "00000000-0000-4000-8000-00000000a9e7",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:nodeprint"},
		Extra: map[string][]string{
			extraNodeName: {node},
			extraPodName:  {"nodeprint-" + node},
			extraPodUID:   {"00000000-0000-4000-8000-000000000001"},
		},
	}
}

// newAuthenticator: client certificate first, then bearer token; every
// authenticated user also gets system:authenticated, as in kube-apiserver.
func newAuthenticator(tokens *tokenStore, ca dynamiccertificates.CAContentProvider) authenticator.Request {
	certs := x509request.NewDynamic(ca.VerifyOptions, x509request.CommonNameUserConversion)
	return group.NewAuthenticatedGroupAdder(union.New(certs, bearertoken.New(tokens)))
}
