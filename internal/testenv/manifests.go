package testenv

import (
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Docs splits a multi-document YAML stream (a chart's rendering, dist/install.yaml, a
// sample file) into objects.
func Docs(stream string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(stream), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	return out
}

// ReadyOrSent says whether a wecom.dev object is done as a user sees it: Ready=True, or for
// a Notification the phase Sent.
func ReadyOrSent(u *unstructured.Unstructured) bool {
	if u.GetKind() == "Notification" {
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		return phase == "Sent"
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, _ := c.(map[string]any); m["type"] == "Ready" {
			return m["status"] == "True"
		}
	}
	return false
}

// Samples reads config/samples (the files `make demo` applies) with every WeComConnection's
// apiURL pointed at simURL, for a test to put in a namespace and create.
func Samples(simURL string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(Root(), "config", "samples", "wecom_*.yaml"))
	if err != nil {
		return nil, err
	}
	var all []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, u := range Docs(string(data)) {
			if u.GetKind() == "WeComConnection" {
				if err := unstructured.SetNestedField(u.Object, simURL, "spec", "apiURL"); err != nil {
					return nil, err
				}
			}
			all = append(all, u)
		}
	}
	return all, nil
}
