package importer

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// managedObjects lists every WeCom-backed object in namespace ("" is every namespace), kind
// by kind in the order of the tree (departments, users, tags, then the app's kinds).
func managedObjects(ctx context.Context, c client.Reader, namespace string) ([]v1.Managed, error) {
	var opts []client.ListOption
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	depts, users, chats := &v1.WeComDepartmentList{}, &v1.WeComUserList{}, &v1.WeComAppChatList{}
	ways, scheds, tags := &v1.ContactWayList{}, &v1.ScheduleList{}, &v1.WeComTagList{}
	cals := &v1.WeComCalendarList{} // issue 12: calendars
	for _, l := range []client.ObjectList{depts, users, tags, ways, cals, scheds, chats} {
		if err := c.List(ctx, l, opts...); err != nil {
			return nil, err
		}
	}
	var out []v1.Managed
	out = append(out, each(depts.Items)...)
	out = append(out, each(users.Items)...)
	out = append(out, each(tags.Items)...)
	out = append(out, each(ways.Items)...)
	out = append(out, each(cals.Items)...)
	out = append(out, each(scheds.Items)...)
	out = append(out, each(chats.Items)...)
	// Customer contact configuration (issue 12).
	groups, templates := &v1.CustomerTagGroupList{}, &v1.GroupWelcomeTemplateList{}
	for _, l := range []client.ObjectList{groups, templates} {
		if err := c.List(ctx, l, opts...); err != nil {
			return nil, err
		}
	}
	out = append(out, each(groups.Items)...)
	out = append(out, each(templates.Items)...)
	// WeComApps: the settings and menu of the app itself.
	wapps := &v1.WeComAppList{}
	if err := c.List(ctx, wapps, opts...); err != nil {
		return nil, err
	}
	out = append(out, each(wapps.Items)...)
	return out, nil
}

// each returns pointers to the items of a list as Managed objects.
func each[T any, P interface {
	*T
	v1.Managed
}](items []T) []v1.Managed {
	out := make([]v1.Managed, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}

// kindOf is the kind of a typed object (lists leave TypeMeta empty).
func kindOf(o v1.Managed) string {
	switch o.(type) {
	case *v1.WeComDepartment:
		return "WeComDepartment"
	case *v1.WeComUser:
		return "WeComUser"
	case *v1.WeComTag:
		return "WeComTag"
	case *v1.ContactWay:
		return "ContactWay"
	case *v1.WeComCalendar:
		return "WeComCalendar"
	case *v1.Schedule:
		return "Schedule"
	case *v1.WeComAppChat:
		return "WeComAppChat"
	case *v1.CustomerTagGroup:
		return "CustomerTagGroup"
	case *v1.GroupWelcomeTemplate:
		return "GroupWelcomeTemplate"
	case *v1.WeComApp:
		return "WeComApp"
	}
	return fmt.Sprintf("%T", o)
}

// DriftRow is one drifted field of one object (Field "-" when the object is Drifted but its
// status lists no field).
type DriftRow struct {
	Namespace, Kind, Name string
	Field, WeCom, Spec    string
}

// ListDrift returns the fields of every object whose Ready reason is Drifted or whose
// status.drift is not empty, sorted by namespace, kind and name (fields in status order).
// It reads only the API server.
func ListDrift(ctx context.Context, c client.Reader, namespace string) ([]DriftRow, error) {
	objs, err := managedObjects(ctx, c, namespace)
	if err != nil {
		return nil, err
	}
	var rows []DriftRow
	for _, o := range objs {
		ready := meta.FindStatusCondition(o.GetResourceStatus().Conditions, v1.ConditionReady)
		drift := o.GetManagedStatus().Drift
		drifted := ready != nil && ready.Status == metav1.ConditionFalse && ready.Reason == v1.ReasonDrifted
		if !drifted && len(drift) == 0 {
			continue
		}
		base := DriftRow{Namespace: o.GetNamespace(), Kind: kindOf(o), Name: o.GetName()}
		if len(drift) == 0 {
			r := base
			r.Field = "-"
			rows = append(rows, r)
		}
		for _, f := range drift {
			r := base
			r.Field, r.WeCom, r.Spec = f.Field, f.WeCom, f.Spec
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	return rows, nil
}

// PrintDrift writes rows as a table; allNamespaces adds the namespace column.
func PrintDrift(w io.Writer, rows []DriftRow, allNamespaces bool, namespace string) error {
	if len(rows) == 0 {
		where := "in namespace " + namespace
		if allNamespaces {
			where = "in any namespace"
		}
		_, err := fmt.Fprintf(w, "No drifted objects %s.\n", where)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if allNamespaces {
		fmt.Fprint(tw, "NAMESPACE\t")
	}
	fmt.Fprintln(tw, "KIND\tNAME\tFIELD\tWECOM\tSPEC")
	objects := map[string]bool{}
	for _, r := range rows {
		objects[r.Namespace+"/"+r.Kind+"/"+r.Name] = true
		if allNamespaces {
			fmt.Fprintf(tw, "%s\t", r.Namespace)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Kind, r.Name, r.Field, cell(r.WeCom), cell(r.Spec))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d drifted fields in %d objects. WeCom's values are shown as it holds them; objects without Update in managementPolicies are not repaired.\n", len(rows), len(objects))
	return err
}

// cell keeps a table cell on one line and readable: empty shows as "", long values are cut.
func cell(s string) string {
	if s == "" {
		return `""`
	}
	s = strings.NewReplacer("\n", `\n`, "\t", " ").Replace(s)
	const maxRunes = 60
	if utf8.RuneCountInString(s) > maxRunes {
		r := []rune(s)
		return string(r[:maxRunes-1]) + "…"
	}
	return s
}
