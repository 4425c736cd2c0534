package importer

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/wecom-dev/wecom-operator/api/v1alpha1"
	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// LabelMainDepartment is set on every imported WeComUser to the object name of its main
// department, so that a kustomize patch can select a department's members
// (labelSelector: import.wecom.dev/main-department=dept-12-platform).
const LabelMainDepartment = "import.wecom.dev/main-department"

// BuildOptions says how the objects are written.
type BuildOptions struct {
	// Connection is the WeComConnection departments and members name (the contacts-sync one).
	Connection string
	// AppConnection is the WeComConnection contact ways, calendars, schedules, chats and the app
	// name (a self-built app's).
	AppConnection string
	// TagConnection is the WeComConnection tags name: the one whose secret read them, so that
	// the operator's tag/get sees the members the import saw.
	TagConnection string
	// Manage writes fully managed objects (no managementPolicies, deletionPolicy Delete by
	// default). Otherwise every object only observes: managementPolicies [Observe] and
	// deletionPolicy Orphan.
	Manage bool
}

// Manifests are the objects an import writes, each kind sorted by name.
type Manifests struct {
	Departments []v1.WeComDepartment
	Users       []v1.WeComUser
	Tags        []v1.WeComTag
	ContactWays []v1.ContactWay
	Calendars   []v1.WeComCalendar // the calendars named with --calendar that WeCom returned
	Schedules   []v1.Schedule
	AppChats    []v1.WeComAppChat
	Apps        []v1.WeComApp // the app of the connection's agentID, when read
	// Warnings say what was left out or changed to fit the API's validation, sorted.
	Warnings []string
}

// Count is the number of objects.
func (m *Manifests) Count() int {
	return len(m.Departments) + len(m.Users) + len(m.Tags) + len(m.ContactWays) + len(m.Calendars) + len(m.Schedules) + len(m.AppChats) + len(m.Apps)
}

// The API's validation of the fields that WeCom may hold in another form (the patterns of the
// CRDs, see api/v1alpha1/wecomuser_types.go).
var (
	mobilePattern    = regexp.MustCompile(`^\+?[0-9][0-9 -]*$`)
	emailPattern     = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	telephonePattern = regexp.MustCompile(`^[0-9+,-]+$`)
	userIDPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_@.-]*$`)
	chatIDPattern    = regexp.MustCompile(`^[0-9a-zA-Z]{1,32}$`)
	httpURLPattern   = regexp.MustCompile(`^https?://.+`)
	domainPattern    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)
	colorPattern     = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
	deptNameBad      = regexp.MustCompile(`[\\:*?"<>|：＊？＂“”＜＞｜＼]`)
)

// Build turns what was read into objects.
func Build(snap *Snapshot, opts BuildOptions) *Manifests {
	b := &builder{opts: opts, m: &Manifests{}, deptNames: map[int]string{}, userNames: map[string]string{}, calNames: map[string]string{}}
	b.departments(snap.Departments)
	b.users(snap.Users)
	b.tags(snap.Tags)
	b.app(snap.App)
	b.contactWays(snap.ContactWays)
	b.calendars(snap.Calendars)
	b.schedules(snap.Schedules)
	b.chats(snap.Chats)
	m := b.m
	sort.Slice(m.Departments, func(i, j int) bool { return m.Departments[i].Name < m.Departments[j].Name })
	sort.Slice(m.Users, func(i, j int) bool { return m.Users[i].Name < m.Users[j].Name })
	sort.Slice(m.Tags, func(i, j int) bool { return m.Tags[i].Name < m.Tags[j].Name })
	sort.Slice(m.ContactWays, func(i, j int) bool { return m.ContactWays[i].Name < m.ContactWays[j].Name })
	sort.Slice(m.Calendars, func(i, j int) bool { return m.Calendars[i].Name < m.Calendars[j].Name })
	sort.Slice(m.Schedules, func(i, j int) bool { return m.Schedules[i].Name < m.Schedules[j].Name })
	sort.Slice(m.AppChats, func(i, j int) bool { return m.AppChats[i].Name < m.AppChats[j].Name })
	m.Warnings = append(m.Warnings, snap.Warnings...)
	sort.Strings(m.Warnings)
	m.Warnings = slices.Compact(m.Warnings)
	return m
}

type builder struct {
	opts BuildOptions
	m    *Manifests
	// deptNames maps an imported department's WeCom id to its object name.
	deptNames map[int]string
	// userNames maps an imported member's lower-cased userid to its object name.
	userNames map[string]string
	// calNames maps an imported calendar's cal_id to its object name.
	calNames map[string]string
}

func (b *builder) warn(format string, args ...any) {
	b.m.Warnings = append(b.m.Warnings, fmt.Sprintf(format, args...))
}

