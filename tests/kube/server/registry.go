package main

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

func isAlreadyExists(err error) bool { return apierrors.IsAlreadyExists(err) }

// strategy is one generic create/update/delete strategy, specialised per type
// by a few function fields.
type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	namespaced     bool
	prepareCreate  func(obj runtime.Object)
	prepareUpdate  func(obj, old runtime.Object)
	validate       func(ctx context.Context, obj runtime.Object) field.ErrorList
	validateUpdate func(ctx context.Context, obj, old runtime.Object) field.ErrorList // nil: validate
	resetFields    map[fieldpath.APIVersion]*fieldpath.Set
}

func (s strategy) NamespaceScoped() bool { return s.namespaced }
func (s strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	if s.prepareCreate != nil {
		s.prepareCreate(obj)
	}
}
func (s strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	if s.prepareUpdate != nil {
		s.prepareUpdate(obj, old)
	}
}

// Object metadata (name, labels, annotations, finalizers, ...) is validated by
// the generic registry itself (rest.BeforeCreate / rest.BeforeUpdate, with
// k8s.io/apimachinery's ValidateObjectMeta).
func (s strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	if s.validate != nil {
		return s.validate(ctx, obj)
	}
	return nil
}
func (s strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	if s.validateUpdate != nil {
		return s.validateUpdate(ctx, obj, old)
	}
	return s.Validate(ctx, obj)
}
func (strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }
func (strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}
func (strategy) Canonicalize(runtime.Object)                               {}
func (strategy) AllowCreateOnUpdate() bool                                 { return false }
func (strategy) AllowUnconditionalUpdate() bool                            { return true }
func (s strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set { return s.resetFields }

func resetPaths(gv string, paths ...string) map[fieldpath.APIVersion]*fieldpath.Set {
	set := fieldpath.NewSet()
	for _, p := range paths {
		set.Insert(fieldpath.MakePathOrDie(p))
	}
	return map[fieldpath.APIVersion]*fieldpath.Set{fieldpath.APIVersion(gv): set}
}

// statusREST serves the /status subresource on a copy of the main store.
type statusREST struct {
	store *genericregistry.Store
}

func (r *statusREST) New() runtime.Object { return r.store.New() }
func (r *statusREST) Destroy()            {}
func (r *statusREST) Get(ctx context.Context, name string, o *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, o)
}
func (r *statusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, cv rest.ValidateObjectFunc, uv rest.ValidateObjectUpdateFunc, _ bool, o *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.store.Update(ctx, name, objInfo, cv, uv, false, o)
}
func (r *statusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// shortNamed adds kubectl short names (no, po, ns, ...) to a store.
type shortNamed struct {
	*genericregistry.Store
	short []string
}

func (s shortNamed) ShortNames() []string { return s.short }

func newStore(getter generic.RESTOptionsGetter, group string, d typeDef) (*genericregistry.Store, *statusREST, error) {
	d.main.ObjectTyper, d.main.NameGenerator = scheme, names.SimpleNameGenerator
	gr := schema.GroupResource{Group: group, Resource: d.resource}
	st := &genericregistry.Store{
		NewFunc:                   d.newFunc,
		NewListFunc:               d.newList,
		DefaultQualifiedResource:  gr,
		SingularQualifiedResource: schema.GroupResource{Group: group, Resource: d.singular},
		CreateStrategy:            d.main,
		UpdateStrategy:            d.main,
		DeleteStrategy:            d.main,
		ResetFieldsStrategy:       d.main,
		TableConvertor:            rest.NewDefaultTableConvertor(gr),
	}
	if d.table != nil {
		st.TableConvertor = d.table
	}
	opts := &generic.StoreOptions{RESTOptions: getter}
	if d.attrs != nil {
		attrs := d.attrs
		opts.AttrFunc = func(obj runtime.Object) (labels.Set, fields.Set, error) {
			m, err := metaOf(obj)
			if err != nil {
				return nil, nil, err
			}
			return labels.Set(m.Labels), generic.MergeFieldsSets(generic.ObjectMetaFieldsSet(m, d.main.namespaced), attrs(obj)), nil
		}
	}
	if err := st.CompleteWithOptions(opts); err != nil {
		return nil, nil, err
	}
	if d.status == nil {
		return st, nil, nil
	}
	ss := *st
	d.status.ObjectTyper, d.status.NameGenerator = scheme, names.SimpleNameGenerator
	ss.UpdateStrategy, ss.ResetFieldsStrategy = *d.status, *d.status
	ss.CreateStrategy = nil
	return st, &statusREST{&ss}, nil
}

func metaOf(obj runtime.Object) (*metav1.ObjectMeta, error) {
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		return a.GetObjectMeta().(*metav1.ObjectMeta), nil
	}
	return nil, fmt.Errorf("no ObjectMeta in %T", obj)
}

// ---- field selectors: which fields each version accepts ----

