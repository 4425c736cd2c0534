package main

import (
	"encoding/json"
	"math"
	"testing"
)

func TestParseScrape(t *testing.T) {
	text := `# HELP wecom_objects x
# TYPE wecom_objects gauge
wecom_objects{kind="WeComUser",ready="True",reason="Synced"} 1500
wecom_objects{kind="WeComUser",ready="False",reason="Pending"} 400
wecom_objects{kind="WeComUser",ready="Unknown",reason=""} 100
wecom_objects{kind="Notification",ready="False",reason="Held"} 7
wecom_notifications_held{channel="app"} 7
wecom_notifications_held{channel="chat"} 2
wecom_notifications_total{channel="app",phase="Sent"} 12
wecom_notifications_total{channel="app",phase="Failed"} 1
wecom_client_rate_limited_total{endpoint="/cgi-bin/user/create",outcome="delayed"} 30
wecom_client_rate_limited_total{endpoint="/cgi-bin/user/create",outcome="refused"} 3
odd_metric{msg="a \"quoted\", comma"} 4
`
	s := parseScrape(text)
	if s.ready["WeComUser"] != 1500 || s.notReady["WeComUser"] != 500 || s.notReady["Notification"] != 7 {
		t.Errorf("objects: ready %v, not ready %v", s.ready, s.notReady)
	}
	if s.held != 9 || s.sent != 12 || s.limiterWaited != 30 {
		t.Errorf("held %v, sent %v, limiter waits %v", s.held, s.sent, s.limiterWaited)
	}
	name, labels, v, ok := parseSample(`odd_metric{msg="a \"quoted\", comma",b="x"} 4 1700000000`)
	if !ok || name != "odd_metric" || labels["msg"] != `a "quoted", comma` || labels["b"] != "x" || v != 4 {
		t.Errorf("parseSample: %q %v %v %v", name, labels, v, ok)
	}
}

func TestCompactArrays(t *testing.T) {
	in := map[string]any{"a": []int{1, 2, 3}, "b": Floats{1.234, math.NaN(), 2}, "c": []string{"x", "y"}}
	data, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := string(compactArrays(data))
	want := "{\n  \"a\": [1,2,3],\n  \"b\": [1.23,null,2],\n  \"c\": [\n    \"x\",\n    \"y\"\n  ]\n}"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
