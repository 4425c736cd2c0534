'use strict';
// wechat-enterprise-api (node-webot), unchanged, against the simulator: member tags, the
// app's settings (agent/*) and its menu (menu/*). The SDK builds every URL from the API
// object's public `prefix` field (default https://qyapi.weixin.qq.com/cgi-bin/), set here to
// the simulator; its access token stays in its default in-memory store.

const test = require('node:test');
const assert = require('node:assert/strict');
const { promisify } = require('node:util');
const API = require('wechat-enterprise-api');
const { sim, toSim, admin } = require('./sim');

const api = new API(sim.corpID, sim.appSecret, sim.agentID);
api.prefix = toSim('https://qyapi.weixin.qq.com/cgi-bin/');

// call runs a callback-style SDK method and resolves with its result.
const call = (name, ...args) => promisify(api[name]).apply(api, args);

// errcodeOf runs an SDK method that must fail and returns the WeCom errcode it reported.
async function errcodeOf(name, ...args) {
  try {
    await call(name, ...args);
  } catch (err) {
    return err.code;
  }
  assert.fail(`${name} succeeded`);
}

test('member tags: create, add members, read them back, rename, remove, delete', async () => {
  const created = await call('createTag', 'weekend-oncall');
  assert.equal(created.errmsg, 'created');
  assert.equal(typeof created.tagid, 'number', 'tag/create returns tagid as a JSON number');
  const id = created.tagid;

  const added = await call('addTagUsers', id, ['lisi', 'zhaoliu', 'ghost']);
  assert.equal(added.errcode, 0);
  assert.equal(added.invalidlist, 'ghost', 'a partly invalid list is errcode 0 plus a pipe-joined invalidlist');

  const got = await call('getTagUsers', id);
  assert.equal(got.tagname, 'weekend-oncall');
  assert.deepEqual(
    got.userlist.map((u) => [u.userid, u.name]).sort(),
    [['lisi', '李四'], ['zhaoliu', '赵六']],
  );
  assert.deepEqual(got.partylist, []);

  // All members unknown: 40070 on add (the SDK's own comment says 40031, the deltagusers code).
  assert.equal(await errcodeOf('addTagUsers', id, ['ghost']), 40070);

  await call('updateTagName', id, 'weekend-captains');
  const list = await call('listTags');
  assert.ok(
    list.taglist.some((t) => t.tagid === id && t.tagname === 'weekend-captains'),
    `tag/list ${JSON.stringify(list.taglist)} lacks the renamed tag`,
  );

  const removed = await call('deleteTagUsers', id, ['zhaoliu']);
  assert.equal(removed.errmsg, 'deleted');
  const after = await call('getTagUsers', id);
  assert.deepEqual(after.userlist.map((u) => u.userid), ['lisi']);

  // The demo tag 1 was made in the admin console, not by this app: 81011.
  assert.equal(await errcodeOf('updateTagName', 1, 'hijacked'), 81011);

  await call('deleteTag', id);
  assert.equal(await errcodeOf('getTagUsers', id), 40068);
});

test('agent/get, agent/set and agent/list: the app reads and changes its own settings', async () => {
  const before = await call('getAgent', sim.agentID);
  assert.equal(before.agentid, sim.agentID);
  assert.equal(before.name, 'operator');
  assert.equal(before.close, 0);
  assert.deepEqual(before.allow_partys, { partyid: [1] });

  // The SDK's documented example sends agentid and report_location_flag as strings and the
  // obsolete isreportuser: WeCom accepts numeric strings and ignores isreportuser.
  const set = await call('setAgent', {
    agentid: String(sim.agentID),
    report_location_flag: '0',
    name: 'On-call desk',
    description: 'Pages the on-call engineer',
    redirect_domain: 'oncall.example.com',
    isreportuser: 0,
    isreportenter: 1,
    home_url: 'https://oncall.example.com/',
  });
  assert.equal(set.errmsg, 'ok');

  const after = await call('getAgent', sim.agentID);
  assert.equal(after.name, 'On-call desk');
  assert.equal(after.description, 'Pages the on-call engineer');
  assert.equal(after.redirect_domain, 'oncall.example.com');
  assert.equal(after.isreportenter, 1);
  assert.equal(after.report_location_flag, 0);
  assert.equal(after.home_url, 'https://oncall.example.com/');

  // A description under 4 characters: 45004, and nothing changes.
  assert.equal(await errcodeOf('setAgent', { agentid: sim.agentID, description: 'abc' }), 45004);
  assert.equal((await call('getAgent', sim.agentID)).description, 'Pages the on-call engineer');

  // Only the token's own app: another agentid is 301002; agent/list shows the caller only.
  assert.equal(await errcodeOf('getAgent', sim.limitedAgentID), 301002);
  const list = await call('listAgent');
  assert.deepEqual(list.agentlist.map((a) => [a.agentid, a.name]), [[sim.agentID, 'On-call desk']]);

  // What the admin console shows.
  const state = await admin('GET', '/sim/state');
  const app = state.apps.find((a) => a.agent_id === sim.agentID);
  assert.equal(app.settings.name, 'On-call desk');
});

test('menu/create, menu/get, menu/delete: the app menu round-trips', async () => {
  const menu = {
    button: [
      { type: 'click', name: '今日值班', key: 'ONCALL_TODAY' },
      {
        name: '菜单',
        sub_button: [
          { type: 'view', name: '告警面板', url: 'https://oncall.example.com/alerts' },
          { type: 'click', name: '确认告警', key: 'ACK' },
        ],
      },
    ],
  };
  assert.equal((await call('createMenu', menu)).errmsg, 'ok');

  // WeCom answers with "button" at the top level (the SDK's comment shows the WeChat
  // official-account shape, {"menu":{"button":…}}); a leaf top-level button carries
  // "sub_button":[] as in WeCom's create example.
  const got = await call('getMenu');
  assert.equal(got.menu, undefined);
  assert.deepEqual(got.button, [
    { type: 'click', name: '今日值班', key: 'ONCALL_TODAY', sub_button: [] },
    {
      name: '菜单',
      sub_button: [
        { type: 'view', name: '告警面板', url: 'https://oncall.example.com/alerts' },
        { type: 'click', name: '确认告警', key: 'ACK' },
      ],
    },
  ]);

  // Four top-level buttons: 40016.
  const four = { button: [1, 2, 3, 4].map((i) => ({ type: 'click', name: `b${i}`, key: `k${i}` })) };
  assert.equal(await errcodeOf('createMenu', four), 40016);

  assert.equal((await call('removeMenu')).errmsg, 'ok');
  assert.equal(await errcodeOf('getMenu'), 46003, 'no menu: 46003');
});
