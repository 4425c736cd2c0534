'use strict';
// TNWX's WeCom packages (@tnwx/wxcp, @tnwx/accesstoken, @tnwx/kits), unchanged, against the
// simulator: member tags, agent/*, menu/*, calendars, customer corp tags, group welcome
// templates, and the customer and group chat lists of customer succession. Every TNWX request
// goes through HttpKit's HTTP delegate, which TNWX lets a user replace
// (HttpKit.setHttpDelegate); the one here wraps TNWX's own axios delegate and only rewrites
// https://qyapi.weixin.qq.com to the simulator. The access token stays in TNWX's default
// in-memory cache.

const test = require('node:test');
const assert = require('node:assert/strict');
const { QyTagApi, QyAgentApi, QyOAApi, QyExContact } = require('@tnwx/wxcp');
const { QyApiConfigKit, ApiConfig } = require('@tnwx/accesstoken');
const { HttpKit } = require('@tnwx/kits');
const { sim, toSim, admin, seedCustomers } = require('./sim');

// QyApiConfigKit prints the corp id on every call (its devMode check tests a method, which is
// always truthy); keep the test output readable.
console.debug = () => {};

const axiosDelegate = HttpKit.getHttpDelegate;
HttpKit.setHttpDelegate = {
  httpGet: (url, options) => axiosDelegate.httpGet(toSim(url), options),
  httpGetToResponse: (url, options) => axiosDelegate.httpGetToResponse(toSim(url), options),
  httpPost: (url, data, options) => axiosDelegate.httpPost(toSim(url), data, options),
  httpPostToResponse: (url, data, options) => axiosDelegate.httpPostToResponse(toSim(url), data, options),
  httpDeleteToResponse: (url, options) => axiosDelegate.httpDeleteToResponse(toSim(url), options),
  httpPostWithCert: (url, data, cert, pass) => axiosDelegate.httpPostWithCert(toSim(url), data, cert, pass),
  upload: (url, file, params) => axiosDelegate.upload(toSim(url), file, params),
  uploadToResponse: (url, file, data, options) => axiosDelegate.uploadToResponse(toSim(url), file, data, options),
  httpPutToResponse: (url, data, options) => axiosDelegate.httpPutToResponse(toSim(url), data, options),
};

const appID = String(sim.agentID);
QyApiConfigKit.putApiConfig(new ApiConfig(appID, sim.appSecret, 'unused-callback-token', false, '', sim.corpID));
QyApiConfigKit.setCurrentAppId(appID, sim.corpID);

// TNWX resolves with WeCom's JSON reply, errors included.
function ok(reply) {
  assert.equal(reply.errcode, 0, `WeCom error: ${JSON.stringify(reply)}`);
  return reply;
}

test('member tags: create with tagid 0, read back, rename, delete; adding members fails (TNWX bug)', async () => {
  // TNWX always sends the tagid it is given; 0 lets WeCom pick one.
  const created = ok(await QyTagApi.create('db-owners', 0));
  assert.ok(created.tagid > 0, `tag/create gave tagid ${created.tagid}`);
  const id = created.tagid;

  // addTagUsers and delTagUsers pass the tagid to util.format as well, which appends it to the
  // URL after a space: access_token=TOKEN%202. WeCom reads "TOKEN 2" as the token: 40014.
  assert.equal((await QyTagApi.addTagUsers(id, ['wangwu'], [4])).errcode, 40014);
  assert.equal((await QyTagApi.delTagUsers(id, ['wangwu'], [4])).errcode, 40014);

  const got = ok(await QyTagApi.getUserByTagId(id));
  assert.equal(got.tagname, 'db-owners');
  assert.deepEqual([got.userlist, got.partylist], [[], []]);

  ok(await QyTagApi.update('database-owners', id));
  const list = ok(await QyTagApi.getTagList());
  assert.ok(list.taglist.some((t) => t.tagid === id && t.tagname === 'database-owners'));

  // A name longer than 32 characters: 40072.
  assert.equal((await QyTagApi.create('x'.repeat(33), 0)).errcode, 40072);

  ok(await QyTagApi.delete(id));
  assert.equal((await QyTagApi.getUserByTagId(id)).errcode, 40068);
});

