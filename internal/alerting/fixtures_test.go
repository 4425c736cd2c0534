package alerting

import "time"

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func exampleMessage() *Message {
	return &Message{
		Version: "4", GroupKey: `{}/{severity="critical"}:{alertname="HighCPU"}`, Status: StatusFiring, Receiver: "wecom-oncall",
		GroupLabels:       KV{"alertname": "HighCPU"},
		CommonLabels:      KV{"alertname": "HighCPU", "severity": "critical", "job": "node"},
		CommonAnnotations: KV{},
		ExternalURL:       "http://alertmanager.example.com",
		Alerts: Alerts{
			{Status: StatusFiring, Labels: KV{"alertname": "HighCPU", "severity": "critical", "job": "node", "instance": "node-1"},
				Annotations: KV{"summary": "CPU usage above 90% on node-1", "description": "node-1 has used more than 90% CPU for 5 minutes."},
				StartsAt:    t0, GeneratorURL: "http://prometheus.example.com/graph?g0.expr=cpu", Fingerprint: "a1"},
			{Status: StatusResolved, Labels: KV{"alertname": "HighCPU", "severity": "critical", "job": "node", "instance": "node-2"},
				Annotations: KV{"summary": "CPU usage above 90% on node-2"},
				StartsAt:    t0.Add(-10 * time.Minute), EndsAt: t0.Add(-2*time.Minute - 30*time.Second), GeneratorURL: "http://prometheus.example.com/graph?g0.expr=cpu", Fingerprint: "b2"},
		},
	}
}
