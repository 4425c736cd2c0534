package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// The files an import writes: one per kind, and kustomization.yaml listing them.
const (
	FileDepartments   = "departments.yaml"
	FileUsers         = "users.yaml"
	FileTags          = "tags.yaml"
	FileContactWays   = "contactways.yaml"
	FileCalendars     = "calendars.yaml"
	FileSchedules     = "schedules.yaml"
	FileAppChats      = "appchats.yaml"
	FileApps          = "apps.yaml"
	FileKustomization = "kustomization.yaml"
)

// kindFiles are the per-kind files in the order kustomization.yaml lists them (parents first).
var kindFiles = []string{FileDepartments, FileUsers, FileTags, FileContactWays, FileCalendars, FileSchedules, FileAppChats, FileApps}

// Rendered is the content of an import's directory: file name → bytes.
type Rendered map[string][]byte

// Render writes each kind with objects into its file, sorted by name, and kustomization.yaml
// listing those files; namespace, when set, goes into kustomization.yaml (objects must live
// in their connection's namespace). The same manifests always give the same bytes.
func Render(m *Manifests, namespace string) (Rendered, error) {
	out := Rendered{}
	add := func(file string, n int, obj func(i int) any) error {
		if n == 0 {
			return nil
		}
		var buf bytes.Buffer
		for i := range n {
			doc, err := objectYAML(obj(i))
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			buf.WriteString("---\n")
			buf.Write(doc)
		}
		out[file] = buf.Bytes()
		return nil
	}
	err := errors.Join(
		add(FileDepartments, len(m.Departments), func(i int) any { return &m.Departments[i] }),
		add(FileUsers, len(m.Users), func(i int) any { return &m.Users[i] }),
		add(FileTags, len(m.Tags), func(i int) any { return &m.Tags[i] }),
		add(FileContactWays, len(m.ContactWays), func(i int) any { return &m.ContactWays[i] }),
		add(FileCalendars, len(m.Calendars), func(i int) any { return &m.Calendars[i] }),
		add(FileSchedules, len(m.Schedules), func(i int) any { return &m.Schedules[i] }),
		add(FileAppChats, len(m.AppChats), func(i int) any { return &m.AppChats[i] }),
		add(FileApps, len(m.Apps), func(i int) any { return &m.Apps[i] }),
	)
	if err != nil {
		return nil, err
	}
	var k strings.Builder
	k.WriteString("# Written by `kubectl wecom import` (see docs/import.md). A later import rewrites the files it\n")
	k.WriteString("# lists; keep your changes in another kustomization that uses this one as a resource.\n")
	k.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
	if namespace != "" {
		fmt.Fprintf(&k, "namespace: %s\n", namespace)
	}
	if len(out) == 0 {
		k.WriteString("resources: []\n")
	} else {
		k.WriteString("resources:\n")
	}
	for _, f := range kindFiles {
		if _, ok := out[f]; ok {
			fmt.Fprintf(&k, "- %s\n", f)
		}
	}
	out[FileKustomization] = []byte(k.String())
	return out, nil
}

// objectYAML is obj as YAML without its status and the empty creationTimestamp a typed
// object always carries. Keys come out sorted, numbers as numbers.
func objectYAML(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // 4294967295 stays an integer, not 4.294967295e+09
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	if data, err = json.Marshal(m); err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(data)
}

// Change says what writing a file does.
type Change string

// Changes of a file.
const (
	Created   Change = "new"
	Changed   Change = "changed"
	Unchanged Change = "unchanged"
	Removed   Change = "removed"
)

// FileChange is what Write did, or would do, to one file.
type FileChange struct {
	Name   string
	Change Change
}

// Write puts files into dir (made if missing) and removes the per-kind files of an earlier
// import that this one no longer has. A file whose content is the same is not touched, so a
// second import of an unchanged corp changes no byte (and no modification time). With dryRun
// nothing is written: the changes say what would be. Other files in dir are left alone.
func Write(dir string, files Rendered, dryRun bool) ([]FileChange, error) {
	var changes []FileChange
	names := append([]string{}, kindFiles...)
	names = append(names, FileKustomization)
	if !dryRun {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		old, err := os.ReadFile(path)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return changes, err
		}
		data, want := files[name]
		switch {
		case !want && exists:
			changes = append(changes, FileChange{name, Removed})
			if !dryRun {
				if err := os.Remove(path); err != nil {
					return changes, err
				}
			}
		case !want:
		case exists && bytes.Equal(old, data):
			changes = append(changes, FileChange{name, Unchanged})
		default:
			c := Changed
			if !exists {
				c = Created
			}
			changes = append(changes, FileChange{name, c})
			if !dryRun {
				if err := writeFile(path, data); err != nil {
					return changes, err
				}
			}
		}
	}
	return changes, nil
}

// writeFile replaces path with data through a temporary file, so that an interrupted import
// leaves the old file or the new one, never half of one.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
