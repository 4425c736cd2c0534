package importer

import (
	"bytes"
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

func cond(status metav1.ConditionStatus, reason string) []metav1.Condition {
	return []metav1.Condition{{Type: v1.ConditionReady, Status: status, Reason: reason, Message: "m", ObservedGeneration: 1}}
}

func dept(ns, name, display string, id int64, parent string, parentID int64, conds []metav1.Condition) *v1.WeComDepartment {
	d := &v1.WeComDepartment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1}}
	d.Spec.Name = display
	if parent != "" {
		d.Spec.ParentRef = &v1.LocalObjectReference{Name: parent}
	}
	if parentID != 0 {
		d.Spec.ParentID = &parentID
	}
	d.Status.ID, d.Status.Conditions = id, conds
	return d
}

func member(ns, name, display, userID string, conds []metav1.Condition, drift []v1.DriftedField, depts ...v1.UserDepartment) *v1.WeComUser {
	u := &v1.WeComUser{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1}}
	u.Spec.Name, u.Spec.UserID, u.Spec.Departments = display, userID, depts
	u.Status.Conditions, u.Status.Drift = conds, drift
	return u
}

func ref(name string, leader bool) v1.UserDepartment {
	return v1.UserDepartment{Ref: &v1.LocalObjectReference{Name: name}, Leader: leader}
}

func fakeCluster(t *testing.T) client.Client {
	t.Helper()
	scheme, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	ready, drifted := cond(metav1.ConditionTrue, v1.ReasonAvailable), cond(metav1.ConditionFalse, v1.ReasonDrifted)
	root := int64(1)
	objs := []client.Object{
		dept("a", "dept-2-eng", "Engineering", 2, "", 0, ready),
		dept("a", "dept-3-sre", "SRE", 3, "dept-2-eng", 0, drifted),
		dept("a", "dept-9", "Elsewhere", 9, "", 77, cond(metav1.ConditionFalse, v1.ReasonNotInWeCom)),
		dept("a", "dept-5-new", "New", 0, "dept-3-sre", 0, nil),
		member("a", "user-lisi", "李四", "lisi", ready, nil, ref("dept-2-eng", true), ref("dept-3-sre", false)),
		member("a", "user-wangwu", "王五", "wangwu", drifted,
			[]v1.DriftedField{{Field: "position", WeCom: "Edited by hand", Spec: ""}, {Field: "mobile", WeCom: "138", Spec: "139"}},
			ref("dept-3-sre", false)),
		member("a", "user-boss", "Boss", "boss", cond(metav1.ConditionFalse, v1.ReasonDependencyNotReady), nil,
			v1.UserDepartment{ID: &root}),
		member("b", "user-other", "Other", "other", drifted, nil, ref("dept-x", false)),
	}
	way := &v1.ContactWay{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "way-spring-abc123"}}
	way.Status.Drift = []v1.DriftedField{{Field: "state", WeCom: "", Spec: strings.Repeat("s", 80)}}
	way.Status.Conditions = ready
	objs = append(objs, way)
	tag := &v1.WeComTag{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "tag-oncall"}}
	tag.Status.Drift = []v1.DriftedField{{Field: "users", WeCom: "[lisi]", Spec: "[lisi, wangwu]"}}
	tag.Status.Conditions = drifted
	objs = append(objs, tag)
	group := &v1.CustomerTagGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "level"}}
	group.Status.Drift = []v1.DriftedField{{Field: "tags", WeCom: "[a]", Spec: "[a, b]"}}
	group.Status.Conditions = drifted
	objs = append(objs, group)
	wapp := &v1.WeComApp{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "app-ops"}}
	wapp.Status.Drift = []v1.DriftedField{{Field: "name", WeCom: "By hand", Spec: "Ops"}}
	wapp.Status.Conditions = drifted
	objs = append(objs, wapp)
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

func TestDrift(t *testing.T) {
	c := fakeCluster(t)
	ctx := context.Background()
	rows, err := ListDrift(ctx, c, "a")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := PrintDrift(&buf, rows, false, "a"); err != nil {
		t.Fatal(err)
	}
	want := `KIND             NAME         FIELD     WECOM           SPEC
WeComDepartment  dept-3-sre   -         ""              ""
WeComUser        user-wangwu  position  Edited by hand  ""
WeComUser        user-wangwu  mobile    138             139
3 drifted fields in 2 objects. WeCom's values are shown as it holds them; objects without Update in managementPolicies are not repaired.
`
	if buf.String() != want {
		t.Errorf("drift -n a:\n%s\nwant:\n%s", buf.String(), want)
	}

	rows, err = ListDrift(ctx, c, "")
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := PrintDrift(&buf, rows, true, ""); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "CustomerTagGroup  level") {
		t.Errorf("drift -A leaves out the drifted CustomerTagGroup:\n%s", out)
	}
	if !strings.Contains(out, "WeComTag          tag-oncall") {
		t.Errorf("drift -A leaves out the drifted WeComTag:\n%s", out)
	}
	if !strings.Contains(out, "WeComApp          app-ops") {
		t.Errorf("drift -A leaves out the drifted WeComApp:\n%s", out)
	}
	if !strings.HasPrefix(out, "NAMESPACE  KIND") || !strings.Contains(out, "b          ContactWay        way-spring-abc123  state     \"\"              "+strings.Repeat("s", 59)+"…") ||
		!strings.Contains(out, "b          WeComUser         user-other") {
		t.Errorf("drift -A:\n%s", out)
	}

	buf.Reset()
	if err := PrintDrift(&buf, nil, false, "quiet"); err != nil || buf.String() != "No drifted objects in namespace quiet.\n" {
		t.Errorf("no drift: %q %v", buf.String(), err)
	}
}

func TestTree(t *testing.T) {
	c := fakeCluster(t)
	var buf bytes.Buffer
	if err := PrintTree(context.Background(), c, "a", true, &buf); err != nil {
		t.Fatal(err)
	}
	want := `(root department, id 1)
├── Elsewhere  dept-9  id 9  waiting: NotInWeCom  (parent id 77 is not in this namespace)
├── Engineering  dept-2-eng  id 2  Ready
│   ├── SRE  dept-3-sre  id 3  Drifted
│   │   ├── New  dept-5-new  waiting: not reconciled yet
│   │   ├── 李四 (lisi)  user-lisi  Ready
│   │   └── 王五 (wangwu)  user-wangwu  Drifted: position, mobile
│   └── 李四 (lisi)  user-lisi  leader  Ready
└── Boss (boss)  user-boss  waiting: DependencyNotReady
4 departments: 1 Ready, 1 Drifted, 2 waiting; 3 members: 1 Ready, 1 Drifted, 1 waiting
`
	if buf.String() != want {
		t.Errorf("tree:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := PrintTree(context.Background(), c, "a", false, &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "user-") || !strings.HasSuffix(buf.String(), "4 departments: 1 Ready, 1 Drifted, 2 waiting\n") {
		t.Errorf("tree without members:\n%s", buf.String())
	}

	buf.Reset()
	if err := PrintTree(context.Background(), c, "b", true, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "└── (departments not in this namespace)\n    └── Other (other)  user-other  Drifted") {
		t.Errorf("a member of a department not in the namespace:\n%s", buf.String())
	}
}
