{{/*
nodeprint chart helpers. No helm.sh/chart or app.kubernetes.io/managed-by labels: the default
rendering equals manifests/ object for object (tests/helm/test_chart.py).
*/}}

{{/* The name of every object (Namespace aside): the chart's name, "nodeprint". */}}
{{- define "nodeprint.name" -}}
{{- .Chart.Name -}}
{{- end -}}

{{- define "nodeprint.namespace" -}}
{{- required "namespace.name is required" .Values.namespace.name -}}
{{- end -}}

{{/* Labels of every object and the DaemonSet's selector. */}}
{{- define "nodeprint.labels" -}}
app.kubernetes.io/name: {{ include "nodeprint.name" . }}
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
{{- get $p "actions" | default dict | toJson -}}
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
