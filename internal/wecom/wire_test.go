package wecom

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// A schedule read with GetSchedules can be sent back to UpdateSchedule: fields only get
// returns are not echoed to WeCom.
func TestScheduleRoundTripDropsReadOnlyFields(t *testing.T) {
	f := newFake(t)
	f.reply("oa/schedule/update", `{"errcode":0,"errmsg":"ok","schedule_id":"s1"}`)
	c := newTestClient(t, f)
	fetched := Schedule{ScheduleID: "s1", StartTime: 1, EndTime: 2, Status: ScheduleStatusCancelled,
		Attendees: []Attendee{{UserID: "a", ResponseStatus: 2}},
		Reminders: &Reminders{IsRemind: 1, ExcludeTimeList: []ExcludeTime{{StartTime: 5}}}}
	if _, err := c.UpdateSchedule(context.Background(), UpdateScheduleRequest{Schedule: fetched}); err != nil {
		t.Fatal(err)
	}
	body := string(f.last("oa/schedule/update").Body)
	for _, field := range []string{"response_status", "exclude_time_list", `"status"`} {
		if strings.Contains(body, field) {
			t.Errorf("update sent read-only %s: %s", field, body)
		}
	}
	if fetched.Attendees[0].ResponseStatus != 2 || fetched.Reminders.ExcludeTimeList == nil {
		t.Error("the caller's schedule was modified")
	}
}

// Messages marshal on their own, so a caller can log or store exactly what will be sent.
func TestMessageMarshal(t *testing.T) {
	b, err := json.Marshal(Message{ToUser: []string{"a", "b"}, ToTag: []string{"1"}, AgentID: 7, Markdown: &Markdown{Content: "<font color=\"info\">x</font>"}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	if got["touser"] != "a|b" || got["totag"] != "1" || got["msgtype"] != "markdown" || got["agentid"] != 7.0 || got["toparty"] != nil {
		t.Fatalf("%s", b)
	}
	if _, err := json.Marshal(Message{ToUser: []string{"a"}}); err == nil {
		t.Fatal("a message without a body marshalled")
	}
}