// objectMeta is the metadata of an imported object bound to the WeCom id external.
func objectMeta(kind, name, external string) (metav1.TypeMeta, metav1.ObjectMeta) {
	return metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: kind},
		metav1.ObjectMeta{Name: name, Annotations: map[string]string{v1.AnnotationExternalName: external}}
}

func (b *builder) managed(conn string) v1.ManagedSpec {
	s := v1.ManagedSpec{ConnectionRef: v1.ConnectionReference{Name: conn}}
	if !b.opts.Manage {
		s.ManagementPolicies = []v1.ManagementPolicy{v1.ManagementObserve}
	}
	return s
}

func (b *builder) deletable(conn string) v1.DeletableSpec {
	s := v1.DeletableSpec{ManagedSpec: b.managed(conn)}
	if !b.opts.Manage {
		s.DeletionPolicy = v1.DeletionOrphan
	}
	return s
}

func (b *builder) departments(depts []wecom.Department) {
	var keep []wecom.Department
	for _, d := range depts {
		switch {
		case d.ID == wecom.RootDepartmentID:
			continue // the root is the corp itself: never an object
		case d.ID < 2:
			b.warn("department %d (%q): not a valid department id; not imported", d.ID, d.Name)
			continue
		case !validDeptName(d.Name):
			b.warn("department %d: name %q is not valid for spec.name (1-32 characters without \\ : * ? \" < > |); not imported", d.ID, d.Name)
			continue
		}
		keep = append(keep, d)
	}
	keys, names := make([]string, len(keep)), make([]string, len(keep))
	for i, d := range keep {
		keys[i], names[i] = strconv.Itoa(d.ID), DepartmentName(d.ID, d.Name, d.NameEn)
	}
	names = uniqueNames(keys, names)
	for i, d := range keep {
		b.deptNames[d.ID] = names[i]
	}
	for i, d := range keep {
		tm, om := objectMeta("WeComDepartment", names[i], keys[i])
		obj := v1.WeComDepartment{TypeMeta: tm, ObjectMeta: om}
		s := &obj.Spec
		s.DeletableSpec = b.deletable(b.opts.Connection)
		s.Name = d.Name
		if d.NameEn != "" {
			if validDeptName(d.NameEn) {
				s.NameEn = d.NameEn
			} else {
				b.warn("department %d: nameEn %q is not valid for spec.nameEn; left out (not managed)", d.ID, d.NameEn)
			}
		}
		s.ID = ptr(int64(d.ID))
		s.Order = ptr(int64(d.Order))
		switch parent, ok := b.deptNames[d.ParentID]; {
		case ok:
			s.ParentRef = &v1.LocalObjectReference{Name: parent}
		case d.ParentID == wecom.RootDepartmentID || d.ParentID == 0:
			// Under the root: neither parentRef nor parentID.
		default:
			// A parent outside what the secret sees: named by its id.
			s.ParentID = ptr(int64(d.ParentID))
		}
		b.m.Departments = append(b.m.Departments, obj)
	}
}

func validDeptName(s string) bool {
	n := utf8.RuneCountInString(s)
	return n >= 1 && n <= 32 && !deptNameBad.MatchString(s)
}

func (b *builder) users(users []wecom.User) {
	type member struct {
		u    wecom.User
		name string
	}
	var keep []member
	for _, u := range users {
		if !userIDPattern.MatchString(u.UserID) || len(u.UserID) > 64 {
			b.warn("member %q: the userid is not valid for spec.userID; not imported", u.UserID)
			continue
		}
		keep = append(keep, member{u: u, name: UserName(u.UserID)})
	}
	keys, names := make([]string, len(keep)), make([]string, len(keep))
	for i, m := range keep {
		keys[i], names[i] = strings.ToLower(m.u.UserID), m.name
	}
	names = uniqueNames(keys, names)
	for i, m := range keep {
		if obj, ok := b.user(m.u, names[i]); ok {
			b.m.Users = append(b.m.Users, obj)
			b.userNames[keys[i]] = names[i]
		}
	}
}

