package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// TestImageIsWhatTheChartRuns builds an index as `make image` does and reads it back the way
// a registry or containerd would: one manifest per platform, each running the platform's
// binary as 65532 with the CA bundle and the nonroot passwd entry, and the OCI annotations.
func TestImageIsWhatTheChartRuns(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	o := options{
		ref: "ghcr.io/wecom-dev/wecom-operator:v9.9.9", entrypoint: "/manager", rootfs: "rootfs",
		ca:     write("ca.crt", "-----BEGIN CERTIFICATE-----\nroots\n-----END CERTIFICATE-----\n"),
		source: "https://github.com/wecom-dev/wecom-operator", version: "v9.9.9", revision: "0123abc",
		created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		bins: binaries{
			"linux/amd64": write("manager-amd64", "amd64 manager"),
			"linux/arm64": write("manager-arm64", "arm64 manager"),
		},
	}
	o.out = filepath.Join(dir, "image.tar")
	if err := build(o); err != nil {
		t.Fatal(err)
	}

	lp := untar(t, o.out)
	top, err := layout.ImageIndexFromPath(string(lp))
	if err != nil {
		t.Fatal(err)
	}
	topManifest, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(topManifest.Manifests) != 1 {
		t.Fatalf("index.json holds %d entries, want the one image index", len(topManifest.Manifests))
	}
	entry := topManifest.Manifests[0]
	for _, k := range []string{"org.opencontainers.image.ref.name", "io.containerd.image.name"} {
		if entry.Annotations[k] != o.ref {
			t.Errorf("index.json %s = %q, want %q (ctr images import names the image by it)", k, entry.Annotations[k], o.ref)
		}
	}
	idx, err := top.ImageIndex(entry.Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	wantAnnotations := map[string]string{
		"org.opencontainers.image.source": o.source, "org.opencontainers.image.version": o.version,
		"org.opencontainers.image.revision": o.revision, "org.opencontainers.image.created": "2026-12-01T00:00:00Z",
	}
	for k, v := range wantAnnotations {
		if im.Annotations[k] != v {
			t.Errorf("index annotation %s = %q, want %q", k, im.Annotations[k], v)
		}
	}
	if len(im.Manifests) != 2 {
		t.Fatalf("index has %d manifests, want linux/amd64 and linux/arm64", len(im.Manifests))
	}
	for _, d := range im.Manifests {
		platform := d.Platform.OS + "/" + d.Platform.Architecture
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if got := cf.OS + "/" + cf.Architecture; got != platform {
			t.Errorf("%s: config says %s", platform, got)
		}
		if cf.Config.User != "65532:65532" || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/manager" {
			t.Errorf("%s: user %q entrypoint %q, want 65532:65532 and /manager (the chart's runAsUser)", platform, cf.Config.User, cf.Config.Entrypoint)
		}
		if cf.Config.Labels["org.opencontainers.image.revision"] != o.revision {
			t.Errorf("%s: labels %v lack the revision", platform, cf.Config.Labels)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if m.Annotations["org.opencontainers.image.source"] != o.source {
			t.Errorf("%s: manifest annotations %v lack the source", platform, m.Annotations)
		}
		files := layerFiles(t, img)
		if got := files["manager"]; got.content != d.Platform.Architecture+" manager" {
			t.Errorf("%s: /manager is %q, want that platform's binary", platform, got.content)
		}
		if files["manager"].mode != 0o755 {
			t.Errorf("%s: /manager mode %o, want 755", platform, files["manager"].mode)
		}
		if !strings.Contains(files["etc/ssl/certs/ca-certificates.crt"].content, "roots") {
			t.Errorf("%s: no CA bundle at /etc/ssl/certs/ca-certificates.crt (Go's first place to look): WeCom is TLS", platform)
		}
		if !strings.Contains(files["etc/passwd"].content, ":65532:65532:") {
			t.Errorf("%s: /etc/passwd has no nonroot user 65532: %q", platform, files["etc/passwd"].content)
		}
	}

	// The same inputs give the same bytes: a rebuild changes no digest.
	first, err := os.ReadFile(o.out)
	if err != nil {
		t.Fatal(err)
	}
	o.out = filepath.Join(dir, "again.tar")
	if err := build(o); err != nil {
		t.Fatal(err)
	}
	second, err := os.ReadFile(o.out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("two builds of the same inputs differ")
	}
}

type layerFile struct {
	content string
	mode    int64
}

func layerFiles(t *testing.T, img v1.Image) map[string]layerFile {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]layerFile{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Uid != 0 || h.Gid != 0 {
				t.Errorf("%s owned by %d:%d, want root (the image's files are read-only to 65532)", h.Name, h.Uid, h.Gid)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = layerFile{content: string(b), mode: h.Mode}
		}
		rc.Close()
	}
	return files
}

// untar unpacks the OCI layout tarball into a directory.
func untar(t *testing.T, tarPath string) layout.Path {
	t.Helper()
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return layout.Path(dir)
}
