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

{{- /* Sets every key of .src into .dst, descending into maps both have; unlike
mergeOverwrite it also copies false, 0 and "" (so alertmanagerReceiver.enabled=false wins). */ -}}
{{- define "wecom-operator.deepSet" -}}
{{- $dst := .dst -}}
{{- range $k, $v := .src -}}
{{- if and (kindIs "map" $v) (kindIs "map" (get $dst $k)) -}}
{{- include "wecom-operator.deepSet" (dict "dst" (get $dst $k) "src" $v) -}}
{{- else -}}
{{- $_ := set $dst $k $v -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- /* The receiver's values as JSON (use: include "wecom-operator.receiver" . | fromJson):
.Values.receiver with whatever is still set under the deprecated alertmanagerReceiver on top.
Numbers come back as floats: print ports with int. */ -}}
{{- define "wecom-operator.receiver" -}}
{{- $r := deepCopy (.Values.receiver | default dict) -}}
{{- with .Values.alertmanagerReceiver -}}
{{- include "wecom-operator.deepSet" (dict "dst" $r "src" (deepCopy .)) -}}
{{- end -}}
{{- toJson $r -}}
{{- end -}}

{{- /* The receiver's Service name. */ -}}
{{- define "wecom-operator.receiverService" -}}
{{- include "wecom-operator.fullname" . }}-receiver
{{- end -}}

{{- /* The Secret with the receiver's certificate: the one named, or the one the chart's
cert-manager Certificate writes; empty serves plain HTTP. */ -}}
{{- define "wecom-operator.receiverTLSSecret" -}}
{{- $tls := (include "wecom-operator.receiver" . | fromJson).tls | default dict -}}
{{- if $tls.secretName -}}
{{- $tls.secretName -}}
{{- else if and $tls.certManager $tls.certManager.enabled -}}
{{- include "wecom-operator.fullname" . }}-receiver-tls
{{- end -}}
{{- end -}}

{{- /* Secret volumes with the serving certificates, as a YAML list (empty when none). */ -}}
{{- define "wecom-operator.tlsVolumes" -}}
{{- $vols := list -}}
{{- if and .Values.metrics.secure .Values.metrics.certSecret -}}
{{- $vols = append $vols (dict "name" "metrics-tls" "secret" (dict "secretName" .Values.metrics.certSecret)) -}}
{{- end -}}
{{- $recv := include "wecom-operator.receiverTLSSecret" . -}}
{{- if and (include "wecom-operator.receiver" . | fromJson).enabled $recv -}}
{{- $vols = append $vols (dict "name" "receiver-tls" "secret" (dict "secretName" $recv)) -}}
{{- end -}}
{{- toYaml $vols -}}
{{- end -}}