// user is the WeComUser of u: every field user/get returned that the spec has, so that the
// object matches WeCom as it is and nothing is left for the operator to fill in.
func (b *builder) user(u wecom.User, name string) (v1.WeComUser, bool) {
	tm, om := objectMeta("WeComUser", name, u.UserID)
	obj := v1.WeComUser{TypeMeta: tm, ObjectMeta: om}
	s := &obj.Spec
	s.DeletableSpec = b.deletable(b.opts.Connection)
	s.UserID = u.UserID
	who := fmt.Sprintf("member %q", u.UserID)
	if n := utf8.RuneCountInString(u.Name); n < 1 || n > 64 {
		b.warn("%s: name %q is not 1-64 characters; not imported", who, u.Name)
		return obj, false
	}
	s.Name = u.Name
	s.Alias = b.text(who, "alias", u.Alias, 64, nil)
	s.Mobile = b.text(who, "mobile", u.Mobile, 32, mobilePattern)
	s.Email = b.mail(who, "email", u.Email)
	s.BizMail = b.mail(who, "bizMail", u.BizMail)
	s.Telephone = b.text(who, "telephone", u.Telephone, 32, telephonePattern)
	s.Position = b.text(who, "position", u.Position, 128, nil)
	if s.Mobile == "" && s.Email == "" {
		b.warn("%s: WeCom shows neither a mobile nor an email, and the spec needs one; not imported", who)
		return obj, false
	}
	switch u.Gender {
	case wecom.GenderMale:
		s.Gender = v1.GenderMale
	case wecom.GenderFemale:
		s.Gender = v1.GenderFemale
	default:
		s.Gender = v1.GenderUnspecified
	}
	s.Enabled = ptr(bool(u.Enable))
	for i, id := range u.Department {
		if id == 0 {
			continue // 待设置部门: no department yet
		}
		d := v1.UserDepartment{}
		if ref, ok := b.deptNames[id]; ok {
			d.Ref = &v1.LocalObjectReference{Name: ref}
		} else {
			d.ID = ptr(int64(id)) // the root, or a department outside what the secret sees
		}
		if i < len(u.Order) {
			d.Order = int64(u.Order[i])
		}
		if i < len(u.IsLeaderInDept) {
			d.Leader = bool(u.IsLeaderInDept[i])
		}
		s.Departments = append(s.Departments, d)
	}
	switch {
	case len(s.Departments) == 0:
		b.warn("%s: in no department (待设置部门), and the spec needs one; not imported", who)
		return obj, false
	case len(s.Departments) > 100:
		b.warn("%s: in %d departments, more than the spec's 100; not imported", who, len(s.Departments))
		return obj, false
	}
	if ref := s.Departments[0].Ref; ref != nil {
		obj.Labels = map[string]string{LabelMainDepartment: ref.Name}
	}
	if len(u.DirectLeader) > 0 {
		leaders := sortedUnique(u.DirectLeader)
		if len(leaders) > 5 {
			b.warn("%s: %d direct leaders, more than the spec's 5; the first 5 are kept", who, len(leaders))
			leaders = leaders[:5]
		}
		s.DirectLeaders = leaders
	}
	return obj, true
}

// text returns v when it fits the field's limits (max characters, pattern), else "" and a
// warning: the object then shows the field as drift.
func (b *builder) text(who, field, v string, maxLen int, pattern *regexp.Regexp) string {
	if v == "" {
		return ""
	}
	if utf8.RuneCountInString(v) > maxLen || (pattern != nil && !pattern.MatchString(v)) {
		b.warn("%s: %s %q is not valid for spec.%s; left out (the object will show it as drift)", who, field, v, field)
		return ""
	}
	return v
}

func (b *builder) mail(who, field, v string) string {
	if v != "" && (len(v) < 6 || utf8.RuneCountInString(v) > 64) {
		b.warn("%s: %s %q is not 6-64 characters; left out (the object will show it as drift)", who, field, v)
		return ""
	}
	return b.text(who, field, v, 64, emailPattern)
}

func (b *builder) tags(tags []TagSnapshot) {
	var keep []TagSnapshot
	for _, t := range tags {
		who := fmt.Sprintf("tag %d (%q)", t.ID, t.Tag.Name)
		switch n := utf8.RuneCountInString(t.Tag.Name); {
		case t.ID < 1:
			b.warn("%s: not a valid tag id for spec.id; not imported", who)
			continue
		case n < 1 || n > 32:
			b.warn("%s: the name is not 1-32 characters; not imported", who)
			continue
		}
		keep = append(keep, t)
	}
	keys, names := make([]string, len(keep)), make([]string, len(keep))
	for i, t := range keep {
		keys[i], names[i] = strconv.Itoa(t.ID), TagName(t.ID, t.Tag.Name)
	}
	names = uniqueNames(keys, names)
	for i, t := range keep {
		if obj, ok := b.tag(t, keys[i], names[i]); ok {
			b.m.Tags = append(b.m.Tags, obj)
		}
	}
}

