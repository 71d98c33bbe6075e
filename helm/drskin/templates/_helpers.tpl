{{/*
Expand the name of the chart.
*/}}
{{- define "drskin.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "drskin.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "drskin.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "drskin.labels" -}}
helm.sh/chart: {{ include "drskin.chart" . }}
{{ include "drskin.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: drskin
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "drskin.selectorLabels" -}}
app.kubernetes.io/name: {{ include "drskin.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "drskin.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "drskin.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Name of one component's resources: "<fullname>-<component>", the fullname cut so that the whole stays within 63
characters (a plain trunc of the joined string could cut the suffix off and make two components collide).
Usage: include "drskin.componentName" (dict "ctx" $ "component" "web")
*/}}
{{- define "drskin.componentName" -}}
{{- $max := sub 62 (len .component) | int }}
{{- printf "%s-%s" (include "drskin.fullname" .ctx | trunc $max | trimSuffix "-") .component }}
{{- end }}

{{/*
Labels and selector labels of one component (app.kubernetes.io/component).
Usage: include "drskin.componentLabels" (dict "ctx" $ "component" "web")
*/}}
{{- define "drskin.componentLabels" -}}
{{ include "drskin.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "drskin.componentSelectorLabels" -}}
{{ include "drskin.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
An image reference; the tag defaults to the chart's appVersion.
Usage: include "drskin.image" (dict "image" .Values.site.image "ctx" $)
*/}}
{{- define "drskin.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag | toString) }}
{{- end }}

{{/* Names of the component resources. */}}
{{- define "drskin.service.fullname" -}}{{ include "drskin.componentName" (dict "ctx" . "component" "service") }}{{- end }}
{{- define "drskin.site.fullname" -}}{{ include "drskin.componentName" (dict "ctx" . "component" "web") }}{{- end }}
{{- define "drskin.postgresql.fullname" -}}{{ include "drskin.componentName" (dict "ctx" . "component" "postgresql") }}{{- end }}
{{- define "drskin.mlflow.fullname" -}}{{ include "drskin.componentName" (dict "ctx" . "component" "mlflow") }}{{- end }}
{{- define "drskin.migrations.fullname" -}}{{ include "drskin.componentName" (dict "ctx" . "component" "migrations") }}{{- end }}

{{/*
The database the site, the migrations and (optionally) MLflow use: the in-chart PostgreSQL or externalDatabase.
*/}}
{{- define "drskin.database.host" -}}
{{- if .Values.postgresql.enabled }}
{{- include "drskin.postgresql.fullname" . }}
{{- else }}
{{- required "externalDatabase.host is required when postgresql.enabled is false" .Values.externalDatabase.host }}
{{- end }}
{{- end }}

{{- define "drskin.database.port" -}}
{{- if .Values.postgresql.enabled }}5432{{ else }}{{ .Values.externalDatabase.port }}{{ end }}
{{- end }}

{{- define "drskin.database.name" -}}
{{- if .Values.postgresql.enabled }}{{ .Values.postgresql.auth.database }}{{ else }}{{ .Values.externalDatabase.database }}{{ end }}
{{- end }}

{{- define "drskin.database.user" -}}
{{- if .Values.postgresql.enabled }}{{ .Values.postgresql.auth.username }}{{ else }}{{ .Values.externalDatabase.user }}{{ end }}
{{- end }}

{{- define "drskin.database.secretName" -}}
{{- if .Values.postgresql.enabled }}
{{- default (include "drskin.postgresql.fullname" .) .Values.postgresql.auth.existingSecret }}
{{- else }}
{{- required "externalDatabase.existingSecret is required when postgresql.enabled is false (the chart takes no password in values)" .Values.externalDatabase.existingSecret }}
{{- end }}
{{- end }}

{{- define "drskin.database.secretKey" -}}
{{- if .Values.postgresql.enabled }}{{ .Values.postgresql.auth.existingSecretPasswordKey }}{{ else }}{{ .Values.externalDatabase.existingSecretPasswordKey }}{{ end }}
{{- end }}

{{/*
The database settings as environment variables: DATABASE_HOST/PORT/NAME/USER, DATABASE_PASSWORD from the Secret,
and DATABASE_URL composed by the kubelet through $(VAR) expansion, so the password never appears in a manifest.
The password must be URL-safe (the generated one is alphanumeric).
Usage: include "drskin.database.env" (dict "ctx" $ "driver" "postgresql+asyncpg" "database" "drskin" "urlName" "DATABASE_URL")
*/}}
{{- define "drskin.database.env" -}}
- name: DATABASE_HOST
  value: {{ include "drskin.database.host" .ctx | quote }}
- name: DATABASE_PORT
  value: {{ include "drskin.database.port" .ctx | quote }}
- name: DATABASE_NAME
  value: {{ .database | quote }}
- name: DATABASE_USER
  value: {{ include "drskin.database.user" .ctx | quote }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "drskin.database.secretName" .ctx }}
      key: {{ include "drskin.database.secretKey" .ctx }}
- name: {{ .urlName }}
  value: {{ printf "%s://$(DATABASE_USER):$(DATABASE_PASSWORD)@$(DATABASE_HOST):$(DATABASE_PORT)/$(DATABASE_NAME)" .driver | quote }}
{{- end }}

{{/* Secret holding the site's DRSKIN_SECRET_KEY. */}}
{{- define "drskin.site.secretName" -}}
{{- default (include "drskin.site.fullname" .) .Values.site.secretKey.existingSecret }}
{{- end }}

{{/* Whether the site sets secure cookies: forced by site.secureCookies, else on exactly when the ingress has TLS. */}}
{{- define "drskin.site.secureCookies" -}}
{{- if kindIs "bool" .Values.site.secureCookies }}
{{- .Values.site.secureCookies }}
{{- else }}
{{- and .Values.site.ingress.enabled (gt (len .Values.site.ingress.tls) 0) }}
{{- end }}
{{- end }}

{{/*
The site's public address for links in mail (DRSKIN_PUBLIC_URL): site.mail.publicUrl, else the first ingress host.
With mail on and neither, rendering fails: a link built from a request's Host header would trust the client.
*/}}
{{- define "drskin.site.publicUrl" -}}
{{- if .Values.site.mail.publicUrl }}
{{- .Values.site.mail.publicUrl | trimSuffix "/" }}
{{- else if and .Values.site.ingress.enabled .Values.site.ingress.hosts }}
{{- $scheme := ternary "https" "http" (gt (len .Values.site.ingress.tls) 0) }}
{{- printf "%s://%s" $scheme (first .Values.site.ingress.hosts).host }}
{{- else if .Values.site.mail.host }}
{{- fail "site.mail.host is set: set site.mail.publicUrl (or enable the ingress) so that links in mail point at the site" }}
{{- end }}
{{- end }}

{{/*
Migration hook phases: before install/upgrade against an external server; after install with the in-chart database,
which only exists once the release's resources are created (see values.yaml, migrations).
*/}}
{{- define "drskin.migrations.hook" -}}
{{- if .Values.postgresql.enabled }}post-install,pre-upgrade{{ else }}pre-install,pre-upgrade{{ end }}
{{- end }}

{{/*
A /tmp emptyDir volume.
Usage: include "drskin.tmpVolume" (dict "name" "tmp" "sizeLimit" "1Gi")
*/}}
{{- define "drskin.tmpVolume" -}}
- name: {{ .name }}
  emptyDir:
    {{- with .sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- end }}
