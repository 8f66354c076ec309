// helm-render renders a Helm chart the way `helm template` does, with the engine Helm uses:
// Go's text/template plus the Masterminds sprig function map (Debian's golang-github-masterminds-sprig-dev)
// and Helm's own functions (include, tpl, required, toYaml, fromYaml, fromYamlArray, toJson, fromJson,
// fromJsonArray, lookup). YAML goes through github.com/ghodss/yaml, the library sigs.k8s.io/yaml (Helm's
// YAML) was forked from: values are read as Helm reads them (YAML -> JSON, numbers become float64) and
// toYaml prints as Helm's does.
//
// It implements the parts of Helm's engine (helm.sh/helm/v3/pkg/engine, pkg/action, pkg/releaseutil)
// that a chart without dependencies, hooks or Files uses: values.yaml coalesced with -f files and --set,
// .Values/.Release/.Chart/.Capabilities/.Template, every file under templates/ parsed into one template
// set, files whose base name starts with "_" are partials and render nothing, NOTES.txt is skipped,
// missingkey=zero and "<no value>" removed, documents split on "---" with empty ones dropped, sorted by
// Helm's kind install order, each printed after "---\n# Source: <chart>/templates/<file>".
//
// Usage: helm-render [--namespace NS] [--release NAME] [-f values.yaml]... [--set k.k=v]...
//
//	[--set-string k=v]... [--show-only templates/x.yaml] CHART_DIR
//
// Exit 0 with the manifests on stdout; exit 1 with "Error: ..." on stderr (as helm) on any failure,
// e.g. a `required` value missing: "Error: execution error at (chart/templates/x.yaml:3:12): message".
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/ioutil"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/ghodss/yaml"
)

const (
	warnStart       = "HELM_ERR_START"
	warnEnd         = "HELM_ERR_END"
	maxIncludeDepth = 1000
)

type values = map[string]interface{}

// capabilities mirrors chartutil.Capabilities for what charts usually ask (.Capabilities.KubeVersion,
// .Capabilities.APIVersions.Has).
type versionSet []string

func (v versionSet) Has(s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

type kubeVersion struct{ Version, Major, Minor string }

func (k kubeVersion) String() string     { return k.Version }
func (k kubeVersion) GitVersion() string { return k.Version }

type capabilities struct {
	KubeVersion kubeVersion
	APIVersions versionSet
}

// readYAMLMap reads a YAML mapping as Helm's chartutil.ReadValues does (sigs.k8s.io/yaml: via JSON).
func readYAMLMap(file string) (values, error) {
	data, err := ioutil.ReadFile(file)
	if err != nil {
		return nil, err
	}
	v := values{}
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if v == nil {
		v = values{}
	}
	return v, nil
}

// coalesce merges src (user values) over dst (chart defaults), as chartutil.CoalesceTables: maps
// merge recursively, other values replace, a null in src deletes the key.
func coalesce(dst, src values) values {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		dm, dok := dst[k].(map[string]interface{})
		sm, sok := sv.(map[string]interface{})
		if dok && sok {
			dst[k] = coalesce(dm, sm)
		} else {
			dst[k] = sv
		}
	}
	return dst
}

