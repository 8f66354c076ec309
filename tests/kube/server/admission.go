package main

// Admission: k8s.io/apiserver's own plugins, wired as kube-apiserver wires
// them (an informer factory and clients over the loopback connection).
// NamespaceLifecycle (no objects in missing or terminating namespaces) and
// ValidatingAdmissionPolicy (real CEL, policies and bindings served by this
// server under admissionregistration.k8s.io/v1; the agent token's
// authentication.kubernetes.io/node-name extra is request.userInfo.extra).

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
)

// setupAdmission installs the comma-separated plugins ("" for none) and
// returns the informer factory to hand to Config.Complete (which starts it).
func setupAdmission(config *genericapiserver.Config, plugins string) (informers.SharedInformerFactory, error) {
	client, err := kubernetes.NewForConfig(config.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(config.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	inf := informers.NewSharedInformerFactory(client, 0)
	opts := genericoptions.NewAdmissionOptions()
	opts.RecommendedPluginOrder = nil
	for _, p := range strings.Split(plugins, ",") {
		if p = strings.TrimSpace(p); p != "" {
			opts.RecommendedPluginOrder = append(opts.RecommendedPluginOrder, p)
		}
	}
	opts.DefaultOffPlugins = sets.Set[string]{}
	if err := opts.ApplyTo(config, inf, client, dyn, config.FeatureGate, config.EffectiveVersion); err != nil {
		return nil, err
	}
	return inf, nil
}
