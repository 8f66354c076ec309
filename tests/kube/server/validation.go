package main

// Type-specific validation that the packaged libraries lack (it lives in
// k8s.io/kubernetes/pkg/apis/core/validation, which Debian does not package),
// written to the Kubernetes API reference (core/v1 Taint, NodeCondition,
// Event; events.k8s.io/v1 Event) and to kube-apiserver's rules for them.
// Object metadata (names, labels, annotations, finalizers, ...) is checked by
// k8s.io/apimachinery through the generic registry, not here.
// Where a rule here is stricter than kube-apiserver it says so; the stricter
// rules only reject what nodeprint must never send.

import (
	"context"
	"fmt"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
)

// Length limits of events (k8s.io/kubernetes/pkg/apis/core/validation/events.go).
const (
	reportingInstanceLengthLimit = 128
	actionLengthLimit            = 128
	reasonLengthLimit            = 128
	noteLengthLimit              = 1024
)

// validateTaints: key a qualified name (required), value empty or a label
// value, effect one of NoSchedule|PreferNoSchedule|NoExecute (required), and
// key+effect unique in the list.
func validateTaints(taints []corev1.Taint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, t := range taints {
		ip := p.Index(i)
		for _, msg := range utilvalidation.IsQualifiedName(t.Key) {
			errs = append(errs, field.Invalid(ip.Child("key"), t.Key, msg))
		}
		if t.Value != "" {
			for _, msg := range utilvalidation.IsValidLabelValue(t.Value) {
				errs = append(errs, field.Invalid(ip.Child("value"), t.Value, msg))
			}
		}
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		case "":
			errs = append(errs, field.Required(ip.Child("effect"), ""))
		default:
			errs = append(errs, field.NotSupported(ip.Child("effect"), t.Effect,
				[]string{"NoSchedule", "PreferNoSchedule", "NoExecute"}))
		}
		k := t.Key + ":" + string(t.Effect)
		if seen[k] {
			errs = append(errs, field.Duplicate(ip, fmt.Sprintf("taints must be unique by key and effect pair (%s)", k)))
		}
		seen[k] = true
	}
	return errs
}

// validateConditions: type required and unique, status True|False|Unknown
// (the API reference's values; kube-apiserver itself does not check status).
func validateConditions(conds []corev1.NodeCondition, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.NodeConditionType]bool{}
	for i, c := range conds {
		ip := p.Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(ip.Child("type"), "must not be empty"))
		} else if seen[c.Type] {
			errs = append(errs, field.Duplicate(ip.Child("type"), c.Type))
		}
		seen[c.Type] = true
		switch c.Status {
		case corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown:
		default:
			errs = append(errs, field.NotSupported(ip.Child("status"), c.Status, []string{"True", "False", "Unknown"}))
		}
	}
	return errs
}

func validateNode(_ context.Context, obj runtime.Object) field.ErrorList {
	n := obj.(*corev1.Node)
	var errs field.ErrorList
	for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(n.Name, false) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), n.Name, msg))
	}
	errs = append(errs, validateTaints(n.Spec.Taints, field.NewPath("spec", "taints"))...)
	return append(errs, validateConditions(n.Status.Conditions, field.NewPath("status", "conditions"))...)
}

func validateNamespace(_ context.Context, obj runtime.Object) field.ErrorList {
	n := obj.(*corev1.Namespace)
	var errs field.ErrorList
	for _, msg := range apimachineryvalidation.ValidateNamespaceName(n.Name, false) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), n.Name, msg))
	}
	return errs
}

// strictEvents: the request came through events.k8s.io (kube-apiserver then
// applies the strict rules on top of the legacy ones).
func strictEvents(ctx context.Context) bool {
	info, ok := genericapirequest.RequestInfoFrom(ctx)
	return ok && info.APIGroup == "events.k8s.io"
}