test('agent/get, agent/set, agent/list and menu/create, menu/get, menu/delete', async () => {
  const before = ok(await QyAgentApi.getAgent(appID));
  assert.equal(before.name, 'operator');

  // TNWX sends agentid as a string and isreportenter/report_location_flag 0 by default.
  ok(await QyAgentApi.setAgent(appID, 'Alert desk', 'Routes alerts to people', 'alerts.example.com', 1));
  const after = ok(await QyAgentApi.getAgent(appID));
  assert.equal(after.name, 'Alert desk');
  assert.equal(after.description, 'Routes alerts to people');
  assert.equal(after.redirect_domain, 'alerts.example.com');
  assert.equal(after.isreportenter, 1);

  // A home_url that is not http(s): 40094.
  const bad = await QyAgentApi.setAgent(appID, undefined, undefined, undefined, 0, 0, undefined, 'ftp://alerts.example.com');
  assert.equal(bad.errcode, 40094);

  const list = ok(await QyAgentApi.getAgentList());
  assert.deepEqual(list.agentlist.map((a) => a.agentid), [sim.agentID]);

  // TNWX takes the menu as a JSON string and puts agentid in the query string.
  const menu = { button: [{ type: 'view', name: 'Runbooks', url: 'https://alerts.example.com/runbooks' }] };
  ok(await QyAgentApi.createMenu(appID, JSON.stringify(menu)));
  const got = ok(await QyAgentApi.getMenu(appID));
  assert.deepEqual(got.button, [{ type: 'view', name: 'Runbooks', url: 'https://alerts.example.com/runbooks', sub_button: [] }]);
  // Another app's menu: 301002.
  assert.equal((await QyAgentApi.getMenu(String(sim.limitedAgentID))).errcode, 301002);
  ok(await QyAgentApi.deleteMenu(appID));
  assert.equal((await QyAgentApi.getMenu(appID)).errcode, 46003);
});

test('oa/calendar add, get, update, del (TNWX still sends the retired organizer field)', async () => {
  // The first-generation API needed an organizer; the current one ignores it.
  const added = ok(await QyOAApi.addCalendar('lisi', 'On-call rota', '#FF3030', 'Who is on call', [
    { userid: 'lisi' },
    { userid: 'wangwu' },
    { userid: 'ghost' },
  ]));
  assert.match(added.cal_id, /^[0-9A-Za-z]+$/);
  // Unknown share members are reported per user and do not fail the call.
  assert.deepEqual(added.fail_result, { shares: [{ errcode: 40001, errmsg: 'not found', userid: 'ghost' }] });
  const calID = added.cal_id;

  let got = ok(await QyOAApi.getCalendar([calID]));
  assert.equal(got.calendar_list.length, 1);
  let cal = got.calendar_list[0];
  assert.equal(cal.summary, 'On-call rota');
  assert.equal(cal.color, '#FF3030');
  assert.equal(cal.description, 'Who is on call');
  assert.deepEqual(cal.shares, [{ userid: 'lisi', permission: 1 }, { userid: 'wangwu', permission: 1 }]);

  // A colour that is not #RRGGBB: 90473.
  assert.equal((await QyOAApi.addCalendar('lisi', 'Bad colour', 'red')).errcode, 90473);

  // update overwrites: shares not sent are gone.
  ok(await QyOAApi.updateCalendar(calID, 'SRE rota', '#0000FF', 'Who is on call this week', [{ userid: 'zhaoliu' }]));
  got = ok(await QyOAApi.getCalendar([calID]));
  cal = got.calendar_list[0];
  assert.deepEqual([cal.summary, cal.color, cal.description], ['SRE rota', '#0000FF', 'Who is on call this week']);
  assert.deepEqual(cal.shares, [{ userid: 'zhaoliu', permission: 1 }]);

  ok(await QyOAApi.delCalendar(calID));
  const state = await admin('GET', '/sim/state');
  assert.ok(state.calendars.find((c) => c.cal_id === calID).deleted, 'the simulator shows the calendar deleted');
  assert.equal((await QyOAApi.delCalendar(calID)).errcode, 90459, 'a deleted calendar: 90459');
});

