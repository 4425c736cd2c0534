package alerting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

func TestAddActionBounded(t *testing.T) {
	var st v1.NotificationStatus
	AddAction(&st, v1.NotificationAction{ID: "pending", State: v1.ActionPending})
	for i := range 25 {
		AddAction(&st, v1.NotificationAction{ID: fmt.Sprint(i), State: v1.ActionDone})
	}
	if len(st.Actions) != v1.MaxNotificationActions {
		t.Fatalf("%d actions", len(st.Actions))
	}
	if st.Actions[0].ID != "pending" || st.Actions[1].ID != "6" || st.Actions[19].ID != "24" {
		t.Errorf("kept %s, %s … %s: the oldest done ones go first, a pending one stays", st.Actions[0].ID, st.Actions[1].ID, st.Actions[19].ID)
	}
	if FindAction(st.Actions, "24") != 19 || FindAction(st.Actions, "3") != -1 {
		t.Error("FindAction")
	}
}

func TestActionIDAndText(t *testing.T) {
	a, again := ActionID("code-a"), ActionID("code-a")
	if a == ActionID("code-b") || a != again || strings.Contains(a, "code") {
		t.Error("ActionID: one per code, stable, and not the code")
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	at := metav1.NewTime(time.Date(2026, 3, 2, 2, 2, 0, 0, time.UTC))
	for _, c := range []struct {
		a    v1.NotificationAction
		want string
	}{
		{v1.NotificationAction{Action: v1.AlertCardSilence, Duration: &metav1.Duration{Duration: 4 * time.Hour}, UserID: "zhangsan", Name: "张三", Time: at},
			"Silenced 4h by 张三 at 10:02"},
		{v1.NotificationAction{Action: v1.AlertCardSilence, Duration: &metav1.Duration{Duration: 90 * time.Minute}, UserID: "lisi", Time: at},
			"Silenced 1h30m by lisi at 10:02"},
		{v1.NotificationAction{Action: v1.AlertCardAcknowledge, UserID: "wangwu", Name: "王五", Time: at}, "Acknowledged by 王五 at 10:02"},
	} {
		if got := ActionText(c.a, shanghai); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
	for d, want := range map[time.Duration]string{time.Hour: "1h", 36 * time.Hour: "1d12h", 45 * time.Minute: "45m", 720 * time.Hour: "30d"} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %s, want %s", d, got, want)
		}
	}
	last := LastDone([]v1.NotificationAction{{ID: "a", State: v1.ActionDone}, {ID: "b", State: v1.ActionDone}, {ID: "c", State: v1.ActionFailed}})
	if last == nil || last.ID != "b" {
		t.Errorf("LastDone %+v", last)
	}
}

func TestRecipient(t *testing.T) {
	n := &v1.Notification{Spec: v1.NotificationSpec{To: &v1.Recipients{Users: []string{"ZhangSan", "lisi"}}},
		Status: v1.NotificationStatus{InvalidUsers: []string{"lisi"}}}
	for user, want := range map[string]bool{"zhangsan": true, "ZHANGSAN": true, "lisi": false, "wangwu": false, "": false} {
		if ok, byList := Recipient(n, user); ok != want || !byList {
			t.Errorf("%q: %v %v", user, ok, byList)
		}
	}
	n.Spec.To.Parties = []int64{3}
	if ok, byList := Recipient(n, "wangwu"); !ok || byList {
		t.Error("a card sent to a department: WeCom's word")
	}
	if ok, _ := Recipient(&v1.Notification{Spec: v1.NotificationSpec{Robot: &v1.RobotTarget{}}}, "wangwu"); ok {
		t.Error("a robot message has no recipients who can click")
	}
}

// fakeAlertmanager answers the two calls of the API v2 the client makes, as Alertmanager
// v0.34 does.
type fakeAlertmanager struct {
	created []Silence
	auth    []string
	status  int
}