// tag is the WeComTag of t: its name, its id in spec.id, and its members as refs to the
// imported WeComUsers and WeComDepartments (userids and department ids for the others),
// users by lower-cased userid and departments by id. tag/get lists only the members in the
// visible range of the secret that read it, and the object's connection is that secret's:
// the operator compares what the same secret sees.
func (b *builder) tag(t TagSnapshot, key, name string) (v1.WeComTag, bool) {
	who := fmt.Sprintf("tag %d (%q)", t.ID, t.Tag.Name)
	tm, om := objectMeta("WeComTag", name, key)
	obj := v1.WeComTag{TypeMeta: tm, ObjectMeta: om}
	s := &obj.Spec
	s.DeletableSpec = b.deletable(b.opts.TagConnection)
	s.Name = t.Tag.Name
	s.ID = ptr(int64(t.ID))
	var userIDs []string
	seen := map[string]bool{}
	for _, u := range t.Tag.UserList {
		if k := strings.ToLower(u.UserID); k != "" && !seen[k] {
			seen[k] = true
			userIDs = append(userIDs, u.UserID)
		}
	}
	slices.SortFunc(userIDs, func(x, y string) int { return strings.Compare(strings.ToLower(x), strings.ToLower(y)) })
	parties := sortedUnique(t.Tag.PartyList)
	switch {
	case len(userIDs) > v1.MaxTagUsers:
		b.warn("%s: %d members, more than the spec's %d; not imported", who, len(userIDs), v1.MaxTagUsers)
		return obj, false
	case len(parties) > v1.MaxTagDepartments:
		b.warn("%s: %d departments, more than the spec's %d; not imported", who, len(parties), v1.MaxTagDepartments)
		return obj, false
	}
	for _, id := range userIDs {
		if len(id) > 64 {
			b.warn("%s: member %q is not a valid userid for spec.users; not imported", who, id)
			return obj, false
		}
		if ref, ok := b.userNames[strings.ToLower(id)]; ok {
			s.Users = append(s.Users, v1.TagUser{Ref: &v1.LocalObjectReference{Name: ref}})
		} else {
			s.Users = append(s.Users, v1.TagUser{UserID: id})
		}
	}
	for _, id := range parties {
		if id < 1 {
			b.warn("%s: department %d is not a valid department id for spec.departments; not imported", who, id)
			return obj, false
		}
		if ref, ok := b.deptNames[id]; ok {
			s.Departments = append(s.Departments, v1.TagDepartment{Ref: &v1.LocalObjectReference{Name: ref}})
		} else {
			s.Departments = append(s.Departments, v1.TagDepartment{ID: ptr(int64(id))})
		}
	}
	return obj, true
}

// app is the WeComApp of the app read: every setting agent/get returned that the spec has
// and the menu, if the app has one. A setting WeCom holds empty (no description, no home
// page) is left out, which the kind reads as "not managed": the spec cannot say "empty".
func (b *builder) app(a *AppSnapshot) {
	if a == nil {
		return
	}
	who := fmt.Sprintf("app %d", a.AgentID)
	id := strconv.FormatInt(a.AgentID, 10)
	tm, om := objectMeta("WeComApp", AppName(a.AgentID, a.Agent.Name), id)
	obj := v1.WeComApp{TypeMeta: tm, ObjectMeta: om}
	s := &obj.Spec
	s.ManagedSpec = b.managed(b.opts.AppConnection)
	g := a.Agent
	s.Name = b.setting(who, "name", g.Name, 1, 32, nil)
	s.Description = b.setting(who, "description", g.Description, 4, 120, nil)
	s.HomeURL = b.setting(who, "homeURL", g.HomeURL, 1, 1024, httpURLPattern)
	s.RedirectDomain = b.setting(who, "redirectDomain", g.RedirectDomain, 1, 253, domainPattern)
	s.ReportLocation = ptr(g.ReportLocationFlag == 1)
	s.ReportEnter = ptr(g.IsReportEnter == 1)
	if len(a.Menu) > 0 {
		buttons, err := specMenu(a.Menu)
		if err != nil {
			b.warn("%s: the menu is not one the spec can hold (%v); left out (not managed)", who, err)
		} else {
			s.Menu = &v1.AppMenu{Buttons: buttons}
		}
	}
	b.m.Apps = append(b.m.Apps, obj)
}

// setting returns v for an optional WeComApp field when it fits the field's limits (characters,
// pattern); nil when it is empty, and nil with a warning when it does not fit. Either way the
// field is then not managed.
func (b *builder) setting(who, field, v string, minLen, maxLen int, pattern *regexp.Regexp) *string {
	if v == "" {
		return nil
	}
	if n := utf8.RuneCountInString(v); n < minLen || n > maxLen || (pattern != nil && !pattern.MatchString(v)) {
		b.warn("%s: %s %q is not valid for spec.%s; left out (not managed)", who, field, v, field)
		return nil
	}
	return &v
}

// keyTypes are the button types that carry a key (view carries a url, view_miniprogram an
// appid and a pagepath).
var keyTypes = map[v1.MenuButtonType]bool{
	v1.MenuClick: true, v1.MenuScanCodePush: true, v1.MenuScanCodeWaitMsg: true, v1.MenuPicSysPhoto: true,
	v1.MenuPicPhotoOrAlbum: true, v1.MenuPicWeixin: true, v1.MenuLocationSelect: true,
}