test('customer corp tags: add a group, list by tag_id, edit, delete', async () => {
  const added = ok(await QyExContact.addCorpTag(undefined, '行业', 10, [
    { name: '金融', order: 1 },
    { name: '教育', order: 2 },
    { name: '教育' }, // a repeated name makes one tag
  ]));
  const group = added.tag_group;
  assert.equal(group.group_name, '行业');
  assert.equal(group.order, 10);
  assert.equal(group.create_time, sim.now);
  assert.deepEqual(group.tag.map((t) => t.name).sort(), ['教育', '金融']);
  const byName = Object.fromEntries(group.tag.map((t) => [t.name, t.id]));

  // TNWX filters by tag_id only: those tags, inside their group, with deleted:false.
  const one = ok(await QyExContact.getCorpTagList([byName['金融']]));
  assert.equal(one.tag_group.length, 1);
  assert.deepEqual(one.tag_group[0].tag.map((t) => [t.name, t.deleted]), [['金融', false]]);

  ok(await QyExContact.editCorpTag(group.group_id, '所属行业', 20));
  ok(await QyExContact.editCorpTag(byName['金融'], '金融保险'));
  const all = ok(await QyExContact.getCorpTagList());
  assert.equal(all.tag_group.length, 1);
  assert.deepEqual([all.tag_group[0].group_name, all.tag_group[0].order], ['所属行业', 20]);
  assert.deepEqual(all.tag_group[0].tag.map((t) => t.name), ['教育', '金融保险'], 'larger order first');

  // A tag name over 30 characters: 40058.
  assert.equal((await QyExContact.addCorpTag(group.group_id, undefined, undefined, [{ name: '长'.repeat(31) }])).errcode, 40058);

  // Deleting the last tags of a group deletes the group.
  ok(await QyExContact.delCorpTag([byName['金融'], byName['教育']]));
  assert.deepEqual(ok(await QyExContact.getCorpTagList()).tag_group, []);
});

test('group welcome templates: add, get, edit, del', async () => {
  const added = ok(await QyExContact.addGroupWelcomeTemplate(
    { content: '欢迎加入客户群' },
    undefined,
    undefined,
    { title: '会员小程序', pic_media_id: 'MEDIA_MINI', appid: 'wx8bd80126147dfAAA', page: '/path/index.html' },
  ));
  const id = added.template_id;
  assert.ok(id, 'add returns a template_id');

  let got = ok(await QyExContact.getGroupWelcomeTemplate(id));
  assert.deepEqual(got.text, { content: '欢迎加入客户群' });
  assert.equal(got.miniprogram.appid, 'wx8bd80126147dfAAA');
  assert.equal(got.miniprogram.page, '/path/index.html');

  ok(await QyExContact.editGroupWelcomeTemplate(id, { content: '欢迎！' }, undefined, {
    title: '入群须知',
    url: 'https://example.com/rules',
  }));
  got = ok(await QyExContact.getGroupWelcomeTemplate(id));
  assert.deepEqual(got.text, { content: '欢迎！' });
  assert.equal(got.link.title, '入群须知');
  assert.equal(got.miniprogram, undefined, 'an edit replaces the whole template');

  // A miniprogram without an appid: 90200.
  const bad = await QyExContact.addGroupWelcomeTemplate(undefined, undefined, undefined, { title: 't', pic_media_id: 'm', page: '/p' });
  assert.equal(bad.errcode, 90200);

  ok(await QyExContact.delGroupWelcomeTemplate(id));
  assert.equal((await QyExContact.getGroupWelcomeTemplate(id)).errcode, 84020);
});

test('customer succession reads: a member\'s customers and customer group chats', async () => {
  await seedCustomers();
  const customers = ok(await QyExContact.getUserList('lisi'));
  assert.deepEqual(customers.external_userid, ['wmCustomerA', 'wmCustomerB']);
  // A member without customers: 84061.
  assert.equal((await QyExContact.getUserList('zhaoliu')).errcode, 84061);

  // TNWX pages with the retired offset; WeCom ignores it and pages by cursor.
  const chats = ok(await QyExContact.getGroupChatList(0, 100, 0, { userid_list: ['lisi'] }));
  assert.deepEqual(chats.group_chat_list, [{ chat_id: 'wrVipChat', status: 0 }]);
  // limit over 1000: 40058.
  assert.equal((await QyExContact.getGroupChatList(0, 1001)).errcode, 40058);
});