// setValue applies one --set (typed) or --set-string assignment: "a.b.c=v" (a\\.b: a key with a
// dot); v is parsed as Helm's
// strvals does for the simple cases: true/false, null, integers (int64), {x,y} lists, else a string.
func setValue(v values, expr string, asString bool) error {
	eq := strings.Index(expr, "=")
	if eq <= 0 {
		return fmt.Errorf("--set %q: want key=value", expr)
	}
	keys := splitKey(expr[:eq])
	raw := expr[eq+1:]
	var val interface{} = raw
	if !asString {
		val = typed(raw)
		if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			var l []interface{}
			for _, s := range strings.Split(raw[1:len(raw)-1], ",") {
				l = append(l, typed(s))
			}
			val = l
		}
	}
	m := v
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]interface{})
		if !ok {
			next = values{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = val
	return nil
}

// splitKey splits "a.b\\.c" into [a, b.c]: a backslash escapes a dot, as in Helm's --set.
func splitKey(k string) []string {
	var keys []string
	var cur strings.Builder
	for i := 0; i < len(k); i++ {
		switch {
		case k[i] == '\\' && i+1 < len(k) && k[i+1] == '.':
			cur.WriteByte('.')
			i++
		case k[i] == '.':
			keys = append(keys, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(k[i])
		}
	}
	return append(keys, cur.String())
}

func typed(s string) interface{} {
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && (s == "0" || !strings.HasPrefix(s, "0")) {
		return i
	}
	return s
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	a := []interface{}{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	a := []interface{}{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

// funcMap is Helm's engine.funcMap: sprig's text functions without env/expandenv, plus Helm's own.
// include, tpl and required are bound to the template set in render.
func funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"toToml":        func(interface{}) string { return "" }, // not used by this chart; Helm uses BurntSushi/toml
		"toYaml":        toYAML,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		"include":       func(string, interface{}) string { return "not implemented" },
		"tpl":           func(string, interface{}) interface{} { return "not implemented" },
		"required":      func(string, interface{}) (interface{}, error) { return nil, errors.New("not implemented") },
		// helm template has no cluster: lookup returns an empty map, as Helm does offline
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

var warnRegex = regexp.MustCompile(warnStart + `((?s).*)` + warnEnd)

// cleanupExecError turns a template execution error into Helm's "execution error at (loc): msg".
func cleanupExecError(filename string, err error) error {
	if _, ok := err.(template.ExecError); !ok {
		return err
	}
	tokens := strings.SplitN(err.Error(), ": ", 3)
	if len(tokens) != 3 {
		return fmt.Errorf("render error in %q: %v", filename, err)
	}
	if parts := warnRegex.FindStringSubmatch(tokens[2]); len(parts) >= 2 {
		return fmt.Errorf("execution error at (%s): %s", tokens[1], parts[1])
	}
	return err
}

type engine struct {
	t        *template.Template
	included map[string]int
}

func (e *engine) bind(f template.FuncMap) {
	f["include"] = func(name string, data interface{}) (string, error) {
		if e.included[name] > maxIncludeDepth {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		e.included[name]++
		defer func() { e.included[name]-- }()
		var buf strings.Builder
		err := e.t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	f["tpl"] = func(tpl string, vals interface{}) (string, error) {
		t, err := e.t.Clone()
		if err != nil {
			return "", err
		}
		name := "tpl"
		if m, ok := vals.(map[string]interface{}); ok {
			if tm, ok := m["Template"].(map[string]interface{}); ok {
				if n, ok := tm["Name"].(string); ok {
					name = n
				}
			}
		}
		if _, err := t.New(name).Parse(tpl); err != nil {
			return "", fmt.Errorf("cannot parse template %q: %v", tpl, err)
		}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %v", tpl, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(warnStart + warn + warnEnd)
		}
		if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warnStart + warn + warnEnd)
		}
		return val, nil
	}
}

// installOrder is releaseutil.InstallOrder; kinds not in it go last, ordered by kind name.
var installOrder = []string{"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
	"PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
	"StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
	"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
	"RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService"}

type manifest struct {
	source, content, kind string
}

var sep = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

// splitManifests is releaseutil.SplitManifests: documents separated by "---", whitespace-only dropped.
func splitManifests(bigFile string) []string {
	var out []string
	for _, d := range sep.Split(strings.TrimSpace(bigFile), -1) {
		if d == "" {
			continue
		}
		out = append(out, strings.TrimSpace(d))
	}
	return out
}

func kindRank(k string) int {
	for i, x := range installOrder {
		if x == k {
			return i
		}
	}
	return len(installOrder)
}

type options struct {
	namespace, release string
	valueFiles, sets   []string
	setStrings, only   []string
	chart              string
}

func parseArgs(args []string) (options, error) {
	o := options{namespace: "default", release: "release-name"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) {
			if j := strings.Index(a, "="); j > 0 && strings.HasPrefix(a, "--") {
				return a[j+1:], nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", a)
			}
			i++
			return args[i], nil
		}
		name := a
		if j := strings.Index(a, "="); j > 0 && strings.HasPrefix(a, "--") {
			name = a[:j]
		}
		var v string
		var err error
		switch name {
		case "-n", "--namespace", "-f", "--values", "--set", "--set-string", "-s", "--show-only", "--release":
			if v, err = val(); err != nil {
				return o, err
			}
		}
		switch name {
		case "-n", "--namespace":
			o.namespace = v
		case "--release":
			o.release = v
		case "-f", "--values":
			o.valueFiles = append(o.valueFiles, v)
		case "--set":
			o.sets = append(o.sets, v)
		case "--set-string":
			o.setStrings = append(o.setStrings, v)
		case "-s", "--show-only":
			o.only = append(o.only, v)
		default:
			if strings.HasPrefix(a, "-") || o.chart != "" {
				return o, fmt.Errorf("unknown argument %q", a)
			}
			o.chart = a
		}
	}
	if o.chart == "" {
		return o, errors.New("usage: helm-render [-n NS] [--release NAME] [-f FILE]... [--set k=v]... [--set-string k=v]... [-s templates/F] CHART_DIR")
	}
	return o, nil
}

func run(args []string) error {
	o, err := parseArgs(args)
	if err != nil {
		return err
	}
	chartMeta, err := readYAMLMap(filepath.Join(o.chart, "Chart.yaml"))
	if err != nil {
		return err
	}
	chartName, _ := chartMeta["name"].(string)
	if chartName == "" {
		return errors.New("Chart.yaml: name is required")
	}
	// .Chart exposes Chart.yaml's fields capitalised (chart.Metadata): name -> Name, appVersion -> AppVersion
	chartObj := map[string]interface{}{}
	for k, v := range chartMeta {
		chartObj[strings.ToUpper(k[:1])+k[1:]] = v
	}
	vals, err := readYAMLMap(filepath.Join(o.chart, "values.yaml"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if vals == nil {
		vals = values{}
	}
	for _, f := range o.valueFiles {
		u, err := readYAMLMap(f)
		if err != nil {
			return err
		}
		vals = coalesce(vals, u)
	}
	for _, s := range o.sets {
		if err := setValue(vals, s, false); err != nil {
			return err
		}
	}
	for _, s := range o.setStrings {
		if err := setValue(vals, s, true); err != nil {
			return err
		}
	}
	// a null from --set deletes the key, as with -f
	vals = coalesce(values{}, vals)

	top := map[string]interface{}{
		"Values": vals,
		"Release": map[string]interface{}{
			"Name": o.release, "Namespace": o.namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": chartObj,
		"Capabilities": capabilities{
			KubeVersion: kubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"},
			APIVersions: versionSet{"v1", "apps/v1", "rbac.authorization.k8s.io/v1", "admissionregistration.k8s.io/v1"},
		},
		"Files": map[string]interface{}{},
	}

	// every file under templates/ (Helm: the chart's Templates), parsed into one set, names
	// "<chart>/templates/<relative path>"
	tdir := filepath.Join(o.chart, "templates")
	var files []string
	err = filepath.Walk(tdir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	e := &engine{included: map[string]int{}}
	f := funcMap()
	e.bind(f)
	e.t = template.New("gotpl").Option("missingkey=zero").Funcs(f)
	names := map[string]string{}
	for _, p := range files {
		rel, _ := filepath.Rel(o.chart, p)
		name := path.Join(chartName, filepath.ToSlash(rel))
		data, err := ioutil.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := e.t.New(name).Parse(string(data)); err != nil {
			return fmt.Errorf("parse error in %q: %v", name, err)
		}
		names[name] = filepath.ToSlash(rel)
	}
	var rendered []string
	for name := range names {
		rendered = append(rendered, name)
	}
	sort.Strings(rendered)
	var out []manifest
	for _, name := range rendered {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		if len(o.only) > 0 {
			keep := false
			for _, s := range o.only {
				keep = keep || s == names[name]
			}
			if !keep {
				continue
			}
		}
		scope := map[string]interface{}{}
		for k, v := range top {
			scope[k] = v
		}
		scope["Template"] = map[string]interface{}{"Name": name, "BasePath": path.Join(chartName, "templates")}
		var buf bytes.Buffer
		if err := e.t.ExecuteTemplate(&buf, name, scope); err != nil {
			return cleanupExecError(name, err)
		}
		content := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(content) == "" {
			continue
		}
		for _, doc := range splitManifests(content) {
			var head struct {
				Kind string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				return fmt.Errorf("YAML parse error on %s: %v", name, err)
			}
			out = append(out, manifest{source: name, content: doc, kind: head.Kind})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := kindRank(out[i].kind), kindRank(out[j].kind)
		if ri != rj {
			return ri < rj
		}
		if ri == len(installOrder) {
			return out[i].kind < out[j].kind
		}
		return false
	})
	var w bytes.Buffer
	for _, m := range out {
		fmt.Fprintf(&w, "---\n# Source: %s\n%s\n", m.source, m.content)
	}
	_, err = os.Stdout.Write(w.Bytes())
	return err
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}
