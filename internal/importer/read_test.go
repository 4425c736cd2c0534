package importer

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wecom-dev/wecom-operator/internal/wecom"
)

// calendarReader answers oa/calendar/get as WeCom does (the whole call fails for one id it
// will not return), and every calendar has no schedules.
type calendarReader struct {
	AppReader // nil: only GetCalendars and GetSchedulesByCalendar are called
	known     map[string]bool
	calls     [][]string
	fail      error // returned by every call when set
}

func (r *calendarReader) GetSchedulesByCalendar(context.Context, string, int, int) ([]wecom.Schedule, error) {
	return nil, nil
}

func (r *calendarReader) GetCalendars(_ context.Context, ids []string) ([]wecom.Calendar, error) {
	r.calls = append(r.calls, slices.Clone(ids))
	if r.fail != nil {
		return nil, r.fail
	}
	var out []wecom.Calendar
	for _, id := range ids {
		if !r.known[id] {
			return nil, &wecom.APIError{Code: wecom.ErrCodeInvalidCalendarID, Message: "invalid cal_id", API: "oa/calendar/get"}
		}
		out = append(out, wecom.Calendar{CalID: id, Summary: id, Color: "#000000"})
	}
	return out, nil
}

func TestReadCalendars(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("cal%04d", i)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		cals      []Calendar
		unknown   []string
		fail      error
		wantCalls []int // ids per call
		wantRead  int
		wantWarn  []string
		wantErr   string
	}{
		{name: "the connection's calendar alone is not read", cals: []Calendar{{ID: "own"}}},
		{name: "one call for every pinned calendar", cals: []Calendar{{ID: "own"}, {ID: "a", Pinned: true}, {ID: "b", Pinned: true}},
			wantCalls: []int{2}, wantRead: 2},
		{name: "1000 ids a call", cals: pinned(ids(1001)), wantCalls: []int{1000, 1}, wantRead: 1001},
		{name: "a repeated --calendar is read once", cals: []Calendar{{ID: "a", Pinned: true}, {ID: "a", Pinned: true}}, wantCalls: []int{1}, wantRead: 1},
		{name: "the connection's calendar named with --calendar stays the connection's", cals: []Calendar{{ID: "own"}, {ID: "own", Pinned: true}, {ID: "a", Pinned: true}},
			wantCalls: []int{1}, wantRead: 1, wantWarn: []string{"calendar own (--calendar) is the app connection's own calendar"}},
		{name: "a refused batch is read one by one", cals: pinned([]string{"a", "gone", "b"}), unknown: []string{"gone"},
			wantCalls: []int{3, 1, 1, 1}, wantRead: 2, wantWarn: []string{"calendar gone: oa/calendar/get refused it"}},
		{name: "a refused single id", cals: pinned([]string{"gone"}), unknown: []string{"gone"}, wantCalls: []int{1},
			wantWarn: []string{"calendar gone: oa/calendar/get refused it"}},
		{name: "an error a retry could fix fails the import", cals: pinned([]string{"a"}), fail: &wecom.APIError{Code: wecom.ErrCodeSystemBusy, API: "oa/calendar/get"},
			wantCalls: []int{1}, wantErr: "reading 1 calendar (oa/calendar/get)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &calendarReader{known: map[string]bool{}, fail: tc.fail}
			for _, c := range tc.cals {
				r.known[c.ID] = !slices.Contains(tc.unknown, c.ID)
			}
			var progress bytes.Buffer
			snap, err := Read(context.Background(), ReadOptions{App: r, Calendars: tc.cals, Progress: NewProgress(&progress, false)})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, c := range r.calls {
				sizes = append(sizes, len(c))
			}
			if diff := cmp.Diff(tc.wantCalls, sizes); diff != "" {
				t.Errorf("ids per oa/calendar/get call (-want +got):\n%s", diff)
			}
			if len(snap.Calendars) != tc.wantRead || !slices.IsSortedFunc(snap.Calendars, func(a, b wecom.Calendar) int { return strings.Compare(a.CalID, b.CalID) }) {
				t.Errorf("read %d calendars, want %d, sorted by cal_id", len(snap.Calendars), tc.wantRead)
			}
			if len(snap.Warnings) != len(tc.wantWarn) {
				t.Errorf("warnings %q, want %q", snap.Warnings, tc.wantWarn)
			}
			for _, w := range tc.wantWarn {
				if !slices.ContainsFunc(snap.Warnings, func(s string) bool { return strings.HasPrefix(s, w) }) {
					t.Errorf("no warning %q in %q", w, snap.Warnings)
				}
			}
			if tc.wantRead > 0 && !strings.Contains(progress.String(), fmt.Sprintf("calendars: %d of ", tc.wantRead)) {
				t.Errorf("progress:\n%s", progress.String())
			}
		})
	}
}

func pinned(ids []string) []Calendar {
	out := make([]Calendar, len(ids))
	for i, id := range ids {
		out[i] = Calendar{ID: id, Pinned: true}
	}
	return out
}
