package wecomsim

import (
	"strings"
	"testing"
)

// addGroup adds the group "g" with tags "a" (order 1) and "b" (order 2) with the operator app
// and returns the group's and the tags' ids.
func addGroup(e *env) (group, a, b string) {
	m := e.post(e.app, "externalcontact/add_corp_tag", `{"group_name":"g","order":5,"tag":[{"name":"a","order":1},{"name":"b","order":2}]}`)
	e.wantCode(m, 0)
	g := m["tag_group"].(map[string]any)
	tags := g["tag"].([]any)
	return g["group_id"].(string), tags[0].(map[string]any)["id"].(string), tags[1].(map[string]any)["id"].(string)
}

func TestValidationCorpTags(t *testing.T) {
	withGroup := func(e *env) { addGroup(e) }
	runRules(t, []rule{
		{name: "add ok", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"客户等级","order":1,"tag":[{"name":"一般","order":1},{"name":"重要","order":2}]}`, want: 0},
		{name: "add order as a string", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","order":"7","tag":[{"name":"a","order":"1"}]}`, want: 0},
		{name: "add agentid ignored", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":[{"name":"a"}],"agentid":1000002}`, want: 0},
		{name: "add repeated name in one call makes one", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":[{"name":"a"},{"name":"a"}]}`, want: 0},
		{name: "add without permission", tok: "lim", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":[{"name":"a"}]}`, want: 48002},
		{name: "add without tags", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g"}`, want: 41018},
		{name: "add tag null", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":null}`, want: 41018},
		{name: "add empty tag list", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":[]}`, want: 41018},
		{name: "add tag without name", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":[{"order":1}]}`, want: 41018},
		{name: "add without group", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"tag":[{"name":"a"}]}`, want: 41018},
		{name: "add group_id empty string", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_id":"","group_name":"g","tag":[{"name":"a"}]}`, want: 40068},
		{name: "add unknown group_id", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_id":"etnope","tag":[{"name":"a"}]}`, want: 40068},
		{name: "add group name 31 characters", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"` + repeatStr("组", 31) + `","tag":[{"name":"a"}]}`, want: 40058},
		{name: "add tag name 30 characters ok", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":[{"name":"` + repeatStr("标", 30) + `"}]}`, want: 0},
		{name: "add tag name 31 characters", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":[{"name":"` + repeatStr("标", 31) + `"}]}`, want: 40058},
		{name: "add negative order", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":[{"name":"a","order":-1}]}`, want: 40058},
		{name: "add order 2^32", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":[{"name":"a","order":4294967296}]}`, want: 40058},
		{name: "add order 2^32-1 ok", tok: "app", endpoint: "externalcontact/add_corp_tag", body: `{"group_name":"g","tag":[{"name":"a","order":4294967295}]}`, want: 0},
		{name: "add a name the group has", tok: "app", endpoint: "externalcontact/add_corp_tag", setup: withGroup, body: `{"group_name":"g","tag":[{"name":"a"}]}`, want: 40071},
		{name: "add to the group of that name ok", tok: "app", endpoint: "externalcontact/add_corp_tag", setup: withGroup, body: `{"group_name":"g","tag":[{"name":"c"}]}`, want: 0},
		{name: "edit without id", tok: "app", endpoint: "externalcontact/edit_corp_tag", body: `{"name":"x"}`, want: 40068},
		{name: "edit unknown id", tok: "app", endpoint: "externalcontact/edit_corp_tag", body: `{"id":"etnope","name":"x"}`, want: 40068},
		{name: "edit name 31 characters", tok: "app", endpoint: "externalcontact/edit_corp_tag", setup: withGroup, body: `{"id":"etnope","name":"` + repeatStr("标", 31) + `"}`, want: 40058},
		{name: "del both empty", tok: "app", endpoint: "externalcontact/del_corp_tag", body: `{"tag_id":[],"group_id":[]}`, want: 40068},
		{name: "del both null", tok: "app", endpoint: "externalcontact/del_corp_tag", body: `{"tag_id":null,"group_id":null}`, want: 40068},
		{name: "del unknown", tok: "app", endpoint: "externalcontact/del_corp_tag", body: `{"tag_id":["etnope"]}`, want: 40068},
		{name: "list all ok", tok: "app", endpoint: "externalcontact/get_corp_tag_list", body: `{}`, want: 0},
		{name: "list with null filters ok", tok: "app", endpoint: "externalcontact/get_corp_tag_list", body: `{"tag_id":null,"group_id":null}`, want: 0},
		{name: "list without permission", tok: "lim", endpoint: "externalcontact/get_corp_tag_list", body: `{}`, want: 48002},
	})
}

func TestCorpTags(t *testing.T) {
	e := newEnv(t)
	group, a, b := addGroup(e)
	if !strings.HasPrefix(group, "et") || !strings.HasPrefix(a, "et") {
		t.Fatalf("ids %q %q: want opaque et… strings", group, a)
	}
	other := e.post(e.app, "externalcontact/add_corp_tag", `{"group_name":"h","order":9,"tag":[{"name":"x"}]}`)
	e.wantCode(other, 0)

	// A larger order sorts first, groups and tags alike.
	list := e.post(e.app, "externalcontact/get_corp_tag_list", `{}`)
	groups := list["tag_group"].([]any)
	if len(groups) != 2 || groups[0].(map[string]any)["group_name"] != "h" {
		t.Fatalf("groups %v: want h (order 9) before g (order 5)", groups)
	}
	g := groups[1].(map[string]any)
	if tags := g["tag"].([]any); tags[0].(map[string]any)["name"] != "b" {
		t.Fatalf("tags %v: want b (order 2) first", tags)
	}
	if _, ok := g["deleted"]; ok {
		t.Fatal("deleted on a group of an unfiltered list")
	}

	// group_id filters and tag_id is then ignored; tag_id alone picks tags inside their group.
	byGroup := e.post(e.app, "externalcontact/get_corp_tag_list", `{"group_id":["`+group+`"],"tag_id":["`+a+`"]}`)["tag_group"].([]any)
	if len(byGroup) != 1 || len(byGroup[0].(map[string]any)["tag"].([]any)) != 2 {
		t.Fatalf("by group: %v", byGroup)
	}
	byTag := e.post(e.app, "externalcontact/get_corp_tag_list", `{"tag_id":["`+a+`"]}`)["tag_group"].([]any)
	if len(byTag) != 1 || len(byTag[0].(map[string]any)["tag"].([]any)) != 1 || byTag[0].(map[string]any)["deleted"] != false {
		t.Fatalf("by tag: %v", byTag)
	}

	// Edits: names clash within a group (tags) and among groups; order 0 is a value.
	e.wantCode(e.post(e.app, "externalcontact/edit_corp_tag", `{"id":"`+a+`","name":"b"}`), 40071)
	e.wantCode(e.post(e.app, "externalcontact/edit_corp_tag", `{"id":"`+group+`","name":"h"}`), 40071)
	e.wantCode(e.post(e.app, "externalcontact/edit_corp_tag", `{"id":"`+a+`","name":"a2","order":"0"}`), 0)
	e.wantCode(e.post(e.app, "externalcontact/edit_corp_tag", `{"id":"`+group+`","name":"","order":3}`), 0)
	st, _ := e.srv.State().CorpTagGroup(group)
	if st.Name != "g" || st.Order != 3 || st.Tags[0].Name != "a2" || st.Tags[0].Order != 0 {
		t.Fatalf("after edits: %+v", st)
	}

	// Another app edits and deletes only what it made (301002).
	second := e.secondApp()
	e.wantCode(e.post(second, "externalcontact/edit_corp_tag", `{"id":"`+a+`","name":"z"}`), 301002)
	e.wantCode(e.post(second, "externalcontact/del_corp_tag", `{"group_id":["`+group+`"]}`), 301002)
	added := e.post(second, "externalcontact/add_corp_tag", `{"group_id":"`+group+`","tag":[{"name":"mine"}]}`)
	e.wantCode(added, 0)
	mine := added["tag_group"].(map[string]any)["tag"].([]any)[0].(map[string]any)["id"].(string)
	e.wantCode(e.post(second, "externalcontact/del_corp_tag", `{"tag_id":["`+mine+`"]}`), 0)

	// Deleting the last tags of a group deletes the group.
	e.wantCode(e.post(e.app, "externalcontact/del_corp_tag", `{"tag_id":["`+a+`","`+b+`"]}`), 0)
	if _, ok := e.srv.State().CorpTagGroup(group); ok {
		t.Fatal("a group without tags was kept")
	}
	e.wantCode(e.post(e.app, "externalcontact/edit_corp_tag", `{"id":"`+group+`","name":"x"}`), 40068)
}
