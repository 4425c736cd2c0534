// Package upgrade runs the manager built from the release before external names (commit
// previous) against a real kube-apiserver and the WeCom simulator binary until objects of
// every kind exist, then replaces it with the manager built from the working tree, as an
// upgrade does, and checks that the new manager takes every object over without a write to
// WeCom, records each WeCom id in wecom.dev/external-name and still repairs WeCom.
package upgrade

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/scaletest"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

// previous is the commit the upgrade starts from: the last one whose skeleton kept WeCom ids
// in status only. Its manager is built once into bin/manager-<previous>.
const previous = "4d57f09"

var (
	api             *scaletest.APIServer
	root            string
	previousManager string
	managerPath     string
	simPath         string
)

func TestUpgrade(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "upgrade from the previous manager")
}

var _ = BeforeSuite(func() {
	root = testenv.Root()
	dir := GinkgoT().TempDir()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		os.Setenv("KUBEBUILDER_ASSETS", filepath.Join(root, "bin", "k8s"))
	}
	requirePrevious()
	previousManager = buildPrevious(dir)
	managerPath, simPath = filepath.Join(dir, "manager"), filepath.Join(dir, "wecom-sim")
	for bin, pkg := range map[string]string{managerPath: "./cmd/manager", simPath: "./cmd/wecom-sim"} {
		goBuild(root, bin, pkg)
	}

	// A cluster being upgraded has the previous version's CRDs; the test installs the new ones
	// just before the new manager starts.
	crds := filepath.Join(dir, "previous-crds")
	extractPrevious(crds, "config/crd/bases")
	var err error
	api, err = scaletest.StartAPIServer(crds, dir)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(api.Stop()).To(Succeed()) })
})

// requirePrevious fails, rather than skips, when the clone lacks the previous commit: a
// shallow CI checkout must not turn the upgrade test into a silent pass.
func requirePrevious() {
	check := exec.Command("git", "cat-file", "-e", previous+"^{commit}")
	check.Dir = root
	if out, err := check.CombinedOutput(); err != nil {
		Fail(fmt.Sprintf("commit %s, the release this test upgrades from, is not in the clone at %s (%v: %s). "+
			"The clone is probably shallow: run `git fetch --unshallow`, or check out with fetch-depth: 0.", previous, root, err, bytes.TrimSpace(out)))
	}
}

// buildPrevious returns bin/manager-<previous>, building it from the commit's sources when it
// is not there yet.
func buildPrevious(tmp string) string {
	bin := filepath.Join(root, "bin", "manager-"+previous)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	src := filepath.Join(tmp, "previous-src")
	extractPrevious(src)
	goBuild(src, bin+".tmp", "./cmd/manager")
	Expect(os.Rename(bin+".tmp", bin)).To(Succeed())
	return bin
}

// extractPrevious writes the previous commit's files (all, or those under paths) into dst.
func extractPrevious(dst string, paths ...string) {
	Expect(os.MkdirAll(dst, 0o755)).To(Succeed())
	archive := exec.Command("git", append([]string{"archive", "--format=tar", previous}, paths...)...)
	archive.Dir, archive.Stderr = root, GinkgoWriter
	untar := exec.Command("tar", "-x", "-C", dst)
	untar.Stdout, untar.Stderr = GinkgoWriter, GinkgoWriter
	pipe, err := archive.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	untar.Stdin = pipe
	Expect(archive.Start()).To(Succeed())
	Expect(untar.Run()).To(Succeed(), "extracting %s", previous)
	Expect(archive.Wait()).To(Succeed(), "git archive %s", previous)
}

func goBuild(dir, out, pkg string) {
	build := exec.Command("go", "build", "-o", out, pkg)
	build.Dir = dir
	build.Stdout, build.Stderr = GinkgoWriter, GinkgoWriter
	ExpectWithOffset(1, build.Run()).To(Succeed(), "building %s in %s", pkg, dir)
}
