package v1alpha1_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// obj parses one YAML document into an object in namespace default.
func obj(doc string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	ExpectWithOffset(1, yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
	if u.GetNamespace() == "" {
		u.SetNamespace("default")
	}
	return u
}

var nameSeq int

// uniq gives each created object its own name so table entries never collide.
func uniq(u *unstructured.Unstructured) *unstructured.Unstructured {
	nameSeq++
	u.SetName(fmt.Sprintf("%s-%d", u.GetName(), nameSeq))
	return u
}

const conn = "apiVersion: wecom.dev/v1alpha1\nkind: WeComConnection\nmetadata: {name: c}\n"
const dept = "apiVersion: wecom.dev/v1alpha1\nkind: WeComDepartment\nmetadata: {name: d}\n"
const user = "apiVersion: wecom.dev/v1alpha1\nkind: WeComUser\nmetadata: {name: u}\n"
const chat = "apiVersion: wecom.dev/v1alpha1\nkind: WeComAppChat\nmetadata: {name: ch}\n"
const way = "apiVersion: wecom.dev/v1alpha1\nkind: ContactWay\nmetadata: {name: w}\n"
const sched = "apiVersion: wecom.dev/v1alpha1\nkind: Schedule\nmetadata: {name: s}\n"
const notif = "apiVersion: wecom.dev/v1alpha1\nkind: Notification\nmetadata: {name: notif}\n"

const ref = "  connectionRef: {name: c}\n"
const okUserTail = "  userID: zhangsan\n  name: Zhang\n  mobile: \"13800000000\"\n  departments: [{id: 1}]\n"
const okWayTail = "  type: Single\n  scene: QRCode\n  users: [zhangsan]\n"
const okSchedTimes = "  start: \"2030-01-07T10:00:00+08:00\"\n  end: \"2030-01-07T11:00:00+08:00\"\n"
const okTo = "  to: {users: [zhangsan]}\n"
const okMsg = "  message: {text: {content: hi}}\n"

func repeat(s string, n int) string { return strings.Repeat(s, n) }

func list(prefix string, n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return "[" + strings.Join(items, ", ") + "]"
}

var _ = Describe("the samples in config/samples", func() {
	It("are all accepted by the API server", func() {
		files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "wecom_*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		kinds := map[string]bool{}
		for _, f := range files {
			data, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(data)), 4096)
			for {
				u := &unstructured.Unstructured{}
				if err := dec.Decode(&u.Object); err != nil {
					break
				}
				if len(u.Object) == 0 {
					continue
				}
				u.SetNamespace("samples")
				ensureNamespace("samples")
				Expect(k8sClient.Create(ctx, u)).To(Succeed(), "sample %s/%s in %s", u.GetKind(), u.GetName(), f)
				kinds[u.GetKind()] = true
			}
		}
		Expect(kinds).To(HaveKey("WeComConnection"))
		Expect(kinds).To(HaveKey("WeComDepartment"))
		Expect(kinds).To(HaveKey("WeComUser"))
		Expect(kinds).To(HaveKey("WeComAppChat"))
		Expect(kinds).To(HaveKey("ContactWay"))
		Expect(kinds).To(HaveKey("Schedule"))
		Expect(kinds).To(HaveKey("Notification"))
	})
})

var _ = Describe("defaults", func() {
	It("fills in apiURL, deletionPolicy, gender, enabled and skipVerify", func() {
		c := uniq(obj(conn + "spec:\n  corpID: ww1\n  secretRef: {name: s, key: k}\n"))
		Expect(k8sClient.Create(ctx, c)).To(Succeed())
		Expect(field(c, "spec", "apiURL")).To(Equal("https://qyapi.weixin.qq.com"))

		u := uniq(obj(user + "spec:\n" + ref + okUserTail))
		Expect(k8sClient.Create(ctx, u)).To(Succeed())
		Expect(field(u, "spec", "deletionPolicy")).To(Equal("Delete"))
		Expect(field(u, "spec", "gender")).To(Equal("Unspecified"))
		Expect(field(u, "spec", "enabled")).To(BeTrue())

		w := uniq(obj(way + "spec:\n" + ref + okWayTail))
		Expect(k8sClient.Create(ctx, w)).To(Succeed())
		Expect(field(w, "spec", "skipVerify")).To(BeTrue())
	})
})

