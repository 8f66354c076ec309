package main

// The resources served, as one table: adding a resource (issue 7 needs
// apps/v1, rbac.authorization.k8s.io/v1, admissionregistration.k8s.io/v1,
// serviceaccounts, configmaps) is one typeDef in the right apiGroup (and the
// group's AddToScheme in main.go's init when the group is new).

import (
	"strconv"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
)

type typeDef struct {
	resource string
	singular string
	short    []string
	newFunc  func() runtime.Object
	newList  func() runtime.Object
	main     strategy
	status   *strategy // nil: no status subresource
	// attrs: the type's own field-selector fields (metadata.* are always there)
	attrs func(obj runtime.Object) fields.Set
	table rest.TableConvertor // nil: NAME and CREATED AT
}

type apiGroup struct {
	group, version string
	addToScheme    func(*runtime.Scheme) error
	types          []typeDef
}

var apiGroups = []apiGroup{
	{"", "v1", corev1.AddToScheme, coreTypes},
	{coordinationv1.GroupName, "v1", coordinationv1.AddToScheme, []typeDef{{
		resource: "leases", singular: "lease",
		newFunc: func() runtime.Object { return &coordinationv1.Lease{} },
		newList: func() runtime.Object { return &coordinationv1.LeaseList{} },
		main:    strategy{namespaced: true},
	}}},
	// for manifests (issue 7): `kubectl apply --dry-run=server --validate=strict`
	{appsv1.GroupName, "v1", appsv1.AddToScheme, []typeDef{
		withStatus(typeDef{resource: "daemonsets", singular: "daemonset", short: []string{"ds"},
			newFunc: func() runtime.Object { return &appsv1.DaemonSet{} },
			newList: func() runtime.Object { return &appsv1.DaemonSetList{} }}, true,
			func(o, old runtime.Object) { o.(*appsv1.DaemonSet).Status = old.(*appsv1.DaemonSet).Status },
			func(o, old runtime.Object) { o.(*appsv1.DaemonSet).Spec = old.(*appsv1.DaemonSet).Spec }),
		withStatus(typeDef{resource: "deployments", singular: "deployment", short: []string{"deploy"},
			newFunc: func() runtime.Object { return &appsv1.Deployment{} },
			newList: func() runtime.Object { return &appsv1.DeploymentList{} }}, true,
			func(o, old runtime.Object) { o.(*appsv1.Deployment).Status = old.(*appsv1.Deployment).Status },
			func(o, old runtime.Object) { o.(*appsv1.Deployment).Spec = old.(*appsv1.Deployment).Spec }),
	}},
	{rbacv1.GroupName, "v1", rbacv1.AddToScheme, []typeDef{
		plain("clusterroles", "clusterrole", false, func() runtime.Object { return &rbacv1.ClusterRole{} },
			func() runtime.Object { return &rbacv1.ClusterRoleList{} }),
		plain("clusterrolebindings", "clusterrolebinding", false, func() runtime.Object { return &rbacv1.ClusterRoleBinding{} },
			func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} }),
		plain("roles", "role", true, func() runtime.Object { return &rbacv1.Role{} },
			func() runtime.Object { return &rbacv1.RoleList{} }),
		plain("rolebindings", "rolebinding", true, func() runtime.Object { return &rbacv1.RoleBinding{} },
			func() runtime.Object { return &rbacv1.RoleBindingList{} }),
	}},
	{admissionregistrationv1.GroupName, "v1", admissionregistrationv1.AddToScheme, []typeDef{
		withStatus(typeDef{resource: "validatingadmissionpolicies", singular: "validatingadmissionpolicy",
			newFunc: func() runtime.Object { return &admissionregistrationv1.ValidatingAdmissionPolicy{} },
			newList: func() runtime.Object { return &admissionregistrationv1.ValidatingAdmissionPolicyList{} }}, false,
			func(o, old runtime.Object) {
				o.(*admissionregistrationv1.ValidatingAdmissionPolicy).Status = old.(*admissionregistrationv1.ValidatingAdmissionPolicy).Status
			},
			func(o, old runtime.Object) {
				o.(*admissionregistrationv1.ValidatingAdmissionPolicy).Spec = old.(*admissionregistrationv1.ValidatingAdmissionPolicy).Spec
			}),
		plain("validatingadmissionpolicybindings", "validatingadmissionpolicybinding", false,
			func() runtime.Object { return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{} },
			func() runtime.Object { return &admissionregistrationv1.ValidatingAdmissionPolicyBindingList{} }),
	}},
}

// plain: a resource with no status subresource and no rules of its own.
func plain(resource, singular string, namespaced bool, newFunc, newList func() runtime.Object) typeDef {
	return typeDef{resource: resource, singular: singular, newFunc: newFunc, newList: newList,
		main: strategy{namespaced: namespaced}}
}