// specMenu is the menu menu/get returned as spec.menu.buttons, or why the CRD's validation
// would refuse it. It is the inverse of what the operator sends to menu/create, so that the
// object compares equal to the menu it came from.
func specMenu(menu []wecom.MenuButton) ([]v1.MenuButton, error) {
	if len(menu) > wecom.MaxMenuButtons {
		return nil, fmt.Errorf("%d buttons, more than %d", len(menu), wecom.MaxMenuButtons)
	}
	var out []v1.MenuButton
	for i, w := range menu {
		if err := checkButton(w, wecom.MaxMenuNameBytes, len(w.SubButtons) > 0); err != nil {
			return nil, fmt.Errorf("button %d: %w", i+1, err)
		}
		b := v1.MenuButton{Name: w.Name, Type: v1.MenuButtonType(w.Type), Key: w.Key, URL: w.URL, PagePath: w.PagePath, AppID: w.AppID}
		if len(w.SubButtons) > wecom.MaxMenuSubButtons {
			return nil, fmt.Errorf("button %d: %d sub-buttons, more than %d", i+1, len(w.SubButtons), wecom.MaxMenuSubButtons)
		}
		for j, sw := range w.SubButtons {
			if len(sw.SubButtons) > 0 {
				return nil, fmt.Errorf("button %d.%d: a third level of buttons", i+1, j+1)
			}
			if err := checkButton(sw, wecom.MaxMenuSubNameBytes, false); err != nil {
				return nil, fmt.Errorf("button %d.%d: %w", i+1, j+1, err)
			}
			b.SubButtons = append(b.SubButtons, v1.MenuSubButton{Name: sw.Name, Type: v1.MenuButtonType(sw.Type), Key: sw.Key, URL: sw.URL, PagePath: sw.PagePath, AppID: sw.AppID})
		}
		out = append(out, b)
	}
	return out, nil
}

// checkButton applies the CRD's rules for one button: a name of 1 to maxName bytes, then
// either only sub-buttons (subMenu) or a type with exactly the fields it needs.
func checkButton(w wecom.MenuButton, maxName int, subMenu bool) error {
	switch {
	case w.Name == "" || len(w.Name) > maxName:
		return fmt.Errorf("name %q is not 1-%d bytes", w.Name, maxName)
	case subMenu:
		if w.Type != "" || w.Key != "" || w.URL != "" || w.PagePath != "" || w.AppID != "" {
			return fmt.Errorf("%q has sub-buttons and a type or its fields", w.Name)
		}
		return nil
	case !keyTypes[v1.MenuButtonType(w.Type)] && w.Type != string(v1.MenuView) && w.Type != string(v1.MenuViewMiniProgram):
		return fmt.Errorf("%q: type %q", w.Name, w.Type)
	case (w.Key != "") != keyTypes[v1.MenuButtonType(w.Type)] || len(w.Key) > wecom.MaxMenuKeyBytes:
		return fmt.Errorf("%q: key %q for type %s", w.Name, w.Key, w.Type)
	case (w.URL != "") != (w.Type == string(v1.MenuView)) || len(w.URL) > wecom.MaxMenuURLBytes || (w.URL != "" && !httpURLPattern.MatchString(w.URL)):
		return fmt.Errorf("%q: url %q for type %s", w.Name, w.URL, w.Type)
	case (w.AppID != "" && w.PagePath != "") != (w.Type == string(v1.MenuViewMiniProgram)) || (w.AppID == "") != (w.PagePath == "") ||
		len(w.AppID) > 64 || utf8.RuneCountInString(w.PagePath) > 1024:
		return fmt.Errorf("%q: appid %q and pagepath %q for type %s", w.Name, w.AppID, w.PagePath, w.Type)
	}
	return nil
}

