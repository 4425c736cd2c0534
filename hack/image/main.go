// Command image builds an OCI image from static binaries without Docker, with
// github.com/google/go-containerregistry: `make image` runs it for the manager (linux/amd64
// and linux/arm64 in one image index) and `make cluster-up` for the cluster's pause image.
//
//	go run ./hack/image -o bin/wecom-operator-image.tar -ref ghcr.io/wecom-dev/wecom-operator:dev \
//	    -binary linux/amd64=bin/image/manager-linux-amd64 -binary linux/arm64=bin/image/manager-linux-arm64 \
//	    -entrypoint /manager -rootfs hack/image/rootfs -ca /etc/ssl/certs/ca-certificates.crt \
//	    -source https://github.com/wecom-dev/wecom-operator -version dev -revision $(git rev-parse HEAD)
//
// The output is an OCI image layout as a tarball (oci-layout, index.json, blobs/): containerd
// loads it (`ctr -n k8s.io images import`), and crane pushes it once unpacked
// (`crane push --index DIR REF`). index.json names the image with
// org.opencontainers.image.ref.name and io.containerd.image.name, which `ctr images import` reads.
//
// Each platform's image is one layer: the binary as the entrypoint, the files under -rootfs
// (/etc/passwd and /etc/group with the nonroot user 65532, as distroless has them) and the CA
// bundle at /etc/ssl/certs/ca-certificates.crt, where Go's crypto/x509 looks first. Time zone
// data is not a file: the manager is built with -tags timetzdata (Go's embedded copy), so it is
// the same in both builds whatever the build host has. The Dockerfile builds the same image.
// Every file has mtime 0 and the config the -created time, so the same inputs give the same
// digests.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The user the image runs as: distroless' nonroot, which the chart's securityContext names too.
const nonroot = "65532:65532"

type binaries map[string]string // "os/arch" -> path

func (b binaries) String() string { return fmt.Sprint(map[string]string(b)) }

func (b binaries) Set(v string) error {
	platform, file, ok := strings.Cut(v, "=")
	if !ok || !strings.Contains(platform, "/") {
		return fmt.Errorf("want os/arch=path, got %q", v)
	}
	b[platform] = file
	return nil
}

type options struct {
	out, ref, entrypoint, rootfs, ca string
	source, version, revision        string
	created                          time.Time
	bins                             binaries
}

func main() {
	o := options{bins: binaries{}}
	var created string
	flag.StringVar(&o.out, "o", "", "output OCI layout tarball")
	flag.StringVar(&o.ref, "ref", "", "image reference recorded in index.json, e.g. ghcr.io/wecom-dev/wecom-operator:dev")
	flag.Var(o.bins, "binary", "os/arch=path of a static binary; repeat for an image index")
	flag.StringVar(&o.entrypoint, "entrypoint", "/manager", "where the binary goes; the image's entrypoint")
	flag.StringVar(&o.rootfs, "rootfs", "", "directory whose files are added under / (optional)")
	flag.StringVar(&o.ca, "ca", "", "CA bundle copied to /etc/ssl/certs/ca-certificates.crt (optional)")
	flag.StringVar(&o.source, "source", "", "org.opencontainers.image.source")
	flag.StringVar(&o.version, "version", "", "org.opencontainers.image.version")
	flag.StringVar(&o.revision, "revision", "", "org.opencontainers.image.revision")
	flag.StringVar(&created, "created", "", "RFC 3339 creation time (default: the Unix epoch, for reproducible digests)")
	flag.Parse()
	if created != "" {
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			fail(fmt.Errorf("-created: %w", err))
		}
		o.created = t.UTC()
	} else {
		o.created = time.Unix(0, 0).UTC()
	}
	if o.out == "" || o.ref == "" || len(o.bins) == 0 {
		fail(errors.New("-o, -ref and at least one -binary are required"))
	}
	if err := build(o); err != nil {
		fail(err)
	}
	fmt.Printf("wrote %s (%s, %d platform(s))\n", o.out, o.ref, len(o.bins))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "image:", err)
	os.Exit(1)
}

func (o options) annotations() map[string]string {
	a := map[string]string{"org.opencontainers.image.created": o.created.Format(time.RFC3339)}
	for k, v := range map[string]string{
		"org.opencontainers.image.source":   o.source,
		"org.opencontainers.image.version":  o.version,
		"org.opencontainers.image.revision": o.revision,
	} {
		if v != "" {
			a[k] = v
		}
	}
	return a
}

func build(o options) error {
	platforms := make([]string, 0, len(o.bins))
	for p := range o.bins {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)

	var idx v1.ImageIndex = empty.Index
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	for _, p := range platforms {
		img, err := o.image(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		goos, arch, _ := strings.Cut(p, "/")
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: goos, Architecture: arch}},
		})
	}
	idx = mutate.Annotations(idx, o.annotations()).(v1.ImageIndex)

	dir, err := os.MkdirTemp("", "image-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": o.ref,
		"io.containerd.image.name":          o.ref,
	})); err != nil {
		return err
	}
	return tarDir(dir, o.out)
}

// image is one platform's image: a single layer and the config.
func (o options) image(platform string) (v1.Image, error) {
	var files []file
	if o.rootfs != "" {
		err := filepath.WalkDir(o.rootfs, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(o.rootfs, p)
			if err != nil {
				return err
			}
			files = append(files, file{name: filepath.ToSlash(rel), src: p, mode: 0o644})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if o.ca != "" {
		files = append(files, file{name: "etc/ssl/certs/ca-certificates.crt", src: o.ca, mode: 0o644})
	}
	files = append(files, file{name: strings.TrimPrefix(o.entrypoint, "/"), src: o.bins[platform], mode: 0o755})
	data, err := layerTar(files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: o.created}, CreatedBy: "hack/image", Comment: "binary, CA bundle, passwd/group",
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, _ = strings.Cut(platform, "/")
	cf.Created = v1.Time{Time: o.created}
	cf.Config = v1.Config{
		Entrypoint: []string{o.entrypoint},
		User:       nonroot,
		WorkingDir: "/",
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Labels:     o.annotations(),
	}
	delete(cf.Config.Labels, "org.opencontainers.image.created") // a label would change with every build time
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, o.annotations()).(v1.Image), nil
}

type file struct {
	name, src string
	mode      int64
}

// layerTar writes files (with their parent directories) owned by root, mtime 0.
func layerTar(files []file) ([]byte, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range files {
		var parents []string
		for d := path.Dir(f.name); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			if err := tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
		}
		data, err := os.ReadFile(f.src)
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: f.mode, Size: int64(len(data)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tarDir writes the layout directory as a tarball (sorted, mtime 0), then renames it into place.
func tarDir(dir, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tw := tar.NewWriter(tmp)
	var names []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, p := range names {
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if info.IsDir() {
			h.Name += "/"
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			continue
		}
		h.Typeflag, h.Size = tar.TypeReg, info.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