// withStatus: spec and status written through separate endpoints, as in kube-apiserver.
func withStatus(d typeDef, namespaced bool, keepStatus, keepSpec func(o, old runtime.Object)) typeDef {
	d.main = strategy{namespaced: namespaced, prepareUpdate: keepStatus, resetFields: resetPaths("v1", "status")}
	d.status = &strategy{namespaced: namespaced, prepareUpdate: keepSpec, resetFields: resetPaths("v1", "spec")}
	return d
}

// storageVersions: the versions objects are stored in etcd as.
func storageVersions() []schema.GroupVersion {
	var out []schema.GroupVersion
	for _, g := range apiGroups {
		out = append(out, schema.GroupVersion{Group: g.group, Version: g.version})
	}
	return out
}

// storages: every installed store by "resource" (core) or "group/resource".
var storages = map[string]rest.Storage{}

func installAPIGroups(s *genericapiserver.GenericAPIServer, getter generic.RESTOptionsGetter) error {
	var infos []*genericapiserver.APIGroupInfo
	for _, g := range apiGroups {
		m := map[string]rest.Storage{}
		for _, t := range g.types {
			st, status, err := newStore(getter, g.group, t)
			if err != nil {
				return err
			}
			m[t.resource] = shortNamed{st, t.short}
			if status != nil {
				m[t.resource+"/status"] = status
			}
			key := t.resource
			if g.group != "" {
				key = g.group + "/" + t.resource
			}
			storages[key] = st
		}
		info := genericapiserver.NewDefaultAPIGroupInfo(g.group, scheme, parameterCodec, codecs)
		info.VersionedResourcesStorageMap[g.version] = m
		if g.group == "" {
			if err := s.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, &info); err != nil {
				return err
			}
			continue
		}
		infos = append(infos, &info)
	}
	// events.k8s.io/v1 events share the core/v1 event storage, as in Kubernetes.
	ev := genericapiserver.NewDefaultAPIGroupInfo(eventsv1.GroupName, scheme, parameterCodec, codecs)
	ev.VersionedResourcesStorageMap["v1"] = map[string]rest.Storage{"events": storages["events"]}
	infos = append(infos, &ev)
	// authentication.k8s.io/v1 selfsubjectreviews (kubectl auth whoami)
	authn := genericapiserver.NewDefaultAPIGroupInfo(authenticationv1.GroupName, scheme, parameterCodec, codecs)
	authn.VersionedResourcesStorageMap["v1"] = map[string]rest.Storage{"selfsubjectreviews": selfSubjectReviewREST{}}
	infos = append(infos, &authn)
	return s.InstallAPIGroups(infos...)
}

