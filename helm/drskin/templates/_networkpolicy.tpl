{{/* Building blocks of templates/networkpolicy.yaml. */}}

{{/* Egress to cluster DNS (UDP and TCP 53). */}}
{{- define "drskin.networkPolicy.dnsEgress" -}}
- to:
    - namespaceSelector:
        {{- toYaml .Values.networkPolicy.dns.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml .Values.networkPolicy.dns.podSelector | nindent 8 }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end }}

{{/* Egress to the database: the in-chart PostgreSQL pods, or networkPolicy.externalDatabaseTo. */}}
{{- define "drskin.networkPolicy.databaseEgress" -}}
- to:
    {{- if .Values.postgresql.enabled }}
    - podSelector:
        matchLabels:
          {{- include "drskin.componentSelectorLabels" (dict "ctx" . "component" "postgresql") | nindent 10 }}
    {{- else }}
    {{- toYaml .Values.networkPolicy.externalDatabaseTo | nindent 4 }}
    {{- end }}
  ports:
    - protocol: TCP
      port: {{ include "drskin.database.port" . }}
{{- end }}

{{/* The ingress controller as a NetworkPolicyPeer. */}}
{{- define "drskin.networkPolicy.ingressController" -}}
- namespaceSelector:
    {{- toYaml .Values.networkPolicy.ingressController.namespaceSelector | nindent 4 }}
  podSelector:
    {{- toYaml .Values.networkPolicy.ingressController.podSelector | nindent 4 }}
{{- end }}
