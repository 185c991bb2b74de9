{{/*
Names as upstream's `elasti` chart makes them, so the resolver upstream's chart installs and this
operator find each other: fullname F = the release name if it contains "elasti", else
"<release>-elasti" (nameOverride replaces "elasti"), at most 63 characters.
*/}}
{{- define "elasti.name" -}}
{{- default "elasti" .Values.global.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "elasti.fullname" -}}
{{- if .Values.global.fullnameOverride }}
{{- .Values.global.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "elasti.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* allowedNamespaces plus the release namespace, without repeats (WATCH_NAMESPACES). */}}
{{- define "elasti.watchNamespaceList" -}}
{{- append .Values.global.allowedNamespaces .Release.Namespace | uniq | toJson -}}
{{- end }}

{{/* Labels of every object: the chart's, then global.labels. */}}
{{- define "elasti.labels" -}}
app.kubernetes.io/name: {{ include "elasti.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- with .Values.global.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of the operator Pods (upstream's). */}}
{{- define "elasti.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "elasti.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* metadata.annotations of every object, when global.annotations has any. */}}
{{- define "elasti.annotations" -}}
{{- with .Values.global.annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "elasti.serviceAccountName" -}}
{{ include "elasti.fullname" . }}-operator-controller-manager
{{- end }}

{{- define "elasti.image" -}}
{{- $m := .Values.elastiController.manager.image }}
{{- $registry := default .Values.global.image.registry $m.registry }}
{{- printf "%s/%s:%s" $registry $m.repository (default .Chart.AppVersion $m.tag) }}
{{- end }}

{{/*
The rules the operator needs in each namespace it works in: the same as config/rbac/role.yaml
without the cluster-scoped `namespaces` rule (the chart test keeps the two equal).
*/}}
{{- define "elasti.namespacedRules" -}}
# ElastiServices: watched; the finalizer is added and removed with patches.
- apiGroups: [elasti.truefoundry.com]
  resources: [elastiservices]
  verbs: [get, list, watch, patch]
# Mode, conditions and lastScaledUpTime.
- apiGroups: [elasti.truefoundry.com]
  resources: [elastiservices/status]
  verbs: [patch]
# Owner references with blockOwnerDeletion on our Services and EndpointSlices.
- apiGroups: [elasti.truefoundry.com]
  resources: [elastiservices/finalizers]
  verbs: [update]
# Scale targets (and the resolver Deployment) are watched.
- apiGroups: [apps]
  resources: [deployments, statefulsets]
  verbs: [get, list, watch]
- apiGroups: [argoproj.io]
  resources: [rollouts]
  verbs: [get, list, watch]
# Replicas are read and written through the /scale subresource only.
- apiGroups: [apps]
  resources: [deployments/scale, statefulsets/scale]
  verbs: [get, update]
- apiGroups: [argoproj.io]
  resources: [rollouts/scale]
  verbs: [get, update]
# KEDA ScaledObjects are paused and unpaused with merge patches.
- apiGroups: [keda.sh]
  resources: [scaledobjects]
  verbs: [patch]
# Public Services are watched; private Services are created, kept in shape and deleted.
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, update, delete]
# Target readiness.
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
# The resolver's slices are watched; the slices to the resolver are written.
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch, create, update, delete]
# Events on ElastiServices.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end }}
