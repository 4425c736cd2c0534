package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	line := strings.Repeat("a", 99) + "\n" // 100 bytes
	han := strings.Repeat("告警", 400)       // 2400 bytes, no line break
	tests := []struct {
		name      string
		in        string
		limit     int
		want      string
		truncated bool
	}{
		{"fits", "hello", 10, "hello", false},
		{"exactly the limit", strings.Repeat("x", 2048), 2048, strings.Repeat("x", 2048), false},
		{"cut at the last line that fits", strings.Repeat(line, 30), 2048,
			strings.TrimRight(strings.Repeat(line, 20), "\n") + TruncationMarker, true},
		{"one long line of Chinese: cut between characters", han, 2048,
			han[:(2048-len(TruncationMarker))/3*3] + TruncationMarker, true},
		{"marker alone does not fit", "abcdefghijklmnopqrstuvwxyz", 5, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := Truncate(tt.in, tt.limit)
			if got != tt.want || cut != tt.truncated {
				t.Errorf("Truncate() = %q (%d bytes), %v; want %q (%d bytes), %v", tail(got), len(got), cut, tail(tt.want), len(tt.want), tt.truncated)
			}
			if len(got) > tt.limit {
				t.Errorf("result is %d bytes, over the limit %d", len(got), tt.limit)
			}
			if !utf8.ValidString(got) {
				t.Errorf("result is not valid UTF-8")
			}
		})
	}
}

// TestTruncateAnyInput checks the invariants on many shapes of input.
func TestTruncateAnyInput(t *testing.T) {
	pieces := []string{"a", "告", "😀", "\n", " ", "é", "<font color=\"warning\">x</font>"}
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		for i := 0; b.Len() < 1500+n; i++ {
			b.WriteString(pieces[(i*7+n)%len(pieces)])
		}
		s := b.String()
		for _, limit := range []int{100, 2048, 4096} {
			got, cut := Truncate(s, limit)
			if len(got) > limit || !utf8.ValidString(got) || cut != (len(s) > limit) {
				t.Fatalf("n=%d limit=%d: %d bytes, valid=%v, cut=%v", n, limit, len(got), utf8.ValidString(got), cut)
			}
			if cut && (!strings.HasSuffix(got, TruncationMarker) || !strings.HasPrefix(s, strings.TrimSuffix(got, TruncationMarker))) {
				t.Fatalf("n=%d limit=%d: not a prefix plus the marker", n, limit)
			}
		}
	}
}

func tail(s string) string {
	if len(s) > 40 {
		return "…" + s[len(s)-40:]
	}
	return s
}