func (f *fakeAlertmanager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	if f.status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(`"silence invalid: bad matcher\nsecond line"`))
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/prefix/api/v2/silences":
		var s Silence
		if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.created = append(f.created, s)
		_ = json.NewEncoder(w).Encode(map[string]string{"silenceID": fmt.Sprintf("sil-%d", len(f.created))})
	case r.Method == http.MethodGet && r.URL.Path == "/prefix/api/v2/silences":
		type gettable struct {
			ID       string    `json:"id"`
			Matchers []Matcher `json:"matchers"`
			Comment  string    `json:"comment"`
			Status   struct {
				State string `json:"state"`
			} `json:"status"`
		}
		var out []gettable
		for i, s := range f.created {
			g := gettable{ID: fmt.Sprintf("sil-%d", i+1), Matchers: s.Matchers, Comment: s.Comment}
			g.Status.State = "active"
			out = append(out, g)
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.URL.Path == "/redirect/api/v2/silences":
		http.Redirect(w, r, "/prefix/api/v2/silences", http.StatusTemporaryRedirect)
	default:
		http.NotFound(w, r)
	}
}

func TestAlertmanagerClient(t *testing.T) {
	fake := &fakeAlertmanager{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()
	am := &AlertmanagerClient{URL: srv.URL + "/prefix/", BearerToken: "t0ken"}
	matchers := Matchers(map[string]string{"severity": "critical", "alertname": "DiskFull", "path": `/var "x"`})
	if d := cmp.Diff([]Matcher{{Name: "alertname", Value: "DiskFull", IsEqual: true}, {Name: "path", Value: `/var "x"`, IsEqual: true},
		{Name: "severity", Value: "critical", IsEqual: true}}, matchers); d != "" {
		t.Errorf("matchers (-want +got):\n%s", d)
	}
	marker := SilenceMarker(ActionID("code"))
	if id, err := am.FindSilence(ctx, matchers, marker); err != nil || id != "" {
		t.Fatalf("find before: %q %v", id, err)
	}
	start := time.Now().Truncate(time.Second)
	id, err := am.CreateSilence(ctx, Silence{Matchers: matchers, StartsAt: start, EndsAt: start.Add(4 * time.Hour), CreatedBy: "张三", Comment: "by card " + marker})
	if err != nil || id != "sil-1" {
		t.Fatalf("create: %q %v", id, err)
	}
	if got := fake.created[0]; got.CreatedBy != "张三" || !got.EndsAt.Equal(start.Add(4*time.Hour)) || len(got.Matchers) != 3 {
		t.Errorf("created %+v", got)
	}
	if id, err := am.FindSilence(ctx, matchers, marker); err != nil || id != "sil-1" {
		t.Errorf("find after: %q %v", id, err)
	}
	if id, _ := am.FindSilence(ctx, matchers[:2], marker); id != "" {
		t.Error("a silence with other matchers is not the one")
	}
	if fake.auth[0] != "Bearer t0ken" {
		t.Errorf("auth %q", fake.auth[0])
	}

	// Credentials never follow a redirect.
	am.URL = srv.URL + "/redirect"
	_, err = am.CreateSilence(ctx, Silence{Matchers: matchers})
	var ae *AlertmanagerError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusTemporaryRedirect || ae.Retryable() || len(fake.created) != 1 {
		t.Errorf("redirect: %v", err)
	}

	fake.status = http.StatusBadRequest
	am.URL = srv.URL + "/prefix"
	_, err = am.CreateSilence(ctx, Silence{Matchers: matchers})
	if !errors.As(err, &ae) || ae.Retryable() || ae.Message != "silence invalid: bad matcher second line" {
		t.Errorf("400: %v", err)
	}
	fake.status = http.StatusServiceUnavailable
	if _, err = am.CreateSilence(ctx, Silence{Matchers: matchers}); !IsRetryableAlertmanager(err) {
		t.Errorf("503 is worth a retry: %v", err)
	}
	srv.Close()
	if _, err = am.CreateSilence(ctx, Silence{Matchers: matchers}); !IsRetryableAlertmanager(err) || strings.Contains(err.Error(), "t0ken") {
		t.Errorf("no answer: %v", err)
	}
}