var _ = DescribeTable("a bad object is refused on create with a message a person understands",
	func(doc, want string) {
		err := k8sClient.Create(ctx, uniq(obj(doc)))
		Expect(err).To(HaveOccurred(), "the API server accepted it")
		Expect(err.Error()).To(ContainSubstring(want))
	},
	// WeComConnection
	Entry("connection: corpID with punctuation", conn+"spec:\n  corpID: ww-1\n  secretRef: {name: s, key: k}\n", "spec.corpID in body should match"),
	Entry("connection: apiURL not http(s)", conn+"spec:\n  corpID: ww1\n  apiURL: ftp://example.com\n  secretRef: {name: s, key: k}\n", "apiURL must be an http(s) URL"),
	Entry("connection: apiURL with a query", conn+"spec:\n  corpID: ww1\n  apiURL: https://example.com/?access_token=x\n  secretRef: {name: s, key: k}\n", "apiURL must be an http(s) URL"),
	Entry("connection: agentID 0", conn+"spec:\n  corpID: ww1\n  agentID: 0\n  secretRef: {name: s, key: k}\n", "spec.agentID in body should be greater than or equal to 1"),
	Entry("connection: no secretRef", conn+"spec:\n  corpID: ww1\n", "spec.secretRef: Required value"),
	Entry("connection: secretRef without key", conn+"spec:\n  corpID: ww1\n  secretRef: {name: s}\n", "spec.secretRef.key: Required value"),
	// WeComDepartment
	Entry("department: name with a colon", dept+"spec:\n"+ref+"  name: \"a:b\"\n", "name must not contain any of"),
	Entry("department: name with a backslash", dept+"spec:\n"+ref+"  name: 'a\\b'\n", "name must not contain any of"),
	Entry("department: name with a full-width pipe", dept+"spec:\n"+ref+"  name: \"a｜b\"\n", "name must not contain any of"),
	Entry("department: name of 33 characters", dept+"spec:\n"+ref+"  name: "+repeat("部", 33)+"\n", "spec.name: Too long: may not be more than 32"),
	Entry("department: empty name", dept+"spec:\n"+ref+"  name: \"\"\n", "spec.name in body should be at least 1 chars long"),
	Entry("department: parentRef and parentID", dept+"spec:\n"+ref+"  name: a\n  parentRef: {name: p}\n  parentID: 3\n", "set at most one of parentRef and parentID"),
	Entry("department: id 1 (the root)", dept+"spec:\n"+ref+"  name: a\n  id: 1\n", "spec.id in body should be greater than or equal to 2"),
	Entry("department: negative order", dept+"spec:\n"+ref+"  name: a\n  order: -1\n", "spec.order in body should be greater than or equal to 0"),
	Entry("department: unknown deletionPolicy", dept+"spec:\n"+ref+"  name: a\n  deletionPolicy: Keep\n", `Unsupported value: "Keep"`),
	Entry("department: no connectionRef", dept+"spec:\n  name: a\n", "spec.connectionRef: Required value"),
	// WeComUser
	Entry("user: userID starting with _", user+"spec:\n"+ref+"  userID: _zhang\n  name: Z\n  email: z@example.com\n  departments: [{id: 1}]\n", "spec.userID in body should match"),
	Entry("user: userID with a space", user+"spec:\n"+ref+"  userID: zhang san\n  name: Z\n  email: z@example.com\n  departments: [{id: 1}]\n", "spec.userID in body should match"),
	Entry("user: userID of 65 characters", user+"spec:\n"+ref+"  userID: "+repeat("a", 65)+"\n  name: Z\n  email: z@example.com\n  departments: [{id: 1}]\n", "spec.userID: Too long: may not be more than 64"),
	Entry("user: neither mobile nor email", user+"spec:\n"+ref+"  userID: zhang\n  name: Z\n  departments: [{id: 1}]\n", "set mobile or email"),
	Entry("user: no departments", user+"spec:\n"+ref+"  userID: zhang\n  name: Z\n  email: z@example.com\n  departments: []\n", "spec.departments in body should have at least 1 items"),
	Entry("user: 101 departments", user+"spec:\n"+ref+"  userID: zhang\n  name: Z\n  email: z@example.com\n  departments: ["+strings.TrimSuffix(repeat("{id: 1}, ", 101), ", ")+"]\n", "must have at most 100 items"),
	Entry("user: department with ref and id", user+"spec:\n"+ref+"  userID: zhang\n  name: Z\n  email: z@example.com\n  departments: [{id: 1, ref: {name: d}}]\n", "set exactly one of ref and id"),
	Entry("user: department with neither ref nor id", user+"spec:\n"+ref+"  userID: zhang\n  name: Z\n  email: z@example.com\n  departments: [{leader: true}]\n", "set exactly one of ref and id"),
	Entry("user: six direct leaders", user+"spec:\n"+ref+"  userID: zhang\n  name: Z\n  email: z@example.com\n  departments: [{id: 1}]\n  directLeaders: "+list("l", 6)+"\n", "spec.directLeaders: Too many: 6: must have at most 5 items"),
	Entry("user: unknown gender", user+"spec:\n"+ref+"  userID: zhang\n  name: Z\n  email: z@example.com\n  departments: [{id: 1}]\n  gender: M\n", `Unsupported value: "M"`),
	Entry("user: email without a domain", user+"spec:\n"+ref+"  userID: zhang\n  name: Z\n  email: zhang@example\n  departments: [{id: 1}]\n", "spec.email in body should match"),
	Entry("user: mobile with letters", user+"spec:\n"+ref+"  userID: zhang\n  name: Z\n  mobile: 138abc\n  departments: [{id: 1}]\n", "spec.mobile in body should match"),
	Entry("user: name of 65 characters", user+"spec:\n"+ref+"  userID: zhang\n  name: "+repeat("名", 65)+"\n  email: z@example.com\n  departments: [{id: 1}]\n", "spec.name: Too long: may not be more than 64"),
	// WeComAppChat
	Entry("chat: one member", chat+"spec:\n"+ref+"  members: [zhangsan]\n", "spec.members in body should have at least 2 items"),
	Entry("chat: chatID with a dash", chat+"spec:\n"+ref+"  chatID: on-call\n  members: [a, b]\n", "spec.chatID in body should match"),
	Entry("chat: chatID of 33 characters", chat+"spec:\n"+ref+"  chatID: "+repeat("a", 33)+"\n  members: [a, b]\n", "spec.chatID: Too long: may not be more than 32"),
	Entry("chat: name of 51 characters", chat+"spec:\n"+ref+"  name: "+repeat("n", 51)+"\n  members: [a, b]\n", "spec.name: Too long: may not be more than 50"),
	Entry("chat: owner not a member", chat+"spec:\n"+ref+"  owner: c\n  members: [a, b]\n", "owner must be one of members"),
	Entry("chat: the same member twice", chat+"spec:\n"+ref+"  members: [a, a]\n", "Duplicate value"),
	// ContactWay
	Entry("way: Single with two users", way+"spec:\n"+ref+"  type: Single\n  scene: QRCode\n  users: [a, b]\n", "a Single way needs exactly one user and no parties"),
	Entry("way: Single with a party", way+"spec:\n"+ref+"  type: Single\n  scene: QRCode\n  users: [a]\n  parties: [2]\n", "a Single way needs exactly one user and no parties"),
	Entry("way: Multi with nobody", way+"spec:\n"+ref+"  type: Multi\n  scene: QRCode\n", "a Multi way needs at least one user or party"),
	Entry("way: temporary Multi", way+"spec:\n"+ref+"  type: Multi\n  scene: QRCode\n  users: [a, b]\n  temporary: {expiresIn: 3600}\n", "temporary is only allowed with type Single"),
	Entry("way: remark of 31 characters", way+"spec:\n"+ref+okWayTail+"  remark: "+repeat("r", 31)+"\n", "spec.remark: Too long: may not be more than 30"),
	Entry("way: state of 31 characters", way+"spec:\n"+ref+okWayTail+"  state: "+repeat("s", 31)+"\n", "spec.state: Too long: may not be more than 30"),
	Entry("way: style on a QR code", way+"spec:\n"+ref+okWayTail+"  style: 1\n", "style only applies to scene MiniProgram"),
	Entry("way: Multi style 3", way+"spec:\n"+ref+"  type: Multi\n  scene: MiniProgram\n  users: [a, b]\n  style: 3\n", "a Multi way's style is 1 or 2"),
	Entry("way: unknown type", way+"spec:\n"+ref+"  type: Group\n  scene: QRCode\n  users: [a]\n", `Unsupported value: "Group"`),
	Entry("way: temporary QR valid for 15 days", way+"spec:\n"+ref+okWayTail+"  temporary: {expiresIn: 1296000}\n", "spec.temporary.expiresIn in body should be less than or equal to 1209600"),
	Entry("way: empty conclusions", way+"spec:\n"+ref+okWayTail+"  temporary: {conclusions: {}}\n", "conclusions needs at least one of text, image, link, miniprogram"),
	Entry("way: 101 users", way+"spec:\n"+ref+"  type: Multi\n  scene: QRCode\n  users: "+list("u", 101)+"\n", "spec.users: Too many: 101: must have at most 100 items"),
	// Schedule
	Entry("schedule: end before start", sched+"spec:\n"+ref+"  start: \"2030-01-07T11:00:00+08:00\"\n  end: \"2030-01-07T10:00:00+08:00\"\n", "end must be after start"),
	Entry("schedule: end equal to start", sched+"spec:\n"+ref+"  start: \"2030-01-07T11:00:00+08:00\"\n  end: \"2030-01-07T03:00:00Z\"\n", "end must be after start"),
	Entry("schedule: start not RFC 3339", sched+"spec:\n"+ref+"  start: \"next monday\"\n  end: \"2030-01-07T11:00:00+08:00\"\n", "spec.start"),
	Entry("schedule: admin not attending", sched+"spec:\n"+ref+okSchedTimes+"  attendees: [a]\n  admins: [b]\n", "admins must be among attendees"),
	Entry("schedule: four admins", sched+"spec:\n"+ref+okSchedTimes+"  attendees: [a, b, c, d]\n  admins: [a, b, c, d]\n", "spec.admins: Too many: 4: must have at most 3 items"),
	Entry("schedule: summary of 129 characters", sched+"spec:\n"+ref+okSchedTimes+"  summary: "+repeat("s", 129)+"\n", "spec.summary: Too long: may not be more than 128"),
	Entry("schedule: description of 1001 characters", sched+"spec:\n"+ref+okSchedTimes+"  description: "+repeat("d", 1001)+"\n", "spec.description: Too long: may not be more than 1000"),
	Entry("schedule: 48h reminder on a timed schedule", sched+"spec:\n"+ref+okSchedTimes+"  reminders: {before: [\"48h\"]}\n", "48h, 168h and OnTheDayAt9 reminders need wholeDay: true"),
	Entry("schedule: a reminder WeCom does not offer", sched+"spec:\n"+ref+okSchedTimes+"  reminders: {before: [\"10m\"]}\n", `Unsupported value: "10m"`),
	Entry("schedule: timezone +13", sched+"spec:\n"+ref+okSchedTimes+"  reminders: {timezone: 13}\n", "spec.reminders.timezone in body should be less than or equal to 12"),
	Entry("schedule: day of week 8", sched+"spec:\n"+ref+okSchedTimes+"  repeat: {type: Weekly, daysOfWeek: [8]}\n", "should be less than or equal to 7"),
	Entry("schedule: daysOfMonth on a weekly repeat", sched+"spec:\n"+ref+okSchedTimes+"  repeat: {type: Weekly, daysOfMonth: [1]}\n", "daysOfMonth only applies to Monthly repeats"),
	Entry("schedule: repeat until before start", sched+"spec:\n"+ref+okSchedTimes+"  repeat: {type: Daily, until: \"2029-01-01T00:00:00Z\"}\n", "repeat.until must be after start"),
	Entry("schedule: unknown repeat type", sched+"spec:\n"+ref+okSchedTimes+"  repeat: {type: Hourly}\n", `Unsupported value: "Hourly"`),
	// Notification
	Entry("notification: two channels", notif+"spec:\n"+ref+okTo+"  robot: {webhookSecretRef: {name: r, key: k}}\n"+okMsg, "set exactly one channel"),
	Entry("notification: no channel", notif+"spec:\n"+ref+okMsg, "set exactly one channel"),
	Entry("notification: chatRef and chatID", notif+"spec:\n"+ref+"  chatRef: {name: x}\n  chatID: abc\n"+okMsg, "set chatRef or chatID, not both"),
	Entry("notification: text and markdown", notif+"spec:\n"+ref+okTo+"  message: {text: {content: a}, markdown: {content: b}}\n", "message needs exactly one of text, markdown, textCard, news, templateCard"),
	Entry("notification: empty message", notif+"spec:\n"+ref+okTo+"  message: {}\n", "message needs exactly one of"),
	Entry("notification: to nobody", notif+"spec:\n"+ref+"  to: {}\n"+okMsg, "to needs at least one of users, parties, tags, tagRefs, or all: true"),
	Entry("notification: app message without connectionRef", notif+"spec:\n"+okTo+okMsg, "app messages and chatID need connectionRef"),
	Entry("notification: nine news articles", notif+"spec:\n"+ref+okTo+"  message: {news: {articles: ["+strings.TrimSuffix(repeat("{title: t, url: \"https://e.com\"}, ", 9), ", ")+"]}}\n", "spec.message.news.articles: Too many: 9: must have at most 8 items"),
	Entry("notification: article without a link", notif+"spec:\n"+ref+okTo+"  message: {news: {articles: [{title: t}]}}\n", "an article needs url, or appID and pagePath"),
	Entry("notification: textCard to a robot", notif+"spec:\n  robot: {webhookSecretRef: {name: r, key: k}}\n  message: {textCard: {title: t, description: d, url: \"https://e.com\"}}\n", "group robots cannot send textCard"),
	Entry("notification: templateCard to a chat", notif+"spec:\n"+ref+"  chatID: abc\n  message: {templateCard: {cardType: text_notice, subTitleText: s, cardAction: {type: 1, url: \"https://e.com\"}}}\n", "app chats cannot send templateCard"),
	Entry("notification: text_notice card without a title", notif+"spec:\n"+ref+okTo+"  message: {templateCard: {cardType: text_notice, cardAction: {type: 1, url: \"https://e.com\"}}}\n", "a text_notice card needs mainTitle.title or subTitleText"),
	Entry("notification: mentions in an app message", notif+"spec:\n"+ref+okTo+"  message: {text: {content: a, mentionedUsers: [\"@all\"]}}\n", "mentions only work with a group robot"),
	Entry("notification: dedupe window of 5h", notif+"spec:\n"+ref+okTo+okMsg+"  duplicateCheckInterval: 5h\n", "duplicateCheckInterval must be more than 0s and at most 4h"),
	Entry("notification: textCard URL not http", notif+"spec:\n"+ref+okTo+"  message: {textCard: {title: t, description: d, url: \"ftp://e.com\"}}\n", "spec.message.textCard.url in body should match"),
	Entry("notification: more than 1000 users", notif+"spec:\n"+ref+"  to: {users: "+list("u", 1001)+"}\n"+okMsg, "spec.to.users: Too many: 1001: must have at most 1000 items"),
)

