package main

// Server-side tables for `kubectl get`, with kubectl's usual columns.

import (
	"context"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

func age(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t))
}

// eventTable: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE as kubectl prints events.
type eventTable struct{}

func (eventTable) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Last Seen", Type: "string"}, {Name: "Type", Type: "string"}, {Name: "Reason", Type: "string"},
		{Name: "Object", Type: "string"}, {Name: "Message", Type: "string"},
		{Name: "Name", Type: "string", Format: "name", Priority: 1}, {Name: "Count", Type: "integer", Priority: 1},
	}}
	var items []corev1.Event
	switch o := obj.(type) {
	case *corev1.Event:
		items = []corev1.Event{*o}
	case *corev1.EventList:
		items = o.Items
		t.ResourceVersion, t.Continue, t.RemainingItemCount = o.ResourceVersion, o.Continue, o.RemainingItemCount
	}
	for i := range items {
		e := &items[i]
		last := e.LastTimestamp.Time
		if e.Series != nil {
			last = e.Series.LastObservedTime.Time
		} else if last.IsZero() {
			last = e.EventTime.Time
		}
		if last.IsZero() {
			last = e.CreationTimestamp.Time
		}
		count := e.Count
		if e.Series != nil {
			count = e.Series.Count
		}
		o := e.InvolvedObject
		objName := o.Name
		if o.Kind != "" {
			objName = strings.ToLower(o.Kind) + "/" + o.Name
		}
		t.Rows = append(t.Rows, metav1.TableRow{
			Cells:  []interface{}{age(last), e.Type, e.Reason, objName, e.Message, e.Name, int64(count)},
			Object: runtime.RawExtension{Object: e},
		})
	}
	return t, nil
}
