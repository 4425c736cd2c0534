package controller

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/notify"
)

// A folded member never sends on its own while its leader's plan holds it: it finishes
// itself from the plan when the leader recorded the digest but died before writing it, waits
// while the digest is to be sent, and goes on on its own when the leader is gone, finished
// without it, or its digest failed for good.
func TestReconcileFolded(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	sentAt := metav1.NewTime(time.Now().Add(-time.Second).Truncate(time.Second))
	leader := func(name string, phase v1.NotificationPhase, dg v1.NotificationDigest) *v1.Notification {
		return &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ops"},
			Status: v1.NotificationStatus{Phase: phase, DeliveredIn: &v1.NotificationDeliveredIn{Notification: name},
				Fold: &v1.NotificationFoldPlan{Digests: []v1.NotificationDigest{{Members: []string{name, "other"}}, dg}}}}
	}
	member := func(name, leader string) *v1.Notification {
		return &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ops"},
			Status: v1.NotificationStatus{Phase: v1.NotificationPending, DeliveredIn: &v1.NotificationDeliveredIn{Notification: leader}}}
	}
	for _, tc := range []struct {
		name    string
		objects []client.Object
		// want: the member's phase, whether it still waits for a leader, its msgid.
		wantPhase   v1.NotificationPhase
		wantFolded  bool
		wantMsgID   string
		wantRequeue time.Duration
	}{
		{"digest recorded, member not written: it finishes itself",
			[]client.Object{leader("l", v1.NotificationPending, v1.NotificationDigest{Members: []string{"m"}, SentAt: &sentAt, MsgID: "msg-2"}), member("m", "l")},
			v1.NotificationSent, true, "msg-2", 0},
		{"digest not sent yet: it waits for the leader",
			[]client.Object{leader("l", v1.NotificationPending, v1.NotificationDigest{Members: []string{"m"}, Attempts: 1}), member("m", "l")},
			v1.NotificationPending, true, "", 5 * time.Second},
		{"digest failed for good: it goes on on its own",
			[]client.Object{leader("l", v1.NotificationSent, v1.NotificationDigest{Members: []string{"m"}, Failed: true}), member("m", "l")},
			v1.NotificationPending, false, "", goOnAlone},
		{"leader Failed before its digest: it goes on on its own",
			[]client.Object{leader("l", v1.NotificationFailed, v1.NotificationDigest{Members: []string{"m"}}), member("m", "l")},
			v1.NotificationPending, false, "", goOnAlone},
		{"leader deleted: it goes on on its own",
			[]client.Object{member("m", "gone")},
			v1.NotificationPending, false, "", goOnAlone},
		{"not in the leader's plan: it goes on on its own",
			[]client.Object{leader("l", v1.NotificationPending, v1.NotificationDigest{Members: []string{"x"}}), member("m", "l")},
			v1.NotificationPending, false, "", goOnAlone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kube := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.objects...).WithStatusSubresource(&v1.Notification{}).Build()
			r := &NotificationReconciler{Client: kube, Connector: &Connector{APIReader: kube}, Recorder: events.NewFakeRecorder(10), Pacer: &notify.Pacer{}}
			m := &v1.Notification{}
			if err := kube.Get(ctx, client.ObjectKey{Namespace: "ops", Name: "m"}, m); err != nil {
				t.Fatal(err)
			}
			res, err := r.reconcileFolded(ctx, m, m.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			got := &v1.Notification{}
			if err := kube.Get(ctx, client.ObjectKey{Namespace: "ops", Name: "m"}, got); err != nil {
				t.Fatal(err)
			}
			if got.Status.Phase != tc.wantPhase {
				t.Errorf("phase %q, want %q", got.Status.Phase, tc.wantPhase)
			}
			if (got.Status.DeliveredIn != nil) != tc.wantFolded {
				t.Errorf("deliveredIn %+v, want folded %v", got.Status.DeliveredIn, tc.wantFolded)
			}
			if got.Status.MsgID != tc.wantMsgID {
				t.Errorf("msgID %q, want %q", got.Status.MsgID, tc.wantMsgID)
			}
			if tc.wantMsgID != "" && (got.Status.DeliveredIn.Digest != 2 || got.Status.DeliveredIn.Digests != 2 || got.Status.DeliveredIn.MsgID != tc.wantMsgID ||
				!got.Status.SentAt.Equal(&sentAt)) {
				t.Errorf("deliveredIn %+v sentAt %v", got.Status.DeliveredIn, got.Status.SentAt)
			}
			if res.RequeueAfter != tc.wantRequeue {
				t.Errorf("requeue after %s, want %s", res.RequeueAfter, tc.wantRequeue)
			}
		})
	}
}

// The leader's plan: the members in order, digests within the channel's limit and slots.
func TestPackPlan(t *testing.T) {
	var members []*v1.Notification
	for i := range 40 {
		members = append(members, &v1.Notification{ObjectMeta: metav1.ObjectMeta{Name: "n" + string(rune('a'+i%26)) + string(rune('a'+i/26))},
			Spec: v1.NotificationSpec{To: &v1.Recipients{Users: []string{"u"}}, Message: v1.Message{Markdown: &v1.MarkdownMessage{Content: "## an alert with a title of some length " + string(rune('a'+i%26)) + "\nbody"}},
				Fold: &v1.NotificationFold{Summary: "a summary that takes some room in the digest, as real ones do"}}})
	}
	plan := packPlan(members, members[0], 2)
	if len(plan.Digests) != 2 {
		t.Fatalf("%d digests for 2 slots", len(plan.Digests))
	}
	i := 0
	for _, dg := range plan.Digests {
		for _, name := range dg.Members {
			if name != members[i].Name {
				t.Fatalf("member %d is %s, want %s", i, name, members[i].Name)
			}
			i++
		}
	}
	if i >= 40 {
		t.Fatalf("all 40 fit into 2 digests of 2048 bytes: %d", i)
	}
	if planSize(plan) != i {
		t.Fatalf("planSize %d, want %d", planSize(plan), i)
	}
	text := &v1.Notification{Spec: v1.NotificationSpec{Message: v1.Message{Text: &v1.TextMessage{Content: "x"}}}}
	robot := &v1.Notification{Spec: v1.NotificationSpec{Robot: &v1.RobotTarget{}, Message: v1.Message{Markdown: &v1.MarkdownMessage{Content: "x"}}}}
	if foldKey(text) == foldKey(members[0]) {
		t.Error("a text message folds with markdown ones")
	}
	if digestLimit(robot, true) != notify.RobotMarkdownLimit || digestLimit(members[0], true) != notify.AppMarkdownLimit {
		t.Error("digest limits")
	}
}
