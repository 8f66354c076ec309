{{/*
nodeprint chart helpers, with the conventions of the common charts (node-feature-discovery,
node-problem-detector): names from nameOverride/fullnameOverride, objects in the release namespace,
the standard app.kubernetes.io/* and helm.sh/chart labels. With the release name "nodeprint" in the
namespace "nodeprint" the rendering equals manifests/ except the two Helm bookkeeping labels
(helm.sh/chart, app.kubernetes.io/managed-by) and the Namespace, which the chart does not own
(tests/helm/test_chart.py).
*/}}

{{/* The app name: nameOverride or the chart's name. */}}
{{- define "nodeprint.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The name of every object: fullnameOverride, else the release name when it holds the app name, else
release-app ("nodeprint" for `helm install nodeprint`). Kept to 52 characters: suffixes
("-own-node", "-policy", "-cleanup") stay within 63. */}}
{{- define "nodeprint.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "nodeprint.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The release namespace (helm install -n NS): the chart never sets or owns another. */}}
{{- define "nodeprint.namespace" -}}
{{- .Release.Namespace -}}
{{- end -}}

{{- define "nodeprint.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The DaemonSet's selector (immutable): name and instance, so two releases never select each other's pods. */}}
{{- define "nodeprint.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nodeprint.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "nodeprint.labels" -}}
helm.sh/chart: {{ include "nodeprint.chart" . }}
{{ include "nodeprint.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "nodeprint.image" -}}
{{- required "image.repository is required" .Values.image.repository -}}:{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{/* labelPrefix, checked: a DNS subdomain (it is spliced into CEL strings and taint keys). */}}
{{- define "nodeprint.prefix" -}}
{{- $p := required "labelPrefix is required" .Values.labelPrefix | toString -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" $p) -}}
{{- fail (printf "labelPrefix %q is not a DNS subdomain (lower case letters, digits, '-' and '.'; no trailing '/')" $p) -}}
{{- end -}}
{{- $p -}}
{{- end -}}

{{/*
The policy text (values.policy through tpl), checked: valid YAML, a mapping, and its labelPrefix
(the agent's default is nodeprint.io) equal to .Values.labelPrefix - one source of truth.
*/}}
{{- define "nodeprint.policy" -}}
{{- $text := tpl (required "policy is required" .Values.policy) . -}}
{{- $p := fromYaml $text -}}
{{- if hasKey $p "Error" -}}
{{- fail (printf "policy is not a YAML mapping: %s" (get $p "Error")) -}}
{{- end -}}
{{- $prefix := include "nodeprint.prefix" . -}}
{{- $own := get $p "labelPrefix" | default "nodeprint.io" | toString -}}
{{- if ne $own $prefix -}}
{{- fail (printf "policy labelPrefix %q differs from labelPrefix %q: write labelPrefix: {{ .Values.labelPrefix }} in the policy" $own $prefix) -}}
{{- end -}}
{{- $text -}}
{{- end -}}

{{/* The policy's actions (a map finding -> {condition, taint, event}), as JSON. */}}
{{- define "nodeprint.actions" -}}
{{- $p := include "nodeprint.policy" . | fromYaml -}}
{{- /* the agent merges a policy's actions over the built-in ones, field by field: so does the chart */ -}}
{{- $acts := get (.Files.Get "files/default-actions.yaml" | fromYaml) "actions" | default dict | deepCopy -}}
{{- range $finding, $a := get $p "actions" | default dict -}}
{{- if and (kindIs "map" $a) (kindIs "map" (get $acts $finding)) -}}
{{- $_ := set $acts $finding (mergeOverwrite (get $acts $finding | deepCopy) $a) -}}
{{- else -}}
{{- $_ := set $acts $finding $a -}}
{{- end -}}
{{- end -}}
{{- $acts | toJson -}}
{{- end -}}

{{/* Condition types the agent writes: every action's condition, sorted, unique; a JSON array. */}}
{{- define "nodeprint.conditionTypes" -}}
{{- $types := list -}}
{{- range $finding, $a := include "nodeprint.actions" . | fromJson -}}
{{- if and (kindIs "map" $a) (get $a "condition") -}}
{{- $types = append $types (get $a "condition" | toString) -}}
{{- end -}}
{{- end -}}
{{- /* set from `baseline compare` verdicts, not from an action (docs/baseline.md) */ -}}
{{- $types = append $types "BundleRegression" -}}
{{- $types | uniq | sortAlpha | toJson -}}
{{- end -}}

{{/* Keys of the agent's own taints (<prefix>/<finding> of actions whose taint is not none), sorted; JSON. */}}
{{- define "nodeprint.ownTaints" -}}
{{- $prefix := include "nodeprint.prefix" . -}}
{{- $keys := list -}}
{{- range $finding, $a := include "nodeprint.actions" . | fromJson -}}
{{- if kindIs "map" $a -}}
{{- $t := get $a "taint" | default "none" | toString -}}
{{- if ne $t "none" -}}
{{- $keys = append $keys (printf "%s/%s" $prefix $finding) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $keys | sortAlpha | toJson -}}
{{- end -}}
