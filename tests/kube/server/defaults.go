package main

// Defaulting that kube-apiserver applies on decode and that the packaged
// libraries lack (k8s.io/kubernetes/pkg/apis/*/v1/defaults.go), only where the
// server's own machinery depends on it: the ValidatingAdmissionPolicy plugin
// needs the match selectors and policy set.

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func defaultMatchResources(m *admissionregistrationv1.MatchResources) {
	if m == nil {
		return
	}
	if m.MatchPolicy == nil {
		p := admissionregistrationv1.Equivalent
		m.MatchPolicy = &p
	}
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	for _, rules := range [][]admissionregistrationv1.NamedRuleWithOperations{m.ResourceRules, m.ExcludeResourceRules} {
		for i := range rules {
			if rules[i].Scope == nil {
				s := admissionregistrationv1.AllScopes
				rules[i].Scope = &s
			}
		}
	}
}

func registerDefaults(s *runtime.Scheme) {
	s.AddTypeDefaultingFunc(&admissionregistrationv1.ValidatingAdmissionPolicy{}, func(o interface{}) {
		p := o.(*admissionregistrationv1.ValidatingAdmissionPolicy)
		if p.Spec.FailurePolicy == nil {
			f := admissionregistrationv1.Fail
			p.Spec.FailurePolicy = &f
		}
		defaultMatchResources(p.Spec.MatchConstraints)
	})
	s.AddTypeDefaultingFunc(&admissionregistrationv1.ValidatingAdmissionPolicyBinding{}, func(o interface{}) {
		b := o.(*admissionregistrationv1.ValidatingAdmissionPolicyBinding)
		defaultMatchResources(b.Spec.MatchResources)
		if b.Spec.ParamRef != nil && b.Spec.ParamRef.ParameterNotFoundAction == nil {
			a := admissionregistrationv1.DenyAction
			b.Spec.ParamRef.ParameterNotFoundAction = &a
		}
	})
	s.AddTypeDefaultingFunc(&admissionregistrationv1.ValidatingAdmissionPolicyList{}, func(o interface{}) {
		l := o.(*admissionregistrationv1.ValidatingAdmissionPolicyList)
		for i := range l.Items {
			s.Default(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&admissionregistrationv1.ValidatingAdmissionPolicyBindingList{}, func(o interface{}) {
		l := o.(*admissionregistrationv1.ValidatingAdmissionPolicyBindingList)
		for i := range l.Items {
			s.Default(&l.Items[i])
		}
	})
}
