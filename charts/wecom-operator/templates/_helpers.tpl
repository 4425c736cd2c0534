{{- define "wecom-operator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "wecom-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "wecom-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "wecom-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "wecom-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wecom-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "wecom-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "wecom-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- /* The Secret with the Alertmanager receiver's certificate: the one named, or the one the
chart's cert-manager Certificate writes; empty serves plain HTTP. */ -}}
{{- define "wecom-operator.alertmanagerTLSSecret" -}}
{{- $tls := .Values.alertmanagerReceiver.tls -}}
{{- if $tls.secretName -}}
{{- $tls.secretName -}}
{{- else if $tls.certManager.enabled -}}
{{- include "wecom-operator.fullname" . }}-alertmanager-tls
{{- end -}}
{{- end -}}

{{- /* Secret volumes with the serving certificates, as a YAML list (empty when none). */ -}}
{{- define "wecom-operator.tlsVolumes" -}}
{{- $vols := list -}}
{{- if and .Values.metrics.secure .Values.metrics.certSecret -}}
{{- $vols = append $vols (dict "name" "metrics-tls" "secret" (dict "secretName" .Values.metrics.certSecret)) -}}
{{- end -}}
{{- $am := include "wecom-operator.alertmanagerTLSSecret" . -}}
{{- if and .Values.alertmanagerReceiver.enabled $am -}}
{{- $vols = append $vols (dict "name" "alertmanager-tls" "secret" (dict "secretName" $am)) -}}
{{- end -}}
{{- toYaml $vols -}}
{{- end -}}
