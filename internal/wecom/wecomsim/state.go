package wecomsim

import (
	"cmp"
	"slices"
)

func sortStrings(v []string) { slices.Sort(v) }

// State returns a deep copy of the simulator's objects.
func (s *Sim) State() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{Now: s.Now(), Corp: s.corp}
	for _, a := range s.apps {
		snap.Apps = append(snap.Apps, a.info())
	}
	leaders := s.leaderIndex()
	for _, d := range s.subtree(rootDeptID) {
		cp := *d
		cp.Leaders = slices.Clone(leaders[d.ID])
		snap.Departments = append(snap.Departments, cp)
	}
	for _, u := range s.sortedUsers() {
		cp := u.clone()
		cp.Status = u.status()
		snap.Users = append(snap.Users, cp)
	}
	tagIDs := make([]int64, 0, len(s.tags))
	for id := range s.tags {
		tagIDs = append(tagIDs, id)
	}
	slices.Sort(tagIDs)
	for _, id := range tagIDs {
		snap.Tags = append(snap.Tags, s.tags[id].clone())
	}
	robots := make([]Robot, 0, len(s.robots))
	for _, r := range s.robots {
		robots = append(robots, robotInfo(r))
	}
	slices.SortFunc(robots, func(a, b Robot) int { return cmp.Compare(a.Name, b.Name) })
	snap.Robots = robots
	for _, ch := range s.sortedChats() {
		snap.Chats = append(snap.Chats, ch.clone())
	}
	for _, w := range s.sortedWays() {
		snap.ContactWays = append(snap.ContactWays, w.clone())
	}
	for _, cal := range s.sortedCalendars() {
		snap.Calendars = append(snap.Calendars, cal.clone())
	}
	for _, sc := range s.sortedSchedules() {
		snap.Schedules = append(snap.Schedules, sc.clone())
	}
	s.settleTransfers(s.Now())
	for _, ch := range s.sortedGroupChats() {
		cp := *ch
		cp.Transfers = slices.Clone(ch.Transfers)
		snap.CustomerGroupChats = append(snap.CustomerGroupChats, cp)
	}
	for _, t := range s.transfers {
		snap.CustomerTransfers = append(snap.CustomerTransfers, *t)
	}
	for _, c := range s.externals {
		snap.ExternalContacts = append(snap.ExternalContacts, *c)
	}
	for _, m := range s.welcomes {
		snap.WelcomeMessages = append(snap.WelcomeMessages, m.clone())
	}
	snap.Cards = s.cardStatesLocked()
	for _, g := range sortedBySeq(s.corpTagGroups, func(g *CorpTagGroup) int64 { return g.seq }) {
		snap.CorpTagGroups = append(snap.CorpTagGroups, g.clone())
	}
	for _, t := range sortedBySeq(s.welcomeTemplates, func(t *GroupWelcomeTemplate) int64 { return t.seq }) {
		snap.WelcomeTemplates = append(snap.WelcomeTemplates, t.clone())
	}
	return snap
}

// sortedBySeq returns m's values in the order they were stored.
func sortedBySeq[K comparable, V any](m map[K]V, seq func(V) int64) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b V) int { return cmp.Compare(seq(a), seq(b)) })
	return out
}