func (b *builder) contactWays(ways []wecom.ContactWay) {
	var keep []wecom.ContactWay
	for _, w := range ways {
		who := fmt.Sprintf("contact way %s", w.ConfigID)
		switch {
		case w.IsTemp:
			b.warn("%s: temporary ways cannot be observed (WeCom never lists them); not imported", who)
			continue
		case w.Type == wecom.ContactWaySingle && len(w.User) != 1:
			b.warn("%s: a single way with %d members; not imported", who, len(w.User))
			continue
		case w.Type == wecom.ContactWayMulti && len(w.User)+len(w.Party) == 0:
			b.warn("%s: a multi way with no members or departments; not imported", who)
			continue
		case w.Type != wecom.ContactWaySingle && w.Type != wecom.ContactWayMulti:
			b.warn("%s: unknown type %d; not imported", who, w.Type)
			continue
		case w.Scene != wecom.ContactWaySceneButton && w.Scene != wecom.ContactWaySceneQRCode:
			b.warn("%s: unknown scene %d; not imported", who, w.Scene)
			continue
		}
		keep = append(keep, w)
	}
	keys, names := make([]string, len(keep)), make([]string, len(keep))
	for i, w := range keep {
		keys[i], names[i] = w.ConfigID, ContactWayName(w.ConfigID, w.State, w.Remark)
	}
	names = uniqueNames(keys, names)
	for i, w := range keep {
		who := fmt.Sprintf("contact way %s", w.ConfigID)
		tm, om := objectMeta("ContactWay", names[i], w.ConfigID)
		obj := v1.ContactWay{TypeMeta: tm, ObjectMeta: om}
		s := &obj.Spec
		s.DeletableSpec = b.deletable(b.opts.AppConnection)
		s.Type, s.Scene = v1.ContactWaySingle, v1.ContactWayQRCode
		if w.Type == wecom.ContactWayMulti {
			s.Type = v1.ContactWayMulti
		}
		if w.Scene == wecom.ContactWaySceneButton {
			s.Scene = v1.ContactWayMiniProgram
			maxStyle := 3
			if s.Type == v1.ContactWayMulti {
				maxStyle = 2
			}
			if w.Style >= 1 && w.Style <= maxStyle {
				s.Style = ptr(int32(w.Style))
			}
		}
		s.Remark = b.text(who, "remark", w.Remark, 30, nil)
		s.SkipVerify = ptr(w.SkipVerify)
		s.State = b.text(who, "state", w.State, 30, nil)
		if s.State == "" {
			b.warn("%s has no state: the operator marks its ways with one, so the object will show state as drift until Update is allowed", who)
		}
		s.Users = sortedUnique(w.User)
		if s.Type == v1.ContactWayMulti {
			for _, p := range w.Party {
				s.Parties = append(s.Parties, int64(p))
			}
			slices.Sort(s.Parties)
			s.Parties = slices.Compact(s.Parties)
		}
		s.Exclusive = w.IsExclusive
		b.m.ContactWays = append(b.m.ContactWays, obj)
	}
}

// calendarPermissions maps WeCom's shares[].permission to spec.shares[].permission (0 is
// WeCom's default, view).
var calendarPermissions = map[int]v1.CalendarPermission{0: v1.CalendarView, 1: v1.CalendarView, 3: v1.CalendarFreeBusy}

func (b *builder) calendars(cals []wecom.Calendar) {
	keys, names := make([]string, len(cals)), make([]string, len(cals))
	for i, c := range cals {
		keys[i], names[i] = c.CalID, CalendarName(c.CalID, c.Summary)
	}
	names = uniqueNames(keys, names)
	for i, c := range cals {
		if obj, ok := b.calendar(c, names[i]); ok {
			b.m.Calendars = append(b.m.Calendars, obj)
			b.calNames[c.CalID] = names[i]
		}
	}
}

// calendar is the WeComCalendar of c: every field oa/calendar/get returned that the spec has.
// Shares and admins are userids (the kind has no refs), sorted without case. setAsDefault
// stays false: WeCom does not say which calendar is the default, and the operator never
// compares it. A calendar the spec cannot hold is left out, and its Schedules keep
// spec.calendarID.
func (b *builder) calendar(c wecom.Calendar, name string) (v1.WeComCalendar, bool) {
	who := fmt.Sprintf("calendar %s (%q)", c.CalID, c.Summary)
	const notImported = "; not imported as a WeComCalendar, its Schedules keep spec.calendarID"
	tm, om := objectMeta("WeComCalendar", name, c.CalID)
	obj := v1.WeComCalendar{TypeMeta: tm, ObjectMeta: om}
	s := &obj.Spec
	s.DeletableSpec = b.deletable(b.opts.AppConnection)
	switch n := utf8.RuneCountInString(c.Summary); {
	case c.IsCorpCalendar == 1:
		b.warn("%s: a corp calendar (is_corp_calendar), which a WeComCalendar does not hold%s", who, notImported)
		return obj, false
	case n < 1 || n > 128:
		b.warn("%s: the summary is not 1-128 characters%s", who, notImported)
		return obj, false
	case !colorPattern.MatchString(c.Color):
		b.warn("%s: color %q is not #RRGGBB%s", who, c.Color, notImported)
		return obj, false
	}
	s.Summary, s.Color = c.Summary, c.Color
	s.Description = b.text(who, "description", c.Description, 512, nil)

	seen := map[string]bool{}
	for _, sh := range c.Shares {
		k := strings.ToLower(sh.UserID)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		p, ok := calendarPermissions[sh.Permission]
		switch {
		case len(sh.UserID) > 64:
			b.warn("%s: share %q is not a valid userid for spec.shares; left out (the object will show it as drift)", who, sh.UserID)
			continue
		case !ok:
			b.warn("%s: share %q has permission %d, which the spec cannot hold; left out (the object will show it as drift)", who, sh.UserID, sh.Permission)
			continue
		}
		s.Shares = append(s.Shares, v1.CalendarShare{UserID: sh.UserID, Permission: p})
	}
	if len(s.Shares) > v1.MaxCalendarShares {
		b.warn("%s: %d shares, more than the spec's %d%s", who, len(s.Shares), v1.MaxCalendarShares, notImported)
		return obj, false
	}
	slices.SortFunc(s.Shares, func(x, y v1.CalendarShare) int { return compareFold(x.UserID, y.UserID) })
	for _, a := range uniqueFold(c.Admins) {
		i := slices.IndexFunc(s.Shares, func(sh v1.CalendarShare) bool { return strings.EqualFold(sh.UserID, a) })
		if i < 0 {
			b.warn("%s: admin %q is not among the shares, as the spec requires; left out (the object will show it as drift)", who, a)
			continue
		}
		s.Admins = append(s.Admins, s.Shares[i].UserID) // spelt as among the shares
	}
	if len(s.Admins) > v1.MaxCalendarAdmins {
		b.warn("%s: %d admins, more than the spec's %d; the first %d are kept", who, len(s.Admins), v1.MaxCalendarAdmins, v1.MaxCalendarAdmins)
		s.Admins = s.Admins[:v1.MaxCalendarAdmins]
	}

	if c.IsPublic == 1 {
		s.Public = true
		r := &v1.CalendarPublicRange{}
		if pr := c.PublicRange; pr != nil {
			r.UserIDs = uniqueFold(pr.UserIDs)
			for _, p := range sortedUnique(pr.PartyIDs) {
				r.DepartmentIDs = append(r.DepartmentIDs, int64(p))
			}
		}
		switch {
		case len(r.UserIDs) > v1.MaxCalendarPublicUsers || len(r.DepartmentIDs) > v1.MaxCalendarPublicParties:
			b.warn("%s: a public range of %d members and %d departments, more than the spec's %d and %d%s",
				who, len(r.UserIDs), len(r.DepartmentIDs), v1.MaxCalendarPublicUsers, v1.MaxCalendarPublicParties, notImported)
			return obj, false
		case slices.ContainsFunc(r.UserIDs, func(u string) bool { return len(u) > 64 }) || slices.ContainsFunc(r.DepartmentIDs, func(d int64) bool { return d < 1 }):
			b.warn("%s: the public range holds a userid or department id the spec cannot hold%s", who, notImported)
			return obj, false
		}
		s.PublicRange = r
	}
	return obj, true
}