var _ = DescribeTable("an update that changes an immutable field is refused",
	func(doc string, mutate func(*unstructured.Unstructured), want string) {
		u := uniq(obj(doc))
		Expect(k8sClient.Create(ctx, u)).To(Succeed())
		mutate(u)
		err := k8sClient.Update(ctx, u)
		Expect(err).To(HaveOccurred(), "the API server accepted the change")
		Expect(err.Error()).To(ContainSubstring(want))
	},
	Entry("department id", dept+"spec:\n"+ref+"  name: a\n  id: 5\n", set(int64(6), "spec", "id"), "id is immutable"),
	Entry("department id added later", dept+"spec:\n"+ref+"  name: a\n", set(int64(6), "spec", "id"), "id is immutable"),
	Entry("department connectionRef", dept+"spec:\n"+ref+"  name: a\n", set("other", "spec", "connectionRef", "name"), "connectionRef is immutable"),
	Entry("user userID", user+"spec:\n"+ref+okUserTail, set("lisi", "spec", "userID"), "userID is immutable"),
	Entry("chat chatID", chat+"spec:\n"+ref+"  chatID: abc\n  members: [a, b]\n", set("abd", "spec", "chatID"), "chatID is immutable once set"),
	Entry("chat chatID removed", chat+"spec:\n"+ref+"  chatID: abc\n  members: [a, b]\n", unset("spec", "chatID"), "chatID is immutable once set"),
	Entry("way type", way+"spec:\n"+ref+okWayTail, set("Multi", "spec", "type"), "type is immutable"),
	Entry("way scene", way+"spec:\n"+ref+okWayTail, set("MiniProgram", "spec", "scene"), "scene is immutable"),
	Entry("way made temporary", way+"spec:\n"+ref+okWayTail, set(map[string]any{"expiresIn": int64(60)}, "spec", "temporary"), "whether the way is temporary is immutable"),
	Entry("schedule calendarID", sched+"spec:\n"+ref+okSchedTimes+"  calendarID: cal1\n", set("cal2", "spec", "calendarID"), "calendarID is immutable"),
	Entry("notification content", notif+"spec:\n"+ref+okTo+okMsg, set("changed", "spec", "message", "text", "content"), "a Notification is immutable once created"),
	Entry("notification recipients", notif+"spec:\n"+ref+okTo+okMsg, set([]any{"lisi"}, "spec", "to", "users"), "a Notification is immutable once created"),
)

var _ = Describe("mutable fields", func() {
	It("accept a change of name, members and owner on a chat", func() {
		u := uniq(obj(chat + "spec:\n" + ref + "  chatID: abc\n  owner: a\n  members: [a, b]\n"))
		Expect(k8sClient.Create(ctx, u)).To(Succeed())
		Expect(unstructured.SetNestedStringSlice(u.Object, []string{"a", "b", "c"}, "spec", "members")).To(Succeed())
		Expect(unstructured.SetNestedField(u.Object, "c", "spec", "owner")).To(Succeed())
		Expect(k8sClient.Update(ctx, u)).To(Succeed())
	})
})

func set(v any, path ...string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		ExpectWithOffset(2, unstructured.SetNestedField(u.Object, v, path...)).To(Succeed())
	}
}

func unset(path ...string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, path...) }
}

// field reads a value the API server returned, or nil.
func field(u *unstructured.Unstructured, path ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
	return v
}
