package main

// authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`): the
// caller's user as the server authenticated it, extras included, so tests can
// see that the agent's token carries the pod-bound node-name extra.

import (
	"context"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
)

type selfSubjectReviewREST struct{}

var _ rest.Creater = selfSubjectReviewREST{}

func (selfSubjectReviewREST) New() runtime.Object     { return &authenticationv1.SelfSubjectReview{} }
func (selfSubjectReviewREST) Destroy()                {}
func (selfSubjectReviewREST) NamespaceScoped() bool   { return false }
func (selfSubjectReviewREST) GetSingularName() string { return "selfsubjectreview" }
func (selfSubjectReviewREST) Create(ctx context.Context, obj runtime.Object, _ rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user in the request")
	}
	info := authenticationv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}
	if ex := u.GetExtra(); len(ex) > 0 {
		info.Extra = map[string]authenticationv1.ExtraValue{}
		for k, v := range ex {
			info.Extra[k] = v
		}
	}
	return &authenticationv1.SelfSubjectReview{
		ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.Now()},
		Status:     authenticationv1.SelfSubjectReviewStatus{UserInfo: info},
	}, nil
}