// compareFold orders userids without case, as WeCom compares them.
func compareFold(x, y string) int { return strings.Compare(strings.ToLower(x), strings.ToLower(y)) }

// uniqueFold is in without empty strings and without repeats in another case (the first
// spelling stays), sorted without case.
func uniqueFold(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if k := strings.ToLower(s); s != "" && !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	slices.SortFunc(out, compareFold)
	return out
}

// remindBefore maps remind_time_diffs back to spec.reminders.before.
var remindBefore = map[int]v1.RemindBefore{
	0: "0s", -300: "5m", -900: "15m", -3600: "1h", -86400: "24h", -172800: "48h", -604800: "168h", 32400: "OnTheDayAt9",
}

// remindWholeDayOnly are the reminders the API allows only for whole-day schedules.
var remindWholeDayOnly = map[v1.RemindBefore]bool{"48h": true, "168h": true, "OnTheDayAt9": true}

var repeatTypes = map[int]v1.RepeatType{
	wecom.RepeatDaily: v1.RepeatDaily, wecom.RepeatWeekly: v1.RepeatWeekly, wecom.RepeatMonthly: v1.RepeatMonthly,
	wecom.RepeatYearly: v1.RepeatYearly, wecom.RepeatWorkdays: v1.RepeatWorkdays,
}

func (b *builder) schedules(list []CalendarSchedule) {
	keys, names := make([]string, len(list)), make([]string, len(list))
	for i, cs := range list {
		keys[i], names[i] = cs.Schedule.ScheduleID, ScheduleName(cs.Schedule.ScheduleID, cs.Schedule.Summary)
	}
	names = uniqueNames(keys, names)
	for i, cs := range list {
		if obj, ok := b.schedule(cs, names[i]); ok {
			b.m.Schedules = append(b.m.Schedules, obj)
		}
	}
}

