'use strict';
// What the SDK tests share: the simulator that test/sdk started (environment variables set
// by sdk_test.go's runNode), its admin API, and the rewrite of https://qyapi.weixin.qq.com
// (hard-coded by every SDK here) to it.

const SIM_URL = process.env.WECOM_SIM_URL;
if (!SIM_URL) {
  throw new Error('WECOM_SIM_URL is not set: run these files through make test-sdk (test/sdk)');
}

const sim = {
  url: SIM_URL,
  corpID: process.env.WECOM_SIM_CORP_ID,
  appSecret: process.env.WECOM_SIM_APP_SECRET,
  agentID: Number(process.env.WECOM_SIM_AGENT_ID),
  limitedAgentID: Number(process.env.WECOM_SIM_LIMITED_AGENT_ID),
  now: Number(process.env.WECOM_SIM_NOW_UNIX),
};

const WECOM = 'https://qyapi.weixin.qq.com/';

// toSim rewrites a WeCom URL to the simulator and refuses any other, so that no test can
// reach the real WeCom.
function toSim(url) {
  if (!url.startsWith(WECOM)) {
    throw new Error(`sdk test: refusing a request to ${url}`);
  }
  return SIM_URL + '/' + url.slice(WECOM.length);
}

// admin calls the simulator's admin API (/sim/…) and returns the decoded JSON reply.
async function admin(method, path, body) {
  const res = await fetch(SIM_URL + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}`);
  }
  return JSON.parse(text);
}

// seedCustomers gives lisi two customers and a customer group chat (customers come from
// people scanning a QR code, not from an API call).
function seedCustomers() {
  return admin('POST', '/sim/seed', {
    external_contacts: [
      { external_userid: 'wmCustomerA', userid: 'lisi' },
      { external_userid: 'wmCustomerB', userid: 'lisi' },
    ],
    customer_group_chats: [{ chat_id: 'wrVipChat', name: 'VIP customers', owner: 'lisi' }],
  });
}

module.exports = { sim, toSim, admin, seedCustomers };
