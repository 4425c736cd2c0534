package sdk

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestWechatEnterpriseAPI runs node/wechat-enterprise-api.test.js: npm wechat-enterprise-api
// (member tags, agent/*, menu/*).
func TestWechatEnterpriseAPI(t *testing.T) {
	t.Parallel()
	runNode(t, startSim(t), "wechat-enterprise-api.test.js")
}

// TestTNWX runs node/tnwx.test.js: npm @tnwx/wxcp (member tags, agent/*, menu/*, calendars,
// customer corp tags, group welcome templates, customer and group chat lists).
func TestTNWX(t *testing.T) {
	t.Parallel()
	runNode(t, startSim(t), "tnwx.test.js")
}

// runNode runs one node:test file in test/sdk/node against s and fails with its report when
// any of its tests fails. The packages come from `npm ci` (make test-sdk).
func runNode(t *testing.T, s *sim, file string) {
	t.Helper()
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		t.Fatalf("test/sdk/node has no node_modules: run `make test-sdk`, which runs `npm ci` there (%v)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", file)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"WECOM_SIM_URL="+s.URL,
		"WECOM_SIM_CORP_ID="+corpID,
		"WECOM_SIM_APP_SECRET="+appSecret,
		"WECOM_SIM_AGENT_ID="+strconv.Itoa(agentID),
		"WECOM_SIM_LIMITED_AGENT_ID="+strconv.Itoa(limitedAgentID),
		"WECOM_SIM_NOW_UNIX="+strconv.FormatInt(simNow.Unix(), 10),
		"NO_COLOR=1",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s", file, err, out)
	}
	t.Logf("node --test %s:\n%s", file, out)
}
