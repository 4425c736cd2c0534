// Package faults runs the built manager binary against a real kube-apiserver and the WeCom
// simulator binary answering with errors, 45009 windows and lost replies, kills the manager
// with SIGKILL during convergence, takes WeCom down for a minute and loses half the replies
// of every create endpoint, and checks that WeCom ends up exactly as the objects say, with
// nothing made twice and every notification delivered.
package faults

import (
	"os/exec"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/wecom-dev/wecom-operator/internal/scaletest"
	"github.com/wecom-dev/wecom-operator/internal/testenv"
)

var (
	api         *scaletest.APIServer
	managerPath string
	simPath     string
)

func TestFaults(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "convergence through WeCom faults and manager crashes")
}

var _ = BeforeSuite(func() {
	root := testenv.Root()
	dir := GinkgoT().TempDir()
	managerPath, simPath = filepath.Join(dir, "manager"), filepath.Join(dir, "wecom-sim")
	for bin, pkg := range map[string]string{managerPath: "./cmd/manager", simPath: "./cmd/wecom-sim"} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Dir = root
		build.Stdout, build.Stderr = GinkgoWriter, GinkgoWriter
		Expect(build.Run()).To(Succeed(), "building %s", pkg)
	}
	var err error
	api, err = scaletest.StartAPIServer(root, dir)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(api.Stop()).To(Succeed()) })
})
