package importer

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// State is an object's state as the tree and the summaries show it.
type State string

// States.
const (
	StateReady   State = "Ready"
	StateDrifted State = "Drifted"
	StateWaiting State = "waiting"
)

// ObjectState is what o's Ready condition says: Ready, Drifted (with the fields), or waiting
// with the reason (DependencyNotReady, NotInWeCom, …, or not reconciled yet).
func ObjectState(o v1.Managed) (State, string) {
	if !o.GetDeletionTimestamp().IsZero() {
		return StateWaiting, "waiting: deleting"
	}
	ready := meta.FindStatusCondition(o.GetResourceStatus().Conditions, v1.ConditionReady)
	switch {
	case ready == nil:
		return StateWaiting, "waiting: not reconciled yet"
	case ready.ObservedGeneration != 0 && ready.ObservedGeneration < o.GetGeneration():
		return StateWaiting, "waiting: the new spec is being reconciled"
	case ready.Status == metav1.ConditionTrue:
		return StateReady, "Ready"
	case ready.Reason == v1.ReasonDrifted:
		var fields []string
		for _, f := range o.GetManagedStatus().Drift {
			fields = append(fields, f.Field)
		}
		if len(fields) == 0 {
			return StateDrifted, "Drifted"
		}
		return StateDrifted, "Drifted: " + strings.Join(fields, ", ")
	}
	return StateWaiting, "waiting: " + ready.Reason
}

type treeNode struct {
	label    string
	sortKey  string
	depts    []*treeNode
	members  []*treeNode
	attached bool
}

// PrintTree writes the department tree that namespace holds: each WeComDepartment under its
// parent (spec.parentRef, or the department whose id is spec.parentID; the root otherwise),
// each WeComUser under every department it is in, with the state of each object. Members are
// left out unless members is set. It reads only the API server.
func PrintTree(ctx context.Context, c client.Reader, namespace string, members bool, w io.Writer) error {
	depts := &v1.WeComDepartmentList{}
	if err := c.List(ctx, depts, client.InNamespace(namespace)); err != nil {
		return err
	}
	users := &v1.WeComUserList{}
	if members {
		if err := c.List(ctx, users, client.InNamespace(namespace)); err != nil {
			return err
		}
	}
	root := &treeNode{label: "(root department, id 1)"}
	outside := &treeNode{label: "(departments not in this namespace)", sortKey: "\xff"}
	byName := map[string]*treeNode{}
	byID := map[int64]*treeNode{}
	tally := map[string]map[State]int{"departments": {}, "members": {}}
	for i := range depts.Items {
		d := &depts.Items[i]
		st, text := ObjectState(d)
		tally["departments"][st]++
		id := d.Status.ID
		if id == 0 && d.Spec.ID != nil {
			id = *d.Spec.ID
		}
		label := fmt.Sprintf("%s  %s", d.Spec.Name, d.Name)
		if id != 0 {
			label += fmt.Sprintf("  id %d", id)
		}
		n := &treeNode{label: label + "  " + text, sortKey: d.Spec.Name + "\x00" + d.Name}
		byName[d.Name] = n
		if id != 0 {
			byID[id] = n
		}
	}
	for i := range depts.Items {
		d := &depts.Items[i]
		n := byName[d.Name]
		parent, note := root, ""
		var parentID int64 = 1
		switch {
		case d.Spec.ParentRef != nil:
			p, ok := byName[d.Spec.ParentRef.Name]
			if ok {
				parent = p
				parentID = 0
			} else {
				note = fmt.Sprintf("parent %s not found", d.Spec.ParentRef.Name)
			}
		case d.Spec.ParentID != nil && *d.Spec.ParentID != 1:
			parentID = *d.Spec.ParentID
			if p, ok := byID[parentID]; ok {
				parent = p
			} else {
				note = fmt.Sprintf("parent id %d is not in this namespace", parentID)
			}
		}
		if parentID != 0 && d.Status.ParentID != 0 && d.Status.ParentID != parentID {
			note = strings.TrimPrefix(note+fmt.Sprintf("; WeCom has it under id %d", d.Status.ParentID), "; ")
		}
		if note != "" {
			n.label += "  (" + note + ")"
		}
		parent.depts = append(parent.depts, n)
	}
	for i := range users.Items {
		u := &users.Items[i]
		st, text := ObjectState(u)
		tally["members"][st]++
		for _, d := range u.Spec.Departments {
			var parent *treeNode
			switch {
			case d.Ref != nil:
				parent = byName[d.Ref.Name]
			case d.ID != nil && *d.ID == 1:
				parent = root
			case d.ID != nil:
				parent = byID[*d.ID]
			}
			if parent == nil {
				parent = outside
			}
			label := fmt.Sprintf("%s (%s)  %s", u.Spec.Name, u.Spec.UserID, u.Name)
			if d.Leader {
				label += "  leader"
			}
			parent.members = append(parent.members, &treeNode{label: label + "  " + text, sortKey: u.Spec.Name + "\x00" + u.Name})
		}
	}
	if len(outside.members) > 0 {
		root.depts = append(root.depts, outside)
	}
	fmt.Fprintln(w, root.label)
	root.attached = true
	printChildren(w, root, "")
	// Departments in a cycle of parentRefs are reached from nowhere: show them at the top.
	var lost []*treeNode
	for _, n := range byName {
		if !n.attached {
			lost = append(lost, n)
		}
	}
	if len(lost) > 0 {
		sortNodes(lost)
		fmt.Fprintln(w, "(departments whose parentRefs form a cycle)")
		cycle := &treeNode{depts: lost}
		printChildren(w, cycle, "")
	}
	_, err := fmt.Fprintf(w, "%s\n", tallyLine(tally, members))
	return err
}

func printChildren(w io.Writer, n *treeNode, indent string) {
	sortNodes(n.depts)
	sortNodes(n.members)
	kids := append(append([]*treeNode{}, n.depts...), n.members...)
	for i, k := range kids {
		if k.attached {
			continue
		}
		k.attached = true
		branch, next := "├── ", "│   "
		if i == len(kids)-1 {
			branch, next = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s%s\n", indent, branch, k.label)
		printChildren(w, k, indent+next)
	}
}

func sortNodes(ns []*treeNode) {
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].sortKey < ns[j].sortKey })
}

func tallyLine(t map[string]map[State]int, members bool) string {
	part := func(what string) string {
		m := t[what]
		n := m[StateReady] + m[StateDrifted] + m[StateWaiting]
		return fmt.Sprintf("%d %s: %d Ready, %d Drifted, %d waiting", n, what, m[StateReady], m[StateDrifted], m[StateWaiting])
	}
	if !members {
		return part("departments")
	}
	return part("departments") + "; " + part("members")
}
