package notifications

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
	"github.com/wecom-dev/wecom-operator/internal/wecom/wecomsim"
)

func namespace(prefix string) string {
	ns, err := env.NewNamespace(ctx, prefix)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return ns
}

// robotSecret stores a webhook URL (or a bare key) in a Secret and returns the selector.
func robotSecret(ns, name, value string) v1.SecretKeySelector {
	ExpectWithOffset(1, env.Client.Create(ctx, testenv.Secret(ns, name, map[string]string{"webhook": value}))).To(Succeed())
	return v1.SecretKeySelector{Name: name, Key: "webhook"}
}

func webhookURL(key string) string { return env.Sim.URL + "/cgi-bin/webhook/send?key=" + key }

func appSpec(users ...string) v1.NotificationSpec {
	return v1.NotificationSpec{ConnectionRef: &v1.ConnectionReference{Name: testenv.AppConnection}, To: &v1.Recipients{Users: users}}
}

func create(ns, name string, spec v1.NotificationSpec) *v1.Notification {
	n := &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	ExpectWithOffset(1, env.Client.Create(ctx, n)).To(Succeed())
	return n
}

func get(n *v1.Notification) *v1.Notification {
	out := &v1.Notification{}
	ExpectWithOffset(1, env.Client.Get(ctx, client.ObjectKeyFromObject(n), out)).To(Succeed())
	return out
}

// phase waits for n to reach phase and returns it.
func phase(n *v1.Notification, want v1.NotificationPhase, timeout time.Duration) *v1.Notification {
	out := &v1.Notification{}
	EventuallyWithOffset(1, func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(n), out)).To(Succeed())
		g.Expect(out.Status.Phase).To(Equal(want), "conditions: %+v", out.Status.Conditions)
	}, timeout, 50*time.Millisecond).Should(Succeed())
	return out
}

func ready(n *v1.Notification) metav1.Condition {
	c := meta.FindStatusCondition(n.Status.Conditions, v1.ConditionReady)
	ExpectWithOffset(1, c).NotTo(BeNil())
	return *c
}

// sameJSON asserts that raw is the JSON document want: same keys, same values, nothing more.
func sameJSON(raw []byte, want string) {
	var got, exp any
	ExpectWithOffset(1, json.Unmarshal(raw, &got)).To(Succeed())
	ExpectWithOffset(1, json.Unmarshal([]byte(want), &exp)).To(Succeed(), "bad expectation")
	ExpectWithOffset(1, got).To(Equal(exp), "WeCom received %s", raw)
}

// messagesWith returns the simulator's accepted messages whose body contains marker.
func messagesWith(marker string) []wecomsim.Message {
	var out []wecomsim.Message
	for _, m := range env.Sim.Messages() {
		if strings.Contains(string(m.Body), marker) {
			out = append(out, m)
		}
	}
	return out
}

// deliveredWith counts the copies of messages containing marker in a member's inbox.
func deliveredWith(user, marker string) int {
	n := 0
	for _, d := range env.Sim.Inbox(user) {
		if strings.Contains(string(d.Body), marker) {
			n++
		}
	}
	return n
}

// events returns the reasons and notes of the events about obj.
func events(obj client.Object) map[string]string {
	list := &eventsv1.EventList{}
	ExpectWithOffset(1, env.Client.List(ctx, list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
	out := map[string]string{}
	for _, e := range list.Items {
		if e.Regarding.Name == obj.GetName() {
			out[e.Reason] = e.Note
		}
	}
	return out
}

func gone(obj client.Object) func() bool {
	return func() bool {
		err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err)
	}
}

func operatorTokenFetches() int {
	n := 0
	for _, c := range env.Sim.CallsTo("gettoken") {
		if c.App == "operator" {
			n++
		}
	}
	return n
}

func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