var coreTypes = []typeDef{
	plain("serviceaccounts", "serviceaccount", true, func() runtime.Object { return &corev1.ServiceAccount{} },
		func() runtime.Object { return &corev1.ServiceAccountList{} }),
	plain("configmaps", "configmap", true, func() runtime.Object { return &corev1.ConfigMap{} },
		func() runtime.Object { return &corev1.ConfigMapList{} }),
	{
		resource: "nodes", short: []string{"no"}, singular: "node", table: nodeTable{},
		newFunc: func() runtime.Object { return &corev1.Node{} }, newList: func() runtime.Object { return &corev1.NodeList{} },
		main: strategy{
			prepareUpdate: func(o, old runtime.Object) { o.(*corev1.Node).Status = old.(*corev1.Node).Status },
			validate:      validateNode,
			resetFields:   resetPaths("v1", "status"),
		},
		status: &strategy{
			prepareUpdate: func(o, old runtime.Object) { o.(*corev1.Node).Spec = old.(*corev1.Node).Spec },
			validate:      validateNode,
			resetFields:   resetPaths("v1", "spec"),
		},
		attrs: func(o runtime.Object) fields.Set {
			return fields.Set{"spec.unschedulable": strconv.FormatBool(o.(*corev1.Node).Spec.Unschedulable)}
		},
	}, {
		resource: "pods", short: []string{"po"}, singular: "pod",
		newFunc: func() runtime.Object { return &corev1.Pod{} }, newList: func() runtime.Object { return &corev1.PodList{} },
		main: strategy{namespaced: true,
			prepareCreate: func(o runtime.Object) {
				p := o.(*corev1.Pod)
				p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort}
			},
			prepareUpdate: func(o, old runtime.Object) { o.(*corev1.Pod).Status = old.(*corev1.Pod).Status },
			resetFields:   resetPaths("v1", "status"),
		},
		status: &strategy{namespaced: true,
			prepareUpdate: func(o, old runtime.Object) { o.(*corev1.Pod).Spec = old.(*corev1.Pod).Spec },
			resetFields:   resetPaths("v1", "spec"),
		},
		attrs: func(o runtime.Object) fields.Set {
			p := o.(*corev1.Pod)
			return fields.Set{
				"spec.nodeName": p.Spec.NodeName, "spec.restartPolicy": string(p.Spec.RestartPolicy),
				"spec.schedulerName": p.Spec.SchedulerName, "spec.serviceAccountName": p.Spec.ServiceAccountName,
				"spec.hostNetwork": strconv.FormatBool(p.Spec.HostNetwork), "status.phase": string(p.Status.Phase),
				"status.podIP": p.Status.PodIP, "status.nominatedNodeName": p.Status.NominatedNodeName,
			}
		},
	}, {
		resource: "namespaces", short: []string{"ns"}, singular: "namespace",
		newFunc: func() runtime.Object { return &corev1.Namespace{} }, newList: func() runtime.Object { return &corev1.NamespaceList{} },
		main: strategy{
			prepareCreate: func(o runtime.Object) {
				n := o.(*corev1.Namespace)
				n.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
				if n.Labels == nil {
					n.Labels = map[string]string{}
				}
				n.Labels["kubernetes.io/metadata.name"] = n.Name
			},
			prepareUpdate: func(o, old runtime.Object) { o.(*corev1.Namespace).Status = old.(*corev1.Namespace).Status },
			validate:      validateNamespace,
			resetFields:   resetPaths("v1", "status"),
		},
		status: &strategy{
			prepareUpdate: func(o, old runtime.Object) { o.(*corev1.Namespace).Spec = old.(*corev1.Namespace).Spec },
			resetFields:   resetPaths("v1", "spec"),
		},
		attrs: func(o runtime.Object) fields.Set {
			return fields.Set{"status.phase": string(o.(*corev1.Namespace).Status.Phase)}
		},
	}, {
		resource: "persistentvolumes", short: []string{"pv"}, singular: "persistentvolume",
		newFunc: func() runtime.Object { return &corev1.PersistentVolume{} }, newList: func() runtime.Object { return &corev1.PersistentVolumeList{} },
		main: strategy{
			prepareCreate: func(o runtime.Object) {
				o.(*corev1.PersistentVolume).Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending}
			},
			prepareUpdate: func(o, old runtime.Object) {
				o.(*corev1.PersistentVolume).Status = old.(*corev1.PersistentVolume).Status
			},
			resetFields: resetPaths("v1", "status"),
		},
		status: &strategy{
			prepareUpdate: func(o, old runtime.Object) {
				o.(*corev1.PersistentVolume).Spec = old.(*corev1.PersistentVolume).Spec
			},
			resetFields: resetPaths("v1", "spec"),
		},
	}, {
		resource: "persistentvolumeclaims", short: []string{"pvc"}, singular: "persistentvolumeclaim",
		newFunc: func() runtime.Object { return &corev1.PersistentVolumeClaim{} }, newList: func() runtime.Object { return &corev1.PersistentVolumeClaimList{} },
		main: strategy{namespaced: true,
			prepareCreate: func(o runtime.Object) {
				o.(*corev1.PersistentVolumeClaim).Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
			},
			prepareUpdate: func(o, old runtime.Object) {
				o.(*corev1.PersistentVolumeClaim).Status = old.(*corev1.PersistentVolumeClaim).Status
			},
			resetFields: resetPaths("v1", "status"),
		},
		status: &strategy{namespaced: true,
			prepareUpdate: func(o, old runtime.Object) {
				o.(*corev1.PersistentVolumeClaim).Spec = old.(*corev1.PersistentVolumeClaim).Spec
			},
			resetFields: resetPaths("v1", "spec"),
		},
	}, {
		resource: "events", short: []string{"ev"}, singular: "event", table: eventTable{},
		newFunc: func() runtime.Object { return &corev1.Event{} }, newList: func() runtime.Object { return &corev1.EventList{} },
		main: strategy{namespaced: true, validate: validateEvent, validateUpdate: validateEventUpdate},
		attrs: func(o runtime.Object) fields.Set {
			e := o.(*corev1.Event)
			return fields.Set{
				"involvedObject.kind": e.InvolvedObject.Kind, "involvedObject.namespace": e.InvolvedObject.Namespace,
				"involvedObject.name": e.InvolvedObject.Name, "involvedObject.uid": string(e.InvolvedObject.UID),
				"involvedObject.apiVersion": e.InvolvedObject.APIVersion, "involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
				"involvedObject.fieldPath": e.InvolvedObject.FieldPath, "reason": e.Reason,
				"reportingComponent": e.ReportingController, "source": e.Source.Component, "type": e.Type,
			}
		},
	}}