// legacyEventErrors: kube-apiserver's rules for every event (legacyValidateEvent),
// plus the involved object (regarding) having a kind and a name, and, for
// core/v1, type Normal|Warning when set (both stricter than kube-apiserver).
func legacyEventErrors(e *corev1.Event, strict bool) field.ErrorList {
	var errs field.ErrorList
	involved, reporting := "involvedObject", "reportingComponent"
	if strict {
		involved, reporting = "regarding", "reportingController"
	}
	if e.InvolvedObject.Kind == "" {
		errs = append(errs, field.Required(field.NewPath(involved, "kind"), "the event must name the object it is about"))
	}
	if e.InvolvedObject.Name == "" {
		errs = append(errs, field.Required(field.NewPath(involved, "name"), "the event must name the object it is about"))
	}
	if e.EventTime.IsZero() {
		if e.InvolvedObject.Namespace == "" {
			if e.Namespace != metav1.NamespaceNone && e.Namespace != metav1.NamespaceDefault {
				errs = append(errs, field.Invalid(field.NewPath(involved, "namespace"), e.InvolvedObject.Namespace, "does not match event.namespace"))
			}
		} else if e.Namespace != e.InvolvedObject.Namespace {
			errs = append(errs, field.Invalid(field.NewPath(involved, "namespace"), e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
	} else {
		if e.InvolvedObject.Namespace == "" && e.Namespace != metav1.NamespaceDefault && e.Namespace != metav1.NamespaceSystem {
			errs = append(errs, field.Invalid(field.NewPath(involved, "namespace"), e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
		if e.ReportingController == "" {
			errs = append(errs, field.Required(field.NewPath(reporting), ""))
		}
		for _, msg := range utilvalidation.IsQualifiedName(e.ReportingController) {
			errs = append(errs, field.Invalid(field.NewPath(reporting), e.ReportingController, msg))
		}
		if e.ReportingInstance == "" {
			errs = append(errs, field.Required(field.NewPath("reportingInstance"), ""))
		}
		if len(e.ReportingInstance) > reportingInstanceLengthLimit {
			errs = append(errs, field.TooLong(field.NewPath("reportingInstance"), "", reportingInstanceLengthLimit))
		}
		if e.Action == "" {
			errs = append(errs, field.Required(field.NewPath("action"), ""))
		}
		if len(e.Action) > actionLengthLimit {
			errs = append(errs, field.TooLong(field.NewPath("action"), "", actionLengthLimit))
		}
		if e.Reason == "" {
			errs = append(errs, field.Required(field.NewPath("reason"), ""))
		}
		if len(e.Reason) > reasonLengthLimit {
			errs = append(errs, field.TooLong(field.NewPath("reason"), "", reasonLengthLimit))
		}
		if len(e.Message) > noteLengthLimit {
			errs = append(errs, field.TooLong(field.NewPath("message"), "", noteLengthLimit))
		}
	}
	if !strict && e.Type != "" && e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.NotSupported(field.NewPath("type"), e.Type, []string{"Normal", "Warning"}))
	}
	for _, msg := range utilvalidation.IsDNS1123Subdomain(e.Namespace) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "namespace"), e.Namespace, msg))
	}
	return errs
}

func seriesErrors(e *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	if e.Series != nil {
		if e.Series.Count < 2 {
			errs = append(errs, field.Invalid(field.NewPath("series", "count"), e.Series.Count, "should be at least 2"))
		}
		if e.Series.LastObservedTime.IsZero() {
			errs = append(errs, field.Required(field.NewPath("series", "lastObservedTime"), ""))
		}
	}
	return errs
}

// validateEvent: on create, the legacy rules, and through events.k8s.io/v1
// also eventTime required, type Normal|Warning, and the deprecated fields
// (firstTimestamp, lastTimestamp, count, source) unset.
func validateEvent(ctx context.Context, obj runtime.Object) field.ErrorList {
	e := obj.(*corev1.Event)
	strict := strictEvents(ctx)
	errs := legacyEventErrors(e, strict)
	if !strict {
		return errs
	}
	errs = append(errs, seriesErrors(e)...)
	if e.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.NotSupported(field.NewPath("type"), e.Type, []string{"Normal", "Warning"}))
	}
	if !e.FirstTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedFirstTimestamp"), "", "needs to be unset"))
	}
	if !e.LastTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedLastTimestamp"), "", "needs to be unset"))
	}
	if e.Count != 0 {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedCount"), "", "needs to be unset"))
	}
	if e.Source.Component != "" || e.Source.Host != "" {
		errs = append(errs, field.Invalid(field.NewPath("deprecatedSource"), "", "needs to be unset"))
	}
	return errs
}

// validateEventUpdate: the legacy rules on the new object; through
// events.k8s.io/v1 also a changed series validated and the identifying
// fields immutable.
func validateEventUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	e, o := obj.(*corev1.Event), old.(*corev1.Event)
	strict := strictEvents(ctx)
	errs := legacyEventErrors(e, strict)
	if !strict {
		return errs
	}
	if !reflect.DeepEqual(e.Series, o.Series) {
		errs = append(errs, seriesErrors(e)...)
	}
	immutable := []struct {
		name     string
		new, old interface{}
	}{
		{"regarding", e.InvolvedObject, o.InvolvedObject}, {"reason", e.Reason, o.Reason},
		{"type", e.Type, o.Type}, {"eventTime", e.EventTime.UTC().Format(time.RFC3339Nano), o.EventTime.UTC().Format(time.RFC3339Nano)}, {"action", e.Action, o.Action},
		{"related", e.Related, o.Related}, {"reportingController", e.ReportingController, o.ReportingController},
		{"reportingInstance", e.ReportingInstance, o.ReportingInstance},
	}
	for _, f := range immutable {
		if !reflect.DeepEqual(f.new, f.old) {
			errs = append(errs, field.Invalid(field.NewPath(f.name), f.new, "field is immutable"))
		}
	}
	return errs
}