func (b *builder) schedule(cs CalendarSchedule, name string) (v1.Schedule, bool) {
	sc := cs.Schedule
	who := fmt.Sprintf("schedule %s", sc.ScheduleID)
	tm, om := objectMeta("Schedule", name, sc.ScheduleID)
	obj := v1.Schedule{TypeMeta: tm, ObjectMeta: om}
	s := &obj.Spec
	s.DeletableSpec = b.deletable(b.opts.AppConnection)
	if cs.Calendar.Pinned {
		if ref, ok := b.calNames[cs.Calendar.ID]; ok {
			s.CalendarRef = &v1.LocalObjectReference{Name: ref}
		} else {
			s.CalendarID = cs.Calendar.ID // not imported as a WeComCalendar: see the warnings
		}
	}
	if sc.EndTime <= sc.StartTime {
		b.warn("%s: ends before it starts; not imported", who)
		return obj, false
	}
	s.Summary = b.text(who, "summary", sc.Summary, 128, nil)
	s.Description = b.text(who, "description", sc.Description, 1000, nil)
	s.Location = b.text(who, "location", sc.Location, 128, nil)
	s.Start = metav1.NewTime(time.Unix(sc.StartTime, 0).UTC())
	s.End = metav1.NewTime(time.Unix(sc.EndTime, 0).UTC())
	s.WholeDay = sc.IsWholeDay == 1
	for _, a := range sc.Attendees {
		s.Attendees = append(s.Attendees, a.UserID)
	}
	s.Attendees = sortedUnique(s.Attendees)
	for _, a := range sortedUnique(sc.Admins) {
		attendee, ok := findFold(s.Attendees, a)
		if !ok {
			b.warn("%s: admin %q is not an attendee, as the spec requires; left out", who, a)
			continue
		}
		s.Admins = append(s.Admins, attendee) // spelt as among the attendees, which the API compares exactly
	}
	if len(s.Admins) > 3 {
		b.warn("%s: %d admins, more than the spec's 3; the first 3 are kept", who, len(s.Admins))
		s.Admins = s.Admins[:3]
	}
	r := sc.Reminders
	if r == nil {
		r = &wecom.Reminders{}
	}
	rem := &v1.ScheduleReminders{}
	if r.IsRemind == 1 {
		diffs := r.RemindTimeDiffs
		if len(diffs) == 0 {
			// The older field; WeCom's default for it is 0 (at the start).
			secs := 0
			if r.RemindBeforeEventSecs != nil {
				secs = *r.RemindBeforeEventSecs
			}
			diffs = []int{-secs}
		}
		for _, d := range sortedUnique(diffs) {
			before, ok := remindBefore[d]
			if !ok || (remindWholeDayOnly[before] && !s.WholeDay) {
				b.warn("%s: reminder %d s from the start is not one the spec can hold; left out", who, d)
				continue
			}
			rem.Before = append(rem.Before, before)
		}
	}
	tz := wecom.DefaultTimezone
	if r.Timezone != nil {
		tz = *r.Timezone
	}
	if len(rem.Before) > 0 || tz != wecom.DefaultTimezone {
		rem.Timezone = ptr(int32(tz))
		s.Reminders = rem
	}
	if r.IsRepeat == 1 {
		rt := wecom.RepeatDaily
		if r.RepeatType != nil {
			rt = *r.RepeatType
		}
		t, ok := repeatTypes[rt]
		if !ok {
			b.warn("%s: repeat type %d is not one the spec can hold; not imported", who, rt)
			return obj, false
		}
		rep := &v1.ScheduleRepeat{Type: t}
		if r.RepeatUntil != 0 {
			rep.Until = ptr(metav1.NewTime(time.Unix(r.RepeatUntil, 0).UTC()))
		}
		if r.IsCustomRepeat == 1 {
			rep.Interval = ptr(int32(max(r.RepeatInterval, 1)))
			if t == v1.RepeatWeekly {
				rep.DaysOfWeek = int32s(r.RepeatDayOfWeek)
			}
			if t == v1.RepeatMonthly {
				rep.DaysOfMonth = int32s(r.RepeatDayOfMonth)
			}
		}
		s.Repeat = rep
	}
	return obj, true
}

func (b *builder) chats(chats []wecom.AppChat) {
	keys, names := make([]string, len(chats)), make([]string, len(chats))
	for i, c := range chats {
		keys[i], names[i] = c.ChatID, ChatName(c.ChatID)
	}
	names = uniqueNames(keys, names)
	for i, c := range chats {
		who := fmt.Sprintf("app chat %s", c.ChatID)
		members := sortedUnique(c.UserList)
		if len(members) < 2 {
			b.warn("%s: %d members, fewer than the spec's 2; not imported", who, len(members))
			continue
		}
		tm, om := objectMeta("WeComAppChat", names[i], c.ChatID)
		obj := v1.WeComAppChat{TypeMeta: tm, ObjectMeta: om}
		s := &obj.Spec
		s.ManagedSpec = b.managed(b.opts.AppConnection)
		if chatIDPattern.MatchString(c.ChatID) {
			s.ChatID = c.ChatID
		}
		s.Name = b.text(who, "name", c.Name, 50, nil)
		if owner, ok := findFold(members, c.Owner); ok && c.Owner != "" {
			s.Owner = owner // spelt as among the members, which the API compares exactly
		}
		s.Members = members
		b.m.AppChats = append(b.m.AppChats, obj)
	}
}

func sortedUnique[T interface{ ~int | ~string }](in []T) []T {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// findFold returns the entry of list equal to s without case.
func findFold(list []string, s string) (string, bool) {
	i := slices.IndexFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
	if i < 0 {
		return "", false
	}
	return list[i], true
}

func int32s(in []int) []int32 {
	var out []int32
	for _, v := range sortedUnique(in) {
		out = append(out, int32(v))
	}
	return out
}

func ptr[T any](v T) *T { return &v }
