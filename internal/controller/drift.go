package controller

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
)

// drift collects the spec fields whose WeCom value differs (Observation.Drift, status.drift).
type drift []v1.DriftedField

// check adds field when same is false, with WeCom's value and the spec's as text.
func (d *drift) check(field string, same bool, wecomValue, specValue any) {
	if same {
		return
	}
	*d = append(*d, v1.DriftedField{Field: field, WeCom: driftText(wecomValue), Spec: driftText(specValue)})
}

func driftText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		s := slices.Clone(x)
		slices.Sort(s)
		return "[" + strings.Join(s, ", ") + "]"
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