// registerFieldLabelConversions allows, per kind, metadata.name,
// metadata.namespace and the keys of the type's attrs (taken from a zero
// object), as kube-apiserver's per-type conversion functions do. The
// events.k8s.io/v1 names (regarding.*, reportingController) map onto the
// core/v1 ones, as in k8s.io/kubernetes/pkg/apis/events/v1/conversion.go.
func registerFieldLabelConversions(s *runtime.Scheme) error {
	for _, g := range apiGroups {
		for _, t := range g.types {
			ok := map[string]bool{"metadata.name": true, "metadata.namespace": true}
			if t.attrs != nil {
				for k := range t.attrs(t.newFunc()) {
					ok[k] = true
				}
			}
			kind := reflect.TypeOf(t.newFunc()).Elem().Name()
			gvk := schema.GroupVersionKind{Group: g.group, Version: g.version, Kind: kind}
			err := s.AddFieldLabelConversionFunc(gvk, func(label, value string) (string, string, error) {
				if ok[label] {
					return label, value, nil
				}
				return "", "", fmt.Errorf("field label not supported: %s", label)
			})
			if err != nil {
				return err
			}
		}
	}
	return s.AddFieldLabelConversionFunc(eventsv1.SchemeGroupVersion.WithKind("Event"), func(label, value string) (string, string, error) {
		switch {
		case label == "reason" || label == "type" || label == "metadata.name" || label == "metadata.namespace":
			return label, value, nil
		case label == "reportingController":
			return "reportingComponent", value, nil
		case strings.HasPrefix(label, "regarding."):
			f := strings.TrimPrefix(label, "regarding.")
			switch f {
			case "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath":
				return "involvedObject." + f, value, nil
			}
		}
		return "", "", fmt.Errorf("field label not supported: %s", label)
	})
}

// ---- events.k8s.io/v1 Event <-> core/v1 Event (mirrors k8s.io/kubernetes/pkg/apis/events/v1) ----

func registerEventConversions(s *runtime.Scheme) error {
	if err := s.AddConversionFunc((*eventsv1.Event)(nil), (*corev1.Event)(nil), func(a, b interface{}, _ conversion.Scope) error {
		in, out := a.(*eventsv1.Event), b.(*corev1.Event)
		*out = corev1.Event{
			ObjectMeta: in.ObjectMeta, InvolvedObject: in.Regarding, Related: in.Related,
			Reason: in.Reason, Message: in.Note, Type: in.Type, Action: in.Action,
			EventTime: in.EventTime, ReportingController: in.ReportingController, ReportingInstance: in.ReportingInstance,
			Source: in.DeprecatedSource, FirstTimestamp: in.DeprecatedFirstTimestamp,
			LastTimestamp: in.DeprecatedLastTimestamp, Count: in.DeprecatedCount,
		}
		if in.Series != nil {
			out.Series = &corev1.EventSeries{Count: in.Series.Count, LastObservedTime: in.Series.LastObservedTime}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := s.AddConversionFunc((*corev1.Event)(nil), (*eventsv1.Event)(nil), func(a, b interface{}, _ conversion.Scope) error {
		in, out := a.(*corev1.Event), b.(*eventsv1.Event)
		*out = eventsv1.Event{
			ObjectMeta: in.ObjectMeta, Regarding: in.InvolvedObject, Related: in.Related,
			Reason: in.Reason, Note: in.Message, Type: in.Type, Action: in.Action,
			EventTime: in.EventTime, ReportingController: in.ReportingController, ReportingInstance: in.ReportingInstance,
			DeprecatedSource: in.Source, DeprecatedFirstTimestamp: in.FirstTimestamp,
			DeprecatedLastTimestamp: in.LastTimestamp, DeprecatedCount: in.Count,
		}
		if in.Series != nil {
			out.Series = &eventsv1.EventSeries{Count: in.Series.Count, LastObservedTime: in.Series.LastObservedTime}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := s.AddConversionFunc((*eventsv1.EventList)(nil), (*corev1.EventList)(nil), func(a, b interface{}, sc conversion.Scope) error {
		in, out := a.(*eventsv1.EventList), b.(*corev1.EventList)
		out.ListMeta, out.Items = in.ListMeta, make([]corev1.Event, len(in.Items))
		for i := range in.Items {
			if err := s.Convert(&in.Items[i], &out.Items[i], nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return s.AddConversionFunc((*corev1.EventList)(nil), (*eventsv1.EventList)(nil), func(a, b interface{}, sc conversion.Scope) error {
		in, out := a.(*corev1.EventList), b.(*eventsv1.EventList)
		out.ListMeta, out.Items = in.ListMeta, make([]eventsv1.Event, len(in.Items))
		for i := range in.Items {
			if err := s.Convert(&in.Items[i], &out.Items[i], nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// nodeTable gives `kubectl get nodes` the familiar columns.
type nodeTable struct{}

func (nodeTable) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name"}, {Name: "Status", Type: "string"},
		{Name: "Roles", Type: "string"}, {Name: "Age", Type: "string"}, {Name: "Version", Type: "string"},
	}}
	var items []corev1.Node
	switch o := obj.(type) {
	case *corev1.Node:
		items = []corev1.Node{*o}
	case *corev1.NodeList:
		items = o.Items
		t.ResourceVersion, t.Continue, t.RemainingItemCount = o.ResourceVersion, o.Continue, o.RemainingItemCount
	}
	for i := range items {
		n := &items[i]
		status := "Unknown"
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				status = map[corev1.ConditionStatus]string{corev1.ConditionTrue: "Ready", corev1.ConditionFalse: "NotReady"}[c.Status]
				if status == "" {
					status = "Unknown"
				}
			}
		}
		if n.Spec.Unschedulable {
			status += ",SchedulingDisabled"
		}
		roles := "<none>"
		for k := range n.Labels {
			if len(k) > len("node-role.kubernetes.io/") && k[:len("node-role.kubernetes.io/")] == "node-role.kubernetes.io/" {
				roles = k[len("node-role.kubernetes.io/"):]
			}
		}
		t.Rows = append(t.Rows, metav1.TableRow{
			Cells:  []interface{}{n.Name, status, roles, age(n.CreationTimestamp.Time), n.Status.NodeInfo.KubeletVersion},
			Object: runtime.RawExtension{Object: n},
		})
	}
	return t, nil
}
